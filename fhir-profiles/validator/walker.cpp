#include "fhir-profiles/validator/walker.h"

#include <algorithm>

#include "fhir-profiles/validator/primitives.h"

namespace fhirbridge::validator {

namespace {

std::string_view Str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::string_view Name(const rapidjson::Value& s) { return {s.GetString(), s.GetStringLength()}; }

const char* KindName(const rapidjson::Value& v) {
  if (v.IsObject()) return "an Object";
  if (v.IsArray()) return "an Array";
  if (v.IsString()) return "a String";
  if (v.IsNumber()) return "a Number";
  if (v.IsBool()) return "a Boolean";
  return "null";
}

std::string Max(std::uint32_t max) { return max == kUnbounded ? "*" : std::to_string(max); }

}  // namespace

std::size_t EvaluatedInvariants::Bucket(const rapidjson::Value* node) const {
  // Nodes are 16-byte rapidjson values: the low bits carry nothing.
  const auto bits = reinterpret_cast<std::uintptr_t>(node) >> 4;
  return (bits ^ (bits >> 9)) & (heads_.size() - 1);
}

bool EvaluatedInvariants::Insert(const rapidjson::Value* node, std::string_view key,
                                 std::string_view expression) {
  if (!heads_.empty()) {
    for (std::int32_t i = heads_[Bucket(node)]; i >= 0; i = entries_[i].next) {
      const Entry& e = entries_[i];
      if (e.node == node && e.key == key && e.expression == expression) return false;
    }
  }
  if (entries_.size() >= heads_.size()) {
    // Twice the buckets, chained again in the order of insertion, so that each bucket's head
    // is still its newest entry (Truncate relies on it).
    heads_.assign(heads_.empty() ? 64 : heads_.size() * 2, -1);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      std::int32_t& head = heads_[Bucket(entries_[i].node)];
      entries_[i].next = head;
      head = static_cast<std::int32_t>(i);
    }
  }
  std::int32_t& head = heads_[Bucket(node)];
  entries_.push_back({node, key, expression, head});
  head = static_cast<std::int32_t>(entries_.size() - 1);
  return true;
}

void EvaluatedInvariants::Truncate(std::size_t size) {
  // Newest first: each entry removed is the head of its bucket.
  while (entries_.size() > size) {
    heads_[Bucket(entries_.back().node)] = entries_.back().next;
    entries_.pop_back();
  }
}

Walker::Walker(const Validator& validator, const ValidationOptions& options, DataIssues& issues)
    : validator_(validator), options_(options), issues_(issues) {
  steps_.reserve(32);
}

std::string Walker::Location() const {
  std::string out = path_;
  for (std::size_t i = steps_base_; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    out.append(1, '.').append(s.name);
    if (s.index >= 0) out.append(1, '[').append(std::to_string(s.index)).append(1, ']');
    if (!s.of_type.empty()) out.append(".ofType(").append(s.of_type).append(")");
  }
  return out;
}

void Walker::Issue(DataIssue::Severity severity, const char* code, std::string text,
                   std::string_view suffix) {
  if (issues_.size() >= options_.max_issues) return;
  std::string location = Location();
  location.append(suffix);
  issues_.push_back({severity, code, std::move(location), std::move(text)});
}

