// Type-specific rules of the structure walk: invariants, references (FHIR R4 §2.3.0), extensions
// (§2.5.0), narrative (§2.4.0), quantities (UCUM), codings and Bundles (§2.36.0).

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <pugixml.hpp>
#include <utility>

#include "fhir-profiles/validator/primitives.h"
#include "fhir-profiles/validator/walker.h"
#ifdef FHIRBRIDGE_HAVE_UCUM
#include "ucum/ucum.h"
#endif

namespace fhirbridge::validator {

namespace {

std::string_view Str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

constexpr std::string_view kUcum = "http://unitsofmeasure.org";

// "Type/id" or ".../Type/id[/_history/v]": the type, when the reference names one.
std::string_view ReferenceType(std::string_view ref) {
  std::size_t hist = ref.find("/_history/");
  if (hist != std::string_view::npos) ref = ref.substr(0, hist);
  std::size_t slash = ref.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return {};
  std::string_view head = ref.substr(0, slash);
  std::size_t prev = head.rfind('/');
  std::string_view type = prev == std::string_view::npos ? head : head.substr(prev + 1);
  if (type.empty() || type[0] < 'A' || type[0] > 'Z') return {};
  return type;
}

// HTML elements FHIR narrative may not use (FHIR R4 §2.4.0, txt-1).
bool ForbiddenXhtmlElement(std::string_view n) {
  return n == "script" || n == "object" || n == "applet" || n == "iframe" || n == "form" ||
         n == "input" || n == "button" || n == "embed" || n == "frame" || n == "frameset" ||
         n == "base" || n == "link" || n == "meta" || n == "style" || n == "head" || n == "body" ||
         n == "html" || n == "title";
}

}  // namespace

const std::vector<Walker::EntryRef>& Walker::Entries() {
  if (indexed_bundle_ == bundle_) return entries_;
  indexed_bundle_ = bundle_;
  entries_.clear();
  by_full_url_.clear();
  if (bundle_ == nullptr) return entries_;
  auto entries = bundle_->FindMember("entry");
  if (entries == bundle_->MemberEnd() || !entries->value.IsArray()) return entries_;
  for (const auto& e : entries->value.GetArray()) {
    EntryRef ref;
    ref.full_url = Str(e, "fullUrl");
    if (e.IsObject()) {
      auto resource = e.FindMember("resource");
      if (resource != e.MemberEnd()) ref.resource = &resource->value;
    }
    if (!ref.full_url.empty() && ref.resource != nullptr)
      by_full_url_.emplace_back(ref.full_url, static_cast<std::uint32_t>(entries_.size()));
    entries_.push_back(ref);
  }
  std::sort(by_full_url_.begin(), by_full_url_.end());
  return entries_;
}

const rapidjson::Value* Walker::EntryByFullUrl(std::string_view url) {
  Entries();
  // The last of the entries with this fullUrl: the one a scan in Bundle order ends on.
  auto after =
      std::upper_bound(by_full_url_.begin(), by_full_url_.end(), url,
                       [](std::string_view u, const std::pair<std::string_view, std::uint32_t>& e) {
                         return u < e.first;
                       });
  if (after == by_full_url_.begin() || std::prev(after)->first != url) return nullptr;
  return entries_[std::prev(after)->second].resource;
}

bool Walker::ReferrerConsistent() {
  for (std::size_t k = 0; k + 1 < frames_.size(); ++k) {
    if (frames_[k].resource != bundle_) continue;
    const rapidjson::Value* referrer = frames_[k + 1].resource;
    auto entries = bundle_->FindMember("entry");
    if (entries == bundle_->MemberEnd() || !entries->value.IsArray()) return true;
    for (const EntryRef& e : Entries())
      if (e.resource == referrer) return FullUrlMatchesId(e.full_url, *referrer);
  }
  return true;
}

void Walker::Invariants(const ElementNode& def, const rapidjson::Value& node) {
  const InvariantEngine* engine = validator_.invariant_engine();
  if (engine == nullptr || def.invariants.empty() || frames_.empty()) return;
  std::string_view node_type = def.path;
  if (def.types.size() == 1 && def.types[0].code != "BackboneElement" &&
      def.types[0].code != "Element")
    node_type = def.types[0].code;
  const bool has_contained = node.IsObject() && node.HasMember("contained");
  for (const Invariant& inv : def.invariants) {
    // dom-2 ... dom-5 constrain contained resources only (FHIR R4 DomainResource): without
    // `contained` they hold, and dom-3's descendants() walk is the costliest invariant of all.
    if (!has_contained && &def == def.owner->root && inv.key.size() == 5 &&
        inv.key.compare(0, 4, "dom-") == 0 && inv.key[4] >= '2' && inv.key[4] <= '5')
      continue;
    if (!evaluated_.Insert(&node, inv.key, inv.expression)) continue;
    if (inv.native != NativeInvariant::kNone) {
      std::optional<bool> native =
          EvaluateNative(inv.native, node, node_type, *frames_.back().resource);
      if (native) {
        if (!*native) {
          Issue(inv.error ? DataIssue::Severity::kError : DataIssue::Severity::kWarning,
                "invariant", "Constraint failed: " + inv.key + ": '" + inv.human + "'");
        }
        continue;
      }
    }
    Result<bool> holds = engine->Holds(inv, node, node_type, *frames_.back().resource, *root_);
    if (!holds.ok()) {
      Warning("informational",
              "Constraint " + inv.key + " could not be evaluated: " + holds.status().message());
    } else if (!*holds) {
      Issue(inv.error ? DataIssue::Severity::kError : DataIssue::Severity::kWarning, "invariant",
            "Constraint failed: " + inv.key + ": '" + inv.human + "'");
    }
  }
}

void Walker::Reference(const ElementNode& def, const rapidjson::Value& ref) {
  std::string_view r = Str(ref, "reference");
  if (r.empty()) return;
  std::string_view implied;
  const rapidjson::Value* target = nullptr;
  if (r[0] == '#') {
    // A contained resource of the nearest resource (FHIR R4 §2.11.3); "#" is the container.
    if (r.size() == 1) return;
    // Contained resources refer to each other through their container: search outwards.
    for (auto f = frames_.rbegin(); f != frames_.rend() && target == nullptr; ++f) {
      const rapidjson::Value& container = *f->resource;
      auto contained = container.FindMember("contained");
      if (contained != container.MemberEnd() && contained->value.IsArray())
        for (const auto& c : contained->value.GetArray())
          if (Str(c, "id") == r.substr(1)) target = &c;
    }
    if (target == nullptr) {
      Error("required",
            "Bundled or contained reference not found within the bundle/resource " + std::string(r),
            ".reference");
      return;
    }
    implied = Str(*target, "resourceType");
  } else if (IsAbsoluteUri(r)) {
    if (r.substr(0, 4) == "http") implied = ReferenceType(r);
  } else {
    implied = ReferenceType(r);
    std::size_t slash = r.find('/');
    std::string_view id =
        slash == std::string_view::npos ? std::string_view() : r.substr(slash + 1);
    std::size_t hist = id.find("/_history/");
    if (hist != std::string_view::npos) id = id.substr(0, hist);
    if (implied.empty() || !validator_.definitions().IsResourceType(implied) || !IsFhirId(id)) {
      Error("invalid", "Relative URLs must be of the format [ResourceName]/[id]. Encountered " +
                           std::string(r));
      return;
    }
  }
  if (bundle_ != nullptr && target == nullptr) {
    // Resolve inside the Bundle (FHIR R4 §2.36.4.1): an absolute reference by the same fullUrl,
    // a relative one also against the base of a RESTful fullUrl.
    if (IsAbsoluteUri(r)) {
      target = EntryByFullUrl(r);
    } else {
      for (const EntryRef& e : Entries()) {
        const std::string_view full = e.full_url;
        if (full.empty() || e.resource == nullptr) continue;
        // A relative reference resolves against the base of a RESTful fullUrl only when the
        // entry that refers carries the id its own fullUrl names (the HL7 validator's rule).
        bool match =
            full == r || (full.size() > r.size() && full.substr(full.size() - r.size()) == r &&
                          full[full.size() - r.size() - 1] == '/' && ReferrerConsistent());
        if (match) target = e.resource;
      }
    }
    if (target == nullptr && !implied.empty()) {
      // A relative reference Type/id also finds an entry whose fullUrl is urn:uuid:<id>.
      target = EntryByFullUrl(std::string("urn:uuid:").append(r.substr(r.find('/') + 1)));
    }
    if (target) {
      std::string_view actual = Str(*target, "resourceType");
      if (!implied.empty() && actual != implied)
        Error("required", "Matching reference for reference " + std::string(r) +
                              " has resourceType " + std::string(actual));
      implied = actual;
    } else {
      std::string_view btype = Str(*bundle_, "type");
      const TypeRef* rt = def.FindType("Reference");
      if (rt && rt->bundled && !IsAbsoluteUri(r))
        Error("required", "Bundled or contained reference not found within the bundle/resource " +
                              std::string(r));
      else if ((btype == "document" || btype == "message") && !IsAbsoluteUri(r))
        Error("not-found", "Can't find '" + std::string(r) + "' in the bundle");
    }
  }
  if (implied.empty() || (target == nullptr && !options_.assume_valid_rest_references)) return;
  const TypeRef* t = def.FindType("Reference");
  if (t && target && !t->unknown_targets.empty()) {
    // The target is at hand but the profile it must meet is not.
    bool known_match = false;
    for (std::size_t k = 0; k < t->target_types.size(); ++k)
      if (t->target_types[k] == implied &&
          std::find(t->unknown_targets.begin(), t->unknown_targets.end(), t->target_profiles[k]) ==
              t->unknown_targets.end())
        known_match = true;
    if (!known_match) {
      for (const std::string& u : t->unknown_targets)
        Error("structure", "Unable to resolve the profile reference '" + u + "'");
      Error("structure", "Invalid Resource target type. Found " + std::string(implied) +
                             ", but expected one of ([])");
      return;
    }
  }
  if (t == nullptr || t->target_types.empty()) return;
  for (const std::string& allowed : t->target_types)
    if (allowed == "Resource" || allowed == implied) return;
  std::string list;
  for (const std::string& allowed : t->target_types) list += (list.empty() ? "" : ", ") + allowed;
  Error("structure", "The type '" + std::string(implied) + "' implied by the reference URL " +
                         std::string(r) +
                         " is not a valid Target for this element (must be one of [" + list + "])");
}

void Walker::Extension(const ElementNode& def, const rapidjson::Value& ext) {
  std::string_view url = Str(ext, "url");
  const Structure* extension = validator_.ForType("Extension");
  const Structure* definition = nullptr;
  for (const TypeRef& t : def.types)
    if (t.code == "Extension" && !t.profiles.empty()) definition = validator_.ForUrl(t.profiles[0]);
  bool has_value = false, has_extension = ext.HasMember("extension");
  for (auto m = ext.MemberBegin(); m != ext.MemberEnd(); ++m)
    if (m->name.GetStringLength() > 5 && std::string_view(m->name.GetString(), 5) == "value")
      has_value = true;
  // ext-1: an extension has either a value or sub-extensions, not both.
  if (has_value == has_extension)
    Error("invariant",
          "Constraint failed: ext-1: 'Must have either extensions or value[x], not both'");
  if (url.empty()) {
    Error("invalid",
          "Extension.url is required in order to identify, use and validate the extension");
  } else if (!url.empty() && !IsAbsoluteUri(url) && !in_extension_structure_) {
    Error("invalid", "Extension.url must be an absolute URL");
  } else if (definition == nullptr && IsAbsoluteUri(url)) {
    definition = validator_.ForUrl(url);
    if (definition == nullptr) Warning("structure", "Unknown extension " + std::string(url));
  }
  if (definition && definition->is_extension && !definition->contexts.empty() &&
      (!in_extension_structure_ || IsAbsoluteUri(url))) {
    bool allowed = false;
    std::string alt = std::string(holder_.parent_type) + "." + std::string(holder_.name);
    for (const std::string& c : definition->contexts) {
      if (c == "Element" || c == holder_.path || c == holder_.type || c == alt || c == "Resource" ||
          c == "DomainResource")
        allowed = true;
    }
    if (!allowed)
      Error("structure", "The extension " + std::string(url) +
                             " is not allowed to be used at this point (this element is [" +
                             std::string(holder_.path) + ", " + std::string(holder_.type) + "])");
  }
  const Structure* use = definition && definition->is_extension ? definition : extension;
  if (use == nullptr) return;
  bool saved = in_extension_structure_;
  Holder saved_holder = holder_;
  holder_ = {use->root->path, "Extension", holder_.type, def.name};
  in_extension_structure_ = true;
  Members(ext, *use->root, false);
  in_extension_structure_ = saved;
  holder_ = saved_holder;
  if (use != extension) Invariants(*use->root, ext);
}

void Walker::Narrative(const rapidjson::Value& div) {
  if (!div.IsString()) return;
  StepScope step(steps_, {"div", -1, {}});
  pugi::xml_document doc;
  pugi::xml_parse_result ok = doc.load_buffer(div.GetString(), div.GetStringLength(),
                                              pugi::parse_default | pugi::parse_ws_pcdata_single);
  if (!ok) {
    std::string_view s(div.GetString(), div.GetStringLength());
    std::size_t amp = s.find('&');
    if (ok.status == pugi::status_bad_pcdata || amp != std::string_view::npos) {
      std::size_t semi = s.find(';', amp);
      Error("invalid",
            "Invalid entity in the XHTML ('" +
                std::string(s.substr(amp, semi == std::string_view::npos ? 8 : semi - amp + 1)) +
                "')");
    } else {
      Error("invalid", std::string("The XHTML is not well-formed: ") + ok.description());
    }
    return;
  }
  {
    // XHTML in FHIR has no DTD: only the five XML entities and character references exist.
    std::string_view s(div.GetString(), div.GetStringLength());
    for (std::size_t i = s.find('&'); i != std::string_view::npos; i = s.find('&', i + 1)) {
      std::size_t semi = s.find(';', i);
      if (semi == std::string_view::npos || semi - i > 12) continue;
      std::string_view name = s.substr(i + 1, semi - i - 1);
      if (name.empty() || name[0] == '#' || name == "amp" || name == "lt" || name == "gt" ||
          name == "quot" || name == "apos")
        continue;
      Error("invalid", "Invalid entity in the XHTML ('&" + std::string(name) + ";')");
      return;
    }
  }
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "div") {
    Error("invalid", "The narrative must be a single <div> element");
  } else if (std::string_view(root.attribute("xmlns").value()) != "http://www.w3.org/1999/xhtml") {
    Error("invalid", "The narrative <div> must be in the XHTML namespace");
  }
  struct Check : pugi::xml_tree_walker {
    std::vector<std::string> bad;
    std::vector<std::string> links;
    bool for_each(pugi::xml_node& n) override {
      if (n.type() != pugi::node_element) return true;
      std::string_view name = n.name();
      if (ForbiddenXhtmlElement(name))
        bad.push_back("Invalid element name in the XHTML ('" + std::string(name) + "')");
      if (name == "a") {
        // Narrative links must be web links a browser can follow (no urn: schemes).
        std::string_view href = n.attribute("href").value();
        if (href.substr(0, 4) == "urn:")
          links.push_back("Hyperlink scheme 'urn' in '" + std::string(href) +
                          "' is not a valid hyperlinkable scheme");
      }
      for (pugi::xml_attribute a : n.attributes()) {
        std::string_view an = a.name();
        if (an.size() > 2 && (an[0] == 'o' || an[0] == 'O') && (an[1] == 'n' || an[1] == 'N'))
          bad.push_back("Invalid attribute name in the XHTML ('" + std::string(an) + "' on '" +
                        std::string(name) + "')");
      }
      return true;
    }
  } check;
  root.traverse(check);
  if (!check.bad.empty()) {
    Error("invariant",
          "Constraint failed: txt-1: 'The narrative SHALL contain only the basic html formatting "
          "elements and attributes'");
    for (std::string& b : check.bad) Error("invalid", std::move(b));
  }
  for (std::string& l : check.links) Error("invalid", std::move(l));
}

