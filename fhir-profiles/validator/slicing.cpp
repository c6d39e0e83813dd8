// Slicing (FHIR R4 §5.1.0.12 discriminators), fixed/pattern values (§5.1.0.7) and required
// bindings (§4.1.0.2) for the structure walk.

#include <cstdlib>
#include <string>

#include "fhir-profiles/validator/primitives.h"
#include "fhir-profiles/validator/walker.h"

namespace fhirbridge::validator {

namespace {

std::string_view Str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// The values at a dotted relative path ("coding.code"), arrays flattened.
void Collect(const rapidjson::Value& v, std::string_view path,
             std::vector<const rapidjson::Value*>& out) {
  if (v.IsArray()) {
    for (const auto& x : v.GetArray()) Collect(x, path, out);
    return;
  }
  if (path.empty() || path == "$this") {
    out.push_back(&v);
    return;
  }
  if (!v.IsObject()) return;
  std::size_t dot = path.find('.');
  std::string head(path.substr(0, dot));
  std::string_view rest = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  auto it = v.FindMember(head.c_str());
  if (it != v.MemberEnd()) {
    Collect(it->value, rest, out);
    return;
  }
  // value[x] style names: find a member that starts with the name.
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    std::string_view k(m->name.GetString(), m->name.GetStringLength());
    if (k.size() > head.size() && k.compare(0, head.size(), head) == 0 && k[head.size()] >= 'A' &&
        k[head.size()] <= 'Z')
      Collect(m->value, rest, out);
  }
}

bool MatchesAny(const std::vector<const rapidjson::Value*>& values, const rapidjson::Value& want,
                bool pattern) {
  for (const rapidjson::Value* v : values)
    if (pattern ? JsonMatchesPattern(want, *v) : JsonEquals(want, *v)) return true;
  return false;
}

bool NumbersEqual(const rapidjson::Value& a, const rapidjson::Value& b) {
  if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
  return a.GetDouble() == b.GetDouble();
}

}  // namespace

bool JsonEquals(const rapidjson::Value& a, const rapidjson::Value& b) {
  if (a.IsNumber() && b.IsNumber()) return NumbersEqual(a, b);
  if (a.GetType() != b.GetType()) return false;
  if (a.IsString())
    return a.GetStringLength() == b.GetStringLength() &&
           std::string_view(a.GetString(), a.GetStringLength()) ==
               std::string_view(b.GetString(), b.GetStringLength());
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
      if (!JsonEquals(a[i], b[i])) return false;
    return true;
  }
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    for (auto m = a.MemberBegin(); m != a.MemberEnd(); ++m) {
      auto o = b.FindMember(m->name);
      if (o == b.MemberEnd() || !JsonEquals(m->value, o->value)) return false;
    }
    return true;
  }
  return a == b;
}

bool JsonMatchesPattern(const rapidjson::Value& pattern, const rapidjson::Value& value) {
  if (pattern.IsObject()) {
    if (!value.IsObject()) return false;
    for (auto m = pattern.MemberBegin(); m != pattern.MemberEnd(); ++m) {
      auto o = value.FindMember(m->name);
      if (o == value.MemberEnd() || !JsonMatchesPattern(m->value, o->value)) return false;
    }
    return true;
  }
  if (pattern.IsArray()) {
    if (!value.IsArray()) return false;
    for (const auto& p : pattern.GetArray()) {
      bool found = false;
      for (const auto& v : value.GetArray())
        if (JsonMatchesPattern(p, v)) {
          found = true;
          break;
        }
      if (!found) return false;
    }
    return true;
  }
  return JsonEquals(pattern, value);
}

bool Walker::MatchesSlice(const rapidjson::Value& item, std::string_view type,
                          const Slicing& slicing, const ElementNode& slice) {
  if (slicing.discriminators.empty()) return false;
  for (std::size_t di = 0; di < slicing.discriminators.size(); ++di) {
    const Discriminator& d = slicing.discriminators[di];
    const ElementNode* target =
        di < slice.discriminator_nodes.size() ? slice.discriminator_nodes[di] : nullptr;
    switch (d.kind) {
      case Discriminator::Kind::kType: {
        if (d.path != "$this" && !d.path.empty()) {
          std::vector<const rapidjson::Value*> values;
          Collect(item, d.path, values);
          bool ok = false;
          for (const rapidjson::Value* v : values)
            for (const TypeRef& t : slice.types)
              if (Str(*v, "resourceType") == t.code) ok = true;
          if (!ok) return false;
          break;
        }
        if (slice.FindType(type) == nullptr) return false;
        break;
      }
      case Discriminator::Kind::kExists: {
        std::vector<const rapidjson::Value*> values;
        Collect(item, d.path, values);
        const ElementNode* n = target;
        if (n == nullptr) return false;
        if (n->min > 0 && values.empty()) return false;
        if (n->max == 0 && !values.empty()) return false;
        break;
      }
      case Discriminator::Kind::kProfile: {
        // Conformance to the slice's type profile, checked by a silent sub-walk.
        const ElementNode* n = target;
        if (n == nullptr) return false;
        if (n->types.empty() || n->types[0].profiles.empty()) break;  // nothing to conform to
        const Structure* p = validator_.ForUrl(n->types[0].profiles[0]);
        if (p == nullptr) return false;
        std::vector<const rapidjson::Value*> values;
        Collect(item, d.path == "$this" ? "" : d.path, values);
        bool ok = false;
        if (values.empty() && n->min == 0) ok = true;
        for (const rapidjson::Value* v : values) {
          DataIssues scratch;
          Walker sub(validator_, options_, scratch);
          sub.frames_ = frames_;
          sub.root_ = root_;
          if (v->IsObject() && v->HasMember("resourceType")) {
            sub.Resource(*v, Location(), {p->url});
          } else if (v->IsObject()) {
            sub.Members(*v, *p->root, false);
            sub.Invariants(*p->root, *v);
          } else {
            continue;
          }
          bool errors = false;
          for (const DataIssue& i : scratch)
            if (i.severity == DataIssue::Severity::kError) errors = true;
          if (!errors) ok = true;
        }
        if (!ok) return false;
        break;
      }
      case Discriminator::Kind::kValue:
      case Discriminator::Kind::kPattern: {
        const ElementNode* n = target;
        const rapidjson::Value* want = nullptr;
        bool pattern = false;
        if (n) {
          want = n->fixed ? n->fixed : n->pattern;
          pattern = n->fixed == nullptr;
        }
        std::vector<const rapidjson::Value*> values;
        Collect(item, d.path, values);
        if (want == nullptr) {
          // Extensions are sliced by url: the slice's type profile is the url.
          if (d.path == "url" && !slice.types.empty() && !slice.types[0].profiles.empty()) {
            std::string_view url = Str(item, "url");
            if (url != CanonicalWithoutVersion(slice.types[0].profiles[0])) return false;
            break;
          }
          if (n && n->binding == BindingStrength::kRequired && n->codes) {
            bool ok = false;
            for (const rapidjson::Value* v : values)
              if (v->IsString() && n->codes->Contains({}, v->GetString())) ok = true;
            if (!ok) return false;
            break;
          }
          // A slice that does not constrain the discriminating element accepts any value there.
          break;
        }
        if (!MatchesAny(values, *want, pattern)) return false;
        break;
      }
    }
  }
  return true;
}