void Walker::Resource(const rapidjson::Value& resource, std::string path,
                      const std::vector<std::string>& profiles) {
  // The resource's location becomes the base of the steps below it, until it is done.
  struct Rebase {
    Walker& walker;
    std::string path;
    std::size_t base;
    ~Rebase() {
      walker.path_ = std::move(path);
      walker.steps_base_ = base;
    }
  } rebase{*this, std::move(path_), steps_base_};
  path_ = std::move(path);
  steps_base_ = steps_.size();
  if (!resource.IsObject()) {
    Error("structure", std::string("A resource must be a JSON object, not ") + KindName(resource));
    return;
  }
  std::string_view type = Str(resource, "resourceType");
  if (type.empty()) {
    Error("structure", "Unable to find resourceType property");
    return;
  }
  const Structure* base = validator_.ForType(type);
  if (base == nullptr || base->kind != "resource") {
    Error("structure", "Unknown resource type '" + std::string(type) + "'");
    return;
  }
  if (++depth_ > options_.max_depth) {
    Error("too-costly", "Resources are nested deeper than " + std::to_string(options_.max_depth));
    --depth_;
    return;
  }
  if (root_ == nullptr) root_ = &resource;
  const rapidjson::Value* saved_bundle = bundle_;
  if (type == "Bundle") bundle_ = &resource;
  frames_.push_back({&resource, base});
  bool saved_type_checks = type_checks_;
  type_checks_ = true;
  ResourceAgainst(resource, *base);
  type_checks_ = false;
  // meta.profile, then the profiles the caller names (FHIR R4 §2.11.2.3): each is a separate
  // pass; identical issues from several passes are reported once.
  std::vector<std::string_view> claimed;  // views into the resource, options and constants
  if (auto meta = resource.FindMember("meta");
      meta != resource.MemberEnd() && meta->value.IsObject()) {
    if (auto p = meta->value.FindMember("profile");
        p != meta->value.MemberEnd() && p->value.IsArray())
      for (const auto& u : p->value.GetArray())
        if (u.IsString()) claimed.emplace_back(u.GetString(), u.GetStringLength());
  }
  claimed.insert(claimed.end(), profiles.begin(), profiles.end());
  if (type == "Observation" && options_.vital_signs_by_code) VitalSigns(resource, claimed);
  for (std::string_view url : claimed) {
    const Structure* profile = validator_.ForUrl(url);
    if (profile == nullptr) {
      Warning("not-found", "Profile reference '" + std::string(url) +
                               "' has not been checked because it is unknown");
      continue;
    }
    if (profile == base) continue;
    if (profile->type != type) {
      Error("structure", "The profile " + std::string(url) + " is for " + profile->type + ", not " +
                             std::string(type));
      continue;
    }
    frames_.back().structure = profile;
    ResourceAgainst(resource, *profile);
  }
  type_checks_ = true;
  if (type == "Bundle") BundleRules(resource);
  type_checks_ = saved_type_checks;
  frames_.pop_back();
  bundle_ = saved_bundle;
  --depth_;
}

void Walker::VitalSigns(const rapidjson::Value& observation,
                        std::vector<std::string_view>& profiles) {
  // FHIR R4 §8.1.0.1 (observation-vitalsigns): an Observation that reports a vital sign SHALL
  // conform to the vital-signs profile for it, whether or not it claims it.
  struct Sign {
    std::string_view code;
    std::string_view profile;
  };
#define FHIRBRIDGE_VS(code, name) \
  { code, "http://hl7.org/fhir/StructureDefinition/" name }
  static const Sign kSigns[] = {
      FHIRBRIDGE_VS("85353-1", "vitalspanel"), FHIRBRIDGE_VS("9279-1", "resprate"),
      FHIRBRIDGE_VS("8867-4", "heartrate"), FHIRBRIDGE_VS("2708-6", "oxygensat"),
      FHIRBRIDGE_VS("8310-5", "bodytemp"), FHIRBRIDGE_VS("8302-2", "bodyheight"),
      FHIRBRIDGE_VS("9843-4", "headcircum"), FHIRBRIDGE_VS("29463-7", "bodyweight"),
      FHIRBRIDGE_VS("39156-5", "bmi"), FHIRBRIDGE_VS("85354-9", "bp"),
      // SNOMED CT concepts for the same signs.
      FHIRBRIDGE_VS("276885007", "bodytemp"), FHIRBRIDGE_VS("386725007", "bodytemp"),
      FHIRBRIDGE_VS("364075005", "heartrate"), FHIRBRIDGE_VS("86290005", "resprate"),
      FHIRBRIDGE_VS("75367002", "bp"), FHIRBRIDGE_VS("50373000", "bodyheight"),
      FHIRBRIDGE_VS("27113001", "bodyweight"), FHIRBRIDGE_VS("60621009", "bmi"),
      FHIRBRIDGE_VS("431314004", "oxygensat"), FHIRBRIDGE_VS("363812007", "headcircum")};
#undef FHIRBRIDGE_VS
  auto code = observation.FindMember("code");
  if (code == observation.MemberEnd() || !code->value.IsObject()) return;
  auto coding = code->value.FindMember("coding");
  if (coding == code->value.MemberEnd() || !coding->value.IsArray()) return;
  for (const auto& c : coding->value.GetArray()) {
    std::string_view system = Str(c, "system");
    std::string_view value = Str(c, "code");
    if (system != "http://loinc.org" && system != "http://snomed.info/sct") continue;
    for (const Sign& s : kSigns) {
      if (value != s.code) continue;
      bool have = false;
      for (std::string_view p : profiles)
        if (CanonicalWithoutVersion(p) == s.profile) have = true;
      if (!have) profiles.push_back(s.profile);
      return;
    }
  }
}