void Walker::Quantity(const ElementNode& def, const rapidjson::Value& q) {
  (void)def;
  std::string_view system = Str(q, "system");
  std::string_view code = Str(q, "code");
  if (system != kUcum || code.empty()) return;
#ifdef FHIRBRIDGE_HAVE_UCUM
  Status valid = ucum::UnitSystem::Embedded().Validate(code);
  if (!valid.ok())
    Error("code-invalid",
          "The UCUM code '" + std::string(code) + "' is not valid: " + valid.message(), ".code");
#endif
}

void Walker::Coding(const rapidjson::Value& coding) {
  std::string_view system = Str(coding, "system");
  if (system.empty()) return;
  std::optional<DataIssue> issue = validator_.CheckCoding(system, Str(coding, "code"));
  if (issue) Error(issue->code.c_str(), std::move(issue->text), issue->location);
}

std::optional<DataIssue> Validator::CodingIssue(std::string_view system,
                                                std::string_view code) const {
  if (defs_->IsValueSet(system) && defs_->CodeSystem(system) == nullptr) {
    return DataIssue::Error(
        "invalid", ".system",
        "The Coding references a value set, not a code system ('" + std::string(system) + "')");
  }
  if (code.empty()) return std::nullopt;
  const auto unknown = [&] {
    return DataIssue::Error(
        "code-invalid", ".code",
        "Unknown code '" + std::string(code) + "' in the CodeSystem '" + std::string(system) + "'");
  };
  if (system == kUcum) {
#ifdef FHIRBRIDGE_HAVE_UCUM
    if (!ucum::UnitSystem::Embedded().Validate(code).ok()) return unknown();
#endif
    return std::nullopt;
  }
  const rapidjson::Value* cs = defs_->CodeSystem(system);
  if (cs == nullptr || Str(*cs, "content") != "complete") return std::nullopt;
  auto concepts = cs->FindMember("concept");
  if (concepts == cs->MemberEnd() || !concepts->value.IsArray() || concepts->value.Empty())
    return std::nullopt;
  std::vector<const rapidjson::Value*> stack{&concepts->value};
  while (!stack.empty()) {
    const rapidjson::Value* list = stack.back();
    stack.pop_back();
    for (const auto& c : list->GetArray()) {
      if (Str(c, "code") == code) return std::nullopt;
      auto sub = c.FindMember("concept");
      if (sub != c.MemberEnd() && sub->value.IsArray()) stack.push_back(&sub->value);
    }
  }
  return unknown();
}