void Walker::FixedAndPattern(const ElementNode& def, const rapidjson::Value& value) {
  if (def.fixed && !JsonEquals(*def.fixed, value)) {
    std::string want = def.fixed->IsString() ? def.fixed->GetString() : "the fixed value";
    std::string got = value.IsString() ? value.GetString() : "a different value";
    Error("value", "Value is '" + got + "' but is fixed to '" + want + "' in the profile " +
                       def.owner->Canonical() + "#" + def.id);
  } else if (def.pattern && !JsonMatchesPattern(*def.pattern, value)) {
    Error("value", "The value does not match the pattern " + def.fixed_name + " of " +
                       def.owner->Canonical() + "#" + def.id);
  }
}

void Walker::Binding(const ElementNode& def, std::string_view type, const rapidjson::Value& value) {
  // A binding on a choice of several types (component.value[x] in vitalsigns) is not applied to
  // each of them; the HL7 Java validator does not either.
  if (def.choice && def.types.size() > 1) return;
  if (def.binding == BindingStrength::kRequired) BindingTo(def.codes, type, value);
  for (const CodeSet* extra : def.additional_required) BindingTo(extra, type, value);
}

void Walker::BindingTo(const CodeSet* codes, std::string_view type, const rapidjson::Value& value) {
  if (codes == nullptr || (!codes->complete && !codes->any_ucum)) return;
  auto name = [&] {
    return "'" + codes->name + "' (" + codes->url +
           (codes->version.empty() ? "" : "|" + codes->version) + ")";
  };
  if (type == "code" || type == "string" || type == "uri") {
    if (!value.IsString()) return;
    if (codes->Contains({}, value.GetString())) return;
    // The HL7 Java validator reports both: the code has no known system, and it is not in the set.
    Error("not-found", "The System URI could not be determined for the code '" +
                           std::string(value.GetString()) + "' in the ValueSet " + name());
    Error("code-invalid", "The value provided ('" + std::string(value.GetString()) +
                              "') was not found in the value set " + name() +
                              ", and a code is required from this value set");
    return;
  }
  auto coding_ok = [&](const rapidjson::Value& c) {
    std::string_view system = Str(c, "system");
    std::string_view code = Str(c, "code");
    if (codes->any_ucum && system == "http://unitsofmeasure.org") return true;
    return codes->Contains(system, code);
  };
  if (type == "Coding") {
    if (!value.HasMember("code")) return;
    if (!coding_ok(value))
      Error("code-invalid", "The Coding provided (" + std::string(Str(value, "system")) + "#" +
                                std::string(Str(value, "code")) +
                                ") was not found in the value set " + name() +
                                ", and a code from this value set is required");
  } else if (type == "CodeableConcept") {
    auto coding = value.FindMember("coding");
    if (coding == value.MemberEnd() || !coding->value.IsArray() || coding->value.Empty()) return;
    for (const auto& c : coding->value.GetArray())
      if (c.IsObject() && coding_ok(c)) return;
    Error("code-invalid", "None of the codings provided are in the value set " + name() +
                              ", and a coding from this value set is required");
  } else if (type == "Quantity" || type == "Age" || type == "Duration" || type == "Distance" ||
             type == "Count" || type == "SimpleQuantity" || type == "MoneyQuantity") {
    if (!value.HasMember("code")) return;
    if (!coding_ok(value))
      Error("code-invalid", "The code provided (" + std::string(Str(value, "system")) + "#" +
                                std::string(Str(value, "code")) +
                                ") was not found in the value set " + name() +
                                ", and a code from this value set is required");
  }
}

}  // namespace fhirbridge::validator