void Walker::ResourceAgainst(const rapidjson::Value& resource, const Structure& structure) {
  const ElementNode& root = *structure.root;
  Holder saved_holder = holder_;
  holder_ = {root.path, structure.type, {}, {}};
  Members(resource, root, true);
  Invariants(root, resource);
  holder_ = saved_holder;
}

void Walker::Members(const rapidjson::Value& object, const ElementNode& owner, bool resource_root) {
  const std::vector<const ElementNode*>& children = owner.Children();
  constexpr std::size_t kStack = 96;
  std::uint32_t stack_counts[kStack];  // only the first children.size() are used, and zeroed
  std::vector<std::uint32_t> heap_counts;
  std::uint32_t* counts = stack_counts;
  if (children.size() > kStack) {
    heap_counts.assign(children.size(), 0);
    counts = heap_counts.data();
  } else {
    std::fill_n(stack_counts, children.size(), 0u);
  }
  // Primitive extensions (_name) are looked up only when the object has any.
  bool has_underscore = false;
  for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m)
    if (m->name.GetStringLength() > 1 && m->name.GetString()[0] == '_') has_underscore = true;
  std::vector<std::vector<std::uint32_t>> slice_counts;
  for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
    std::string_view key = Name(m->name);
    if (resource_root && key == "resourceType") continue;
    bool underscore = !key.empty() && key[0] == '_';
    std::string_view name = underscore ? key.substr(1) : key;
    const TypeRef* tref = nullptr;
    std::uint32_t index = owner.Lookup(name, tref);
    std::string_view type = tref ? std::string_view(tref->code) : std::string_view();
    if (index == children.size()) {
      // valueString where this profile allows only valueQuantity: a type error, and the
      // element still counts as present.
      const ElementNode& o = owner.ChildOwner();
      bool typed = false;
      for (std::uint32_t ci : o.choice_children) {
        const std::string& n = o.children[ci]->name;
        if (name.size() > n.size() && name.compare(0, n.size(), n) == 0 && name[n.size()] >= 'A' &&
            name[n.size()] <= 'Z') {
          Error("structure", "The type of element " + std::string(key) +
                                 " is not allowed here: the definition allows only other types");
          ++counts[ci];
          typed = true;
          break;
        }
      }
      if (!typed) Error("structure", "Unrecognized property '" + std::string(key) + "'");
      continue;
    }
    const ElementNode& child = *children[index];
    const rapidjson::Value* value = nullptr;
    const rapidjson::Value* ext = nullptr;
    if (underscore) {
      // Handled with its value member when there is one.
      bool paired = false;
      for (auto o = object.MemberBegin(); o != object.MemberEnd() && !paired; ++o)
        paired = Name(o->name) == name;
      if (paired) continue;
      ext = &m->value;
    } else {
      value = &m->value;
      if (has_underscore) {
        for (auto o = object.MemberBegin(); o != object.MemberEnd(); ++o) {
          std::string_view k = Name(o->name);
          if (k.size() == name.size() + 1 && k[0] == '_' && k.substr(1) == name) ext = &o->value;
        }
      }
    }
    if (child.slicing && !child.slices.empty() && slice_counts.empty())
      slice_counts.resize(children.size());
    Property(child, type, value, ext, name, counts[index],
             child.slicing && !child.slices.empty() ? &slice_counts[index] : nullptr);
  }
  for (std::size_t i = 0; i < children.size(); ++i) {
    const ElementNode& c = *children[i];
    if (counts[i] < c.min) {
      Error("structure", c.path + ": minimum required = " + std::to_string(c.min) +
                             ", but only found " + std::to_string(counts[i]) + " (from " +
                             c.owner->Canonical() + ")");
    } else if (counts[i] > c.max) {
      Error("structure", c.path + ": max allowed = " + Max(c.max) + ", but found " +
                             std::to_string(counts[i]) + " (from " + c.owner->Canonical() + ")");
    }
    if (c.slicing && !c.slices.empty()) {
      static const std::vector<std::uint32_t> kNone;
      SliceCardinality(c,
                       slice_counts.empty() || slice_counts[i].empty() ? kNone : slice_counts[i]);
    }
  }
}