std::optional<DataIssue> Validator::CheckCoding(std::string_view system,
                                                std::string_view code) const {
  // The system's length first: no system and code can make another pair's key.
  thread_local std::string key;
  key.clear();
  const std::size_t length = system.size();
  key.append(reinterpret_cast<const char*>(&length), sizeof length).append(system).append(code);
  {
    std::shared_lock lock(coding_mutex_);
    auto it = coding_verdicts_.find(key);
    if (it != coding_verdicts_.end()) return it->second;
  }
  std::optional<DataIssue> issue = CodingIssue(system, code);
  std::unique_lock lock(coding_mutex_);
  if (coding_verdicts_.size() < kCodingVerdicts) coding_verdicts_.emplace(key, issue);
  return issue;
}

void Walker::MinMaxValue(const ElementNode& def, std::string_view type,
                         const rapidjson::Value& value) {
  auto number = [](const rapidjson::Value& v) -> const rapidjson::Value* {
    if (v.IsNumber()) return &v;
    if (v.IsObject()) {
      auto it = v.FindMember("value");
      if (it != v.MemberEnd() && it->value.IsNumber()) return &it->value;
    }
    return nullptr;
  };
  const rapidjson::Value* got = number(value);
  if (got != nullptr) {
    if (def.min_value) {
      const rapidjson::Value* lo = number(*def.min_value);
      if (lo && got->GetDouble() < lo->GetDouble())
        Error("invalid", "The value in the instance is less than the specified minimum value");
    }
    if (def.max_value) {
      const rapidjson::Value* hi = number(*def.max_value);
      if (hi && got->GetDouble() > hi->GetDouble())
        Error("invalid", "The value in the instance is greater than the specified maximum value");
    }
    return;
  }
  if (value.IsString() && (type == "date" || type == "dateTime" || type == "instant") &&
      ((def.min_value && def.min_value->IsObject()) ||
       (def.max_value && def.max_value->IsObject()))) {
    // minValueDuration / maxValueDuration: relative to now (now - min, now + max).
    auto bound = [](const rapidjson::Value& d, int sign) -> std::string {
      auto v = d.FindMember("value");
      if (v == d.MemberEnd() || !v->value.IsNumber()) return {};
      double n = v->value.GetDouble();
      std::string_view unit = Str(d, "code");
      double days = unit == "a"    ? n * 365.25
                    : unit == "mo" ? n * 30.4375
                    : unit == "wk" ? n * 7
                    : unit == "d"  ? n
                    : unit == "h"  ? n / 24
                                   : 0;
      std::time_t t = std::time(nullptr) + static_cast<std::time_t>(sign * days * 86400);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
      return buf;
    };
    std::string_view v(value.GetString(), value.GetStringLength());
    if (def.min_value && def.min_value->IsObject()) {
      std::string lo = bound(*def.min_value, -1);
      if (!lo.empty() &&
          v.substr(0, 10) < std::string_view(lo).substr(0, v.size() < 10 ? v.size() : 10))
        Error("invalid", "date/time value is less than permitted minimum value of " + lo);
    }
    if (def.max_value && def.max_value->IsObject()) {
      std::string hi = bound(*def.max_value, 1);
      if (!hi.empty() &&
          v.substr(0, 10) > std::string_view(hi).substr(0, v.size() < 10 ? v.size() : 10))
        Error("invalid", "date/time value is greater than permitted maximum value of " + hi);
    }
    return;
  }
  if (value.IsString() && (type == "date" || type == "dateTime" || type == "instant")) {
    // Same-precision ISO strings compare lexically.
    std::string_view v(value.GetString(), value.GetStringLength());
    if (def.min_value && def.min_value->IsString() &&
        v < std::string_view(def.min_value->GetString()))
      Error("invalid", "date/time value is less than permitted minimum value of " +
                           std::string(def.min_value->GetString()));
    if (def.max_value && def.max_value->IsString() &&
        v > std::string_view(def.max_value->GetString()))
      Error("invalid", "date/time value is greater than permitted maximum value of " +
                           std::string(def.max_value->GetString()));
  }
}

}  // namespace fhirbridge::validator