void Walker::Property(const ElementNode& child, std::string_view type,
                      const rapidjson::Value* value, const rapidjson::Value* ext,
                      std::string_view key, std::uint32_t& count,
                      std::vector<std::uint32_t>* slice_counts) {
  const std::size_t at = steps_.size();
  StepScope step(steps_, {child.name, -1, {}});
  if (slice_counts && slice_counts->empty()) slice_counts->assign(child.slices.size(), 0);
  auto one = [&](const rapidjson::Value* v, const rapidjson::Value* e) {
    if ((v == nullptr || v->IsNull()) && (e == nullptr || e->IsNull())) return;
    if (!type.empty() && child.choice) steps_[at].of_type = type;
    ++count;
    Item(child, type, v && !v->IsNull() ? v : nullptr, e && !e->IsNull() ? e : nullptr);
    if (slice_counts) Slices(child, type, v && !v->IsNull() ? *v : *e, e, *slice_counts);
  };
  const rapidjson::Value* shape = value ? value : ext;
  if (child.is_array) {
    if (!shape->IsArray()) {
      Error("structure",
            "The property " + std::string(key) + " must be a JSON Array, not " + KindName(*shape));
      one(value, ext);
      return;
    }
    if (value && ext && (!ext->IsArray() || ext->Size() != value->Size())) {
      Error("structure", "The property _" + std::string(key) +
                             " must be an array as long as the property " + std::string(key));
      ext = nullptr;
    }
    if (shape->Empty())
      Error("structure",
            "Array cannot be empty - the property should not be present if it has no values");
    for (rapidjson::SizeType i = 0; i < shape->Size(); ++i) {
      steps_[at].index = static_cast<std::int32_t>(i);
      steps_[at].of_type = {};
      const rapidjson::Value* v = value ? &(*value)[i] : nullptr;
      const rapidjson::Value* e = ext && ext->IsArray() ? &(*ext)[i] : nullptr;
      if (v && v->IsNull() && (e == nullptr || e->IsNull()))
        Error("structure", "A null entry in an array needs an extension at the same position");
      one(v, e);
    }
    return;
  }
  if (shape->IsArray()) {
    Error("structure",
          "The property " + std::string(key) + " must be " +
              (IsPrimitiveType(type.empty() && !child.types.empty() ? child.types[0].code : type)
                   ? "a primitive value"
                   : "an Object") +
              ", not an Array");
    return;
  }
  one(value, ext);
}

void Walker::Item(const ElementNode& def, std::string_view type, const rapidjson::Value* value,
                  const rapidjson::Value* ext) {
  if (type.empty()) {
    if (def.types.size() == 1)
      type = def.types[0].code;
    else if (def.content_ref != nullptr || def.types.empty())
      type = "BackboneElement";
    else if (!def.types.empty())
      type = def.types[0].code;
  }
  if (IsPrimitiveType(type)) {
    Primitive(def, type, value, ext);
    return;
  }
  if (value == nullptr) {
    Error("structure", "The property _" + def.name + " is only allowed on primitive values");
    return;
  }
  Complex(def, type, *value);
}

void Walker::Primitive(const ElementNode& def, std::string_view type, const rapidjson::Value* value,
                       const rapidjson::Value* ext) {
  if (ext != nullptr) {
    if (!ext->IsObject()) {
      Error("structure", "The property _" + def.name + " must be an Object, not " + KindName(*ext));
    } else if (const Structure* element = validator_.ForType("Element")) {
      Holder saved = holder_;
      holder_ = {def.path, type, saved.type, def.name};
      Members(*ext, *element->root, false);
      holder_ = saved;
    }
  }
  if (value == nullptr) {
    bool has_extension = ext && ext->IsObject() && ext->HasMember("extension");
    bool empty = ext == nullptr || !ext->IsObject() || ext->MemberCount() == 0;
    bool has_id = ext && ext->IsObject() && ext->HasMember("id");
    // ele-1; an element with nothing at all is also not a primitive. Members we do not know
    // were reported already.
    if (!has_extension && (empty || has_id))
      Error("invariant",
            "Constraint failed: ele-1: 'All FHIR elements must have a @value or children'");
    if (empty) Error("invalid", "Primitive types must have a value or must have child extensions");
    if (def.must_have_value)
      Error("invalid", "The element definition " + def.path +
                           " requires that a value be present in this element");
    if (!def.value_alternatives.empty() && has_extension && (*ext)["extension"].IsArray()) {
      // Without a value, one of the listed extensions must stand in for it.
      bool found = false;
      for (const auto& e : (*ext)["extension"].GetArray())
        for (const std::string& alt : def.value_alternatives) found |= Str(e, "url") == alt;
      if (!found)
        Error("invalid", "The element definition " + def.path +
                             " requires that if a value is not present, one of the extensions " +
                             def.value_alternatives[0] + " must be present");
    }
    return;
  }
  std::string problem = type_checks_ ? CheckPrimitive(type, *value) : std::string();
  if (!problem.empty()) {
    Error("invalid", std::move(problem));
    if (value->IsString() && value->GetStringLength() == 0)
      Error("invariant",
            "Constraint failed: ele-1: 'All FHIR elements must have a @value or children'");
    return;
  }
  if (value->IsString()) {
    std::string_view s(value->GetString(), value->GetStringLength());
    if (def.min_length && s.size() < def.min_length)
      Error("invalid", "Value '" + std::string(s.substr(0, 40)) +
                           "' is shorter than permitted minimum length of " +
                           std::to_string(def.min_length));
    if (def.max_length && s.size() > def.max_length)
      Error("invalid", "The value is longer than the permitted maximum length of " +
                           std::to_string(def.max_length));
    if (options_.security_checks && (type == "string" || type == "markdown")) {
      // Security: markup in a plain string is a way to smuggle script into a viewer.
      for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        if (s[i] == '<' &&
            ((s[i + 1] >= 'a' && s[i + 1] <= 'z') || (s[i + 1] >= 'A' && s[i + 1] <= 'Z') ||
             s[i + 1] == '/') &&
            s.find('>', i) != std::string_view::npos) {
          Error("invalid", "The string value contains text that looks like embedded HTML tags");
          break;
        }
      }
    }
  }
  if (def.path == "Resource.id" || (def.name == "id" && def.path.find('.') == def.path.rfind('.') &&
                                    frames_.size() && def.owner && def.owner->kind == "resource")) {
    std::string_view id(value->IsString() ? value->GetString() : "",
                        value->IsString() ? value->GetStringLength() : 0);
    if (!IsFhirId(id))
      Error("invalid",
            id.size() > 64
                ? "Invalid Resource id: Too long (" + std::to_string(id.size()) + " chars)"
                : "Invalid Resource id: Invalid Characters ('" + std::string(id) + "')");
  }
  if (def.min_value || def.max_value) MinMaxValue(def, type, *value);
  FixedAndPattern(def, *value);
  if (def.binding == BindingStrength::kRequired) Binding(def, type, *value);
  if (!def.invariants.empty()) Invariants(def, *value);
}

void Walker::Complex(const ElementNode& def, std::string_view type, const rapidjson::Value& value) {
  if (!value.IsObject()) {
    Error("structure", "The property " + def.name + " must be an Object, not " + KindName(value));
    return;
  }
  const TypeRef* tref = def.FindType(type);
  if (tref != nullptr && tref->is_resource) {
    // A profile pass does not re-validate a nested resource its base pass validated, unless
    // the profile asks for more (a profiled resource type).
    if (type_checks_ || !tref->profiles.empty()) Resource(value, Location(), tref->profiles);
    return;
  }
  if (++depth_ > options_.max_depth) {
    Error("too-costly", "Elements are nested deeper than " + std::to_string(options_.max_depth));
    --depth_;
    return;
  }
  if (value.MemberCount() == 0)
    Error("invariant",
          "Constraint failed: ele-1: 'All FHIR elements must have a @value or children'");
  const Structure* type_structure = tref ? tref->structure : nullptr;
  const ElementNode* owner = &def;
  if (def.Children().empty() && type_structure) {
    if (!type_checks_) {
      // A profile that does not constrain inside this element adds nothing to what the base
      // pass found walking the same data type: only its element-level rules apply.
      ElementRules(def, type, tref, type_structure, value);
      --depth_;
      return;
    }
    owner = type_structure->root;
  }
  if (type == "Extension") {
    // The extension's context is the element that holds it (FHIR R4 §2.5.0.1).
    Extension(def, value);
  } else {
    Holder saved = holder_;
    holder_ = {def.path, type, saved.type, def.name};
    Members(value, *owner, false);
    holder_ = saved;
  }
  ElementRules(def, type, tref, type_structure, value);
  --depth_;
}

void Walker::ElementRules(const ElementNode& def, std::string_view type, const TypeRef* tref,
                          const Structure* type_structure, const rapidjson::Value& value) {
  // Profiles on the data type (e.g. SimpleQuantity, or a profiled Coding).
  if (tref != nullptr && type != "Extension" && !tref->profiles.empty()) {
    // One profile: the value must meet it. Several: it must meet one of them (FHIR R4
    // §5.1.0.5 type.profile), so each is tried on its own.
    DataIssues collected;
    bool one_fits = false;
    for (const std::string& p : tref->profiles) {
      const Structure* ps = validator_.ForUrl(p);
      if (ps == nullptr || ps == type_structure) continue;
      if (tref->profiles.size() == 1) {
        Members(value, *ps->root, false);
        Invariants(*ps->root, value);
        continue;
      }
      DataIssues scratch;
      scratch.swap(issues_);
      std::size_t evaluated = evaluated_.size();  // each trial evaluates its invariants itself
      Members(value, *ps->root, false);
      Invariants(*ps->root, value);
      evaluated_.Truncate(evaluated);
      scratch.swap(issues_);
      bool errors = false;
      for (const DataIssue& i : scratch) errors |= i.severity == DataIssue::Severity::kError;
      one_fits |= !errors;
      collected.insert(collected.end(), scratch.begin(), scratch.end());
    }
    if (tref->profiles.size() > 1 && !one_fits) {
      std::string list;
      for (const std::string& p : tref->profiles) list += (list.empty() ? "" : ", ") + p;
      Error("structure", "Unable to find a match for the specified profile among choices: " + list);
      issues_.insert(issues_.end(), collected.begin(), collected.end());
    }
  }
  if (type == "Reference")
    Reference(def, value);
  else if (!type_checks_) {
  } else if (type == "Quantity" || (type_structure && type_structure->type == "Quantity"))
    Quantity(def, value);
  else if (type == "Coding")
    Coding(value);
  else if (type == "Narrative") {
    if (auto div = value.FindMember("div"); div != value.MemberEnd()) Narrative(div->value);
  } else if (type == "Identifier") {
    std::string_view system = Str(value, "system");
    if (!system.empty() && !IsAbsoluteUri(system))
      Error("code-invalid",
            "Identifier.system must be an absolute reference, not a local reference", ".system");
  }
  if (def.min_value || def.max_value) MinMaxValue(def, type, value);
  FixedAndPattern(def, value);
  if (def.binding == BindingStrength::kRequired || !def.additional_required.empty())
    Binding(def, type, value);
  if (type_structure && type_checks_) Invariants(*type_structure->root, value);
  Invariants(def, value);
}

void Walker::SliceCardinality(const ElementNode& child, const std::vector<std::uint32_t>& counts) {
  for (std::size_t s = 0; s < child.slices.size(); ++s) {
    const ElementNode& slice = *child.slices[s];
    std::uint32_t n = s < counts.size() ? counts[s] : 0;
    if (n < slice.min) {
      Error("structure", "Slice '" + child.path + ":" + slice.slice_name +
                             "': a matching slice is required, but not found (from " +
                             slice.owner->Canonical() + ")");
    } else if (n > slice.max) {
      Error("structure", child.path + ":" + slice.slice_name + ": max allowed = " + Max(slice.max) +
                             ", but found " + std::to_string(n) + " (from " +
                             slice.owner->Canonical() + ")");
    }
  }
}

void Walker::Slices(const ElementNode& child, std::string_view type, const rapidjson::Value& item,
                    const rapidjson::Value* ext, std::vector<std::uint32_t>& slice_counts) {
  for (std::size_t s = 0; s < child.slices.size(); ++s) {
    const ElementNode& slice = *child.slices[s];
    if (!MatchesSlice(item, type, *child.slicing, slice)) continue;
    ++slice_counts[s];
    Item(slice, type, item.IsNull() ? nullptr : &item, ext);
    return;
  }
  bool extension_slicing = child.name == "extension" || child.name == "modifierExtension";
  if (child.slicing->closed) {
    Error("structure", "This element does not match any known slice defined in the profile " +
                           child.owner->Canonical() + " and slicing is CLOSED");
  } else if (extension_slicing && in_extension_structure_ && item.IsObject()) {
    std::string_view url = Str(item, "url");
    if (!url.empty() && !IsAbsoluteUri(url))
      Error("invalid", "Sub-extension url '" + std::string(url) +
                           "' is not defined by the Extension " + child.owner->Canonical());
  }
}

}  // namespace fhirbridge::validator
