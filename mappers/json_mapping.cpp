#include "mappers/json_mapping.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <rapidjson/error/en.h>

#include "fhir-profiles/ucum/ucum.h"

namespace fhirbridge::mappers::json {

const rapidjson::Value* Pointer::Find(const rapidjson::Value& root) const {
  if (text.empty()) return &root;
  return parsed.Get(root);
}

namespace {

// Collects every problem of a mapping file with its key path, so that one load lists them all.
class Reader {
 public:
  void Problem(const std::string& path, const std::string& text) {
    problems_ += (problems_.empty() ? "" : "\n") + path + ": " + text;
  }
  const std::string& problems() const { return problems_; }

  // Object members not in `known` are problems: a misspelt key never goes unnoticed.
  void CheckKeys(const rapidjson::Value& object, const std::string& path,
                 std::initializer_list<std::string_view> known) {
    for (const auto& m : object.GetObject()) {
      const std::string_view key(m.name.GetString(), m.name.GetStringLength());
      bool found = false;
      for (std::string_view k : known) found = found || k == key;
      if (!found) Problem(Join(path, std::string(key)), "unknown key");
    }
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  // A string member, or "" when absent (a problem when `required`).
  std::string String(const rapidjson::Value& object, const std::string& path, const char* key,
                     bool required) {
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd()) {
      if (required) Problem(Join(path, key), "required");
      return {};
    }
    if (!it->value.IsString()) {
      Problem(Join(path, key), "must be a string");
      return {};
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
  }

  // RFC 6901 section 3: "" or a sequence of "/" reference tokens, "~" only as "~0" or "~1".
  Pointer ReadPointer(const rapidjson::Value& object, const std::string& path, const char* key,
                      bool required) {
    Pointer p;
    const bool present = object.HasMember(key);
    p.text = String(object, path, key, required);
    if (!present || (p.text.empty() && !required)) return p;
    if (!p.text.empty() && p.text.front() != '/') {
      Problem(Join(path, key), "not a JSON Pointer (RFC 6901: must start with '/')");
      return {};
    }
    for (std::size_t i = 0; i < p.text.size(); ++i) {
      if (p.text[i] == '~' &&
          (i + 1 == p.text.size() || (p.text[i + 1] != '0' && p.text[i + 1] != '1'))) {
        Problem(Join(path, key), "not a JSON Pointer (RFC 6901: '~' must be '~0' or '~1')");
        return {};
      }
    }
    p.parsed = rapidjson::Pointer(p.text.data(), p.text.size());
    if (!p.parsed.IsValid()) {
      Problem(Join(path, key), "not a JSON Pointer");
      return {};
    }
    return p;
  }

  const rapidjson::Value* Object(const rapidjson::Value& object, const std::string& path,
                                 const char* key, bool required) {
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd()) {
      if (required) Problem(Join(path, key), "required");
      return nullptr;
    }
    if (!it->value.IsObject()) {
      Problem(Join(path, key), "must be an object");
      return nullptr;
    }
    return &it->value;
  }

 private:
  std::string problems_;
};

bool LooksLikeUri(std::string_view value) {
  const std::size_t colon = value.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()) return false;
  for (char c : value)
    if (static_cast<unsigned char>(c) <= ' ') return false;
  return true;
}

// LOINC codes are digits, '-', one check digit.
bool LooksLikeLoinc(std::string_view code) {
  const std::size_t dash = code.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 2 != code.size()) return false;
  for (std::size_t i = 0; i < code.size(); ++i)
    if (i != dash && (code[i] < '0' || code[i] > '9')) return false;
  return true;
}

TimeSpec ReadTime(Reader& r, const rapidjson::Value& owner, const std::string& path) {
  TimeSpec spec;
  const auto it = owner.FindMember("time");
  if (it == owner.MemberEnd()) return spec;
  const std::string at = Reader::Join(path, "time");
  if (it->value.IsString()) {  // shorthand: the pointer of an ISO 8601 time
    spec.pointer = r.ReadPointer(owner, path, "time", true);
    return spec;
  }
  if (!it->value.IsObject()) {
    r.Problem(at, "must be a JSON Pointer or an object {pointer, format, zone}");
    return spec;
  }
  const rapidjson::Value& t = it->value;
  r.CheckKeys(t, at, {"pointer", "format", "zone"});
  spec.pointer = r.ReadPointer(t, at, "pointer", true);
  const std::string format = r.String(t, at, "format", false);
  if (format == "epoch-s") {
    spec.format = TimeFormat::kEpochSeconds;
  } else if (format == "epoch-ms") {
    spec.format = TimeFormat::kEpochMilliseconds;
  } else if (!format.empty() && format != "iso8601") {
    r.Problem(at + ".format", "must be iso8601, epoch-s or epoch-ms");
  }
  const std::string zone = r.String(t, at, "zone", false);
  if (!zone.empty()) {
    Result<std::shared_ptr<const TimeZone>> loaded = TimeZone::Load(zone);
    if (loaded.ok()) {
      spec.zone = *loaded;
    } else {
      r.Problem(at + ".zone", "no time zone named \"" + zone + "\"");
    }
  }
  return spec;
}

void ReadCodes(Reader& r, const rapidjson::Value& root, const Terminology& terms, Mapping& m) {
  const rapidjson::Value* codes = r.Object(root, "", "codes", true);
  if (codes == nullptr) return;
  for (const auto& member : codes->GetObject()) {
    const std::string key(member.name.GetString(), member.name.GetStringLength());
    const std::string at = "codes[\"" + key + "\"]";
    if (!member.value.IsObject()) {
      r.Problem(at, "must be an object {mdc, mdc_display, loinc, loinc_display}");
      continue;
    }
    const rapidjson::Value& c = member.value;
    r.CheckKeys(c, at, {"mdc", "mdc_display", "loinc", "loinc_display"});
    CodeEntry entry;
    const auto mdc = c.FindMember("mdc");
    if (mdc == c.MemberEnd() || !mdc->value.IsUint() || mdc->value.GetUint() == 0) {
      r.Problem(at + ".mdc", "required: the MDC context-free code (a positive integer)");
      continue;
    }
    entry.mdc = mdc->value.GetUint();
    entry.mdc_display = r.String(c, at, "mdc_display", false);
    if (entry.mdc_display.empty()) {
      if (const MdcTerm* term = terms.FindCode(entry.mdc)) {
        entry.mdc_display = std::string(term->refid);
      } else {
        r.Problem(at + ".mdc",
                  std::to_string(entry.mdc) +
                      " is not in the MDC tables: give mdc_display (its reference id)");
      }
    }
    entry.loinc = r.String(c, at, "loinc", false);
    entry.loinc_display = r.String(c, at, "loinc_display", false);
    if (!entry.loinc.empty() && !LooksLikeLoinc(entry.loinc))
      r.Problem(at + ".loinc", "not a LOINC code (digits, '-', check digit)");
    entry.vital = terms.FindVitalSign(entry.mdc);
    if (entry.vital != nullptr && !entry.loinc.empty() && entry.loinc != entry.vital->loinc) {
      r.Problem(at + ".loinc", "MDC " + std::to_string(entry.mdc) + " is the vital sign LOINC " +
                                   std::string(entry.vital->loinc) + "; leave loinc out");
    }
    m.codes.emplace(key, std::move(entry));
  }
}

void ReadUnits(Reader& r, const rapidjson::Value& root, Mapping& m) {
  const rapidjson::Value* units = r.Object(root, "", "units", false);
  if (units == nullptr) return;
  const ucum::UnitSystem& ucum = ucum::UnitSystem::Embedded();
  for (const auto& member : units->GetObject()) {
    const std::string key(member.name.GetString(), member.name.GetStringLength());
    const std::string at = "units[\"" + key + "\"]";
    if (!member.value.IsString()) {
      r.Problem(at, "must be a UCUM code (a string)");
      continue;
    }
    const std::string code(member.value.GetString(), member.value.GetStringLength());
    if (Status s = ucum.Validate(code); !s.ok()) {
      r.Problem(at, "\"" + code + "\" is not a valid UCUM code: " + s.message());
      continue;
    }
    m.units.emplace(key, code);
  }
}

ComponentSpec ReadComponent(Reader& r, const rapidjson::Value& c, const std::string& at,
                            const Mapping& m) {
  ComponentSpec spec;
  if (!c.IsObject()) {
    r.Problem(at, "must be an object {code, value, unit}");
    return spec;
  }
  r.CheckKeys(c, at, {"code", "value", "unit"});
  spec.code = r.String(c, at, "code", true);
  spec.value = r.ReadPointer(c, at, "value", true);
  spec.unit = r.ReadPointer(c, at, "unit", false);
  if (!spec.code.empty() && !m.codes.contains(spec.code))
    r.Problem(at + ".code", "\"" + spec.code + "\" is not a key of codes");
  return spec;
}

// A panel (blood pressure): its code must be the panel vital sign and every component one of
// its components (FHIR R4 bp profile: 85354-9 with 8480-6 and 8462-4).
void CheckPanel(Reader& r, const MeasurementGroup& g, const std::string& at, const Mapping& m) {
  const auto panel = m.codes.find(g.fixed_code);
  if (panel == m.codes.end()) return;
  const VitalSign* vital = panel->second.vital;
  if (vital == nullptr || vital->role != VitalSign::Role::kPanel) return;
  for (std::size_t i = 0; i < g.components.size(); ++i) {
    const auto part = m.codes.find(g.components[i].code);
    if (part == m.codes.end()) continue;
    const VitalSign* v = part->second.vital;
    if (v == nullptr || v->panel_mdc_code != vital->mdc_code) {
      r.Problem(at + ".components[" + std::to_string(i) + "].code",
                "MDC " + std::to_string(part->second.mdc) + " is not a component of the " +
                    std::string(vital->mdc_refid) + " panel");
    }
  }
}

MeasurementGroup ReadGroup(Reader& r, const rapidjson::Value& g, const std::string& at,
                           const Mapping& m) {
  MeasurementGroup group;
  r.CheckKeys(g, at,
              {"name", "items", "time", "code", "fixed_code", "value", "unit", "fixed_unit",
               "components", "status"});
  group.name = r.String(g, at, "name", false);
  group.items = r.ReadPointer(g, at, "items", true);
  group.time = ReadTime(r, g, at);
  group.code = r.ReadPointer(g, at, "code", false);
  group.fixed_code = r.String(g, at, "fixed_code", false);
  group.unit = r.ReadPointer(g, at, "unit", false);
  group.fixed_unit = r.String(g, at, "fixed_unit", false);
  if (g.HasMember("code") == g.HasMember("fixed_code"))
    r.Problem(at + ".code", "give either code (a pointer) or fixed_code");
  if (g.HasMember("unit") && g.HasMember("fixed_unit"))
    r.Problem(at + ".unit", "give either unit (a pointer) or fixed_unit, not both");
  if (!group.fixed_code.empty() && !m.codes.contains(group.fixed_code))
    r.Problem(at + ".fixed_code", "\"" + group.fixed_code + "\" is not a key of codes");
  if (!group.fixed_unit.empty() && !m.units.contains(group.fixed_unit))
    r.Problem(at + ".fixed_unit", "\"" + group.fixed_unit + "\" is not a key of units");
  if (group.time.pointer.empty() && m.document_time.pointer.empty() && !g.HasMember("time"))
    r.Problem(at + ".time", "required (or give the document's time at the top level)");
  const std::string status = r.String(g, at, "status", false);
  if (!status.empty()) {
    if (status != "final" && status != "preliminary" && status != "amended")
      r.Problem(at + ".status", "must be final, preliminary or amended");
    group.status = status;
  }
  if (const auto c = g.FindMember("components"); c != g.MemberEnd()) {
    if (!c->value.IsArray() || c->value.Empty()) {
      r.Problem(at + ".components", "must be a non-empty array");
    } else {
      for (rapidjson::SizeType i = 0; i < c->value.Size(); ++i)
        group.components.push_back(
            ReadComponent(r, c->value[i], at + ".components[" + std::to_string(i) + "]", m));
    }
    if (g.HasMember("value")) r.Problem(at + ".value", "a panel has components, not a value");
    if (!g.HasMember("fixed_code")) r.Problem(at + ".fixed_code", "required for a panel");
    CheckPanel(r, group, at, m);
  } else {
    group.value = r.ReadPointer(g, at, "value", true);
  }
  return group;
}

void ReadLimits(Reader& r, const rapidjson::Value& root, Limits& limits) {
  const rapidjson::Value* l = r.Object(root, "", "limits", false);
  if (l == nullptr) return;
  r.CheckKeys(*l, "limits", {"max_depth", "max_items", "max_abs_value"});
  auto size = [&](const char* key, std::size_t& into, std::size_t max) {
    const auto it = l->FindMember(key);
    if (it == l->MemberEnd()) return;
    if (!it->value.IsUint64() || it->value.GetUint64() == 0 || it->value.GetUint64() > max) {
      r.Problem(std::string("limits.") + key, "must be an integer 1.." + std::to_string(max));
      return;
    }
    into = static_cast<std::size_t>(it->value.GetUint64());
  };
  size("max_depth", limits.max_depth, 256);
  size("max_items", limits.max_items, 1000000);
  if (const auto it = l->FindMember("max_abs_value"); it != l->MemberEnd()) {
    if (!it->value.IsNumber() || !(it->value.GetDouble() > 0) || it->value.GetDouble() > 1e18)
      r.Problem("limits.max_abs_value", "must be a number > 0 and <= 1e18");
    else
      limits.max_abs_value = it->value.GetDouble();
  }
}

void ReadParties(Reader& r, const rapidjson::Value& root, const Terminology& terms, Mapping& m) {
  if (const rapidjson::Value* d = r.Object(root, "", "device", true)) {
    r.CheckKeys(*d, "device", {"id", "system", "manufacturer", "model", "type_mdc"});
    m.device.id = r.ReadPointer(*d, "device", "id", true);
    m.device.system = r.String(*d, "device", "system", true);
    m.device.manufacturer = r.ReadPointer(*d, "device", "manufacturer", false);
    m.device.model = r.ReadPointer(*d, "device", "model", false);
    if (const auto t = d->FindMember("type_mdc"); t != d->MemberEnd()) {
      if (!t->value.IsUint() || terms.FindCode(t->value.GetUint()) == nullptr)
        r.Problem("device.type_mdc", "must be an MDC code of the MDC tables");
      else
        m.device.type_mdc = t->value.GetUint();
    }
    if (d->HasMember("system") && !LooksLikeUri(m.device.system))
      r.Problem("device.system", "not a URI (e.g. urn:oid:1.2.3 or https://vendor.example/id)");
  }
  if (const rapidjson::Value* p = r.Object(root, "", "patient", true)) {
    r.CheckKeys(*p, "patient", {"id", "system"});
    m.patient.id = r.ReadPointer(*p, "patient", "id", true);
    m.patient.system = r.String(*p, "patient", "system", true);
    if (p->HasMember("system") && !LooksLikeUri(m.patient.system))
      r.Problem("patient.system", "not a URI (e.g. urn:oid:1.2.3 or https://vendor.example/id)");
  }
}

}  // namespace

Result<Mapping> LoadMapping(std::string_view text, const Terminology& terms) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    return Status::InvalidArgument("not valid JSON at byte " +
                                   std::to_string(doc.GetErrorOffset()) + ": " +
                                   rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return Status::InvalidArgument("a mapping file is a JSON object");
  Reader r;
  Mapping m;
  r.CheckKeys(doc, "",
              {"mapping_version", "name", "message_type", "control_id", "device", "patient", "time",
               "measurements", "codes", "units", "unknown_codes", "limits"});
  const auto version = doc.FindMember("mapping_version");
  if (version == doc.MemberEnd() || !version->value.IsInt() || version->value.GetInt() != 1)
    r.Problem("mapping_version", "required: 1 (the version of this mapping format)");
  m.name = r.String(doc, "", "name", false);
  if (doc.HasMember("message_type")) m.message_type = r.String(doc, "", "message_type", false);
  m.control_id = r.ReadPointer(doc, "", "control_id", false);
  ReadParties(r, doc, terms, m);
  m.document_time = ReadTime(r, doc, "");
  ReadCodes(r, doc, terms, m);
  ReadUnits(r, doc, m);
  ReadLimits(r, doc, m.limits);
  const std::string unknown = r.String(doc, "", "unknown_codes", false);
  if (!unknown.empty() && unknown != "error" && unknown != "ignore")
    r.Problem("unknown_codes", "must be error or ignore");
  m.ignore_unknown_codes = unknown == "ignore";
  const auto groups = doc.FindMember("measurements");
  if (groups == doc.MemberEnd() || !groups->value.IsArray() || groups->value.Empty()) {
    r.Problem("measurements", "required: a non-empty array of measurement lists");
  } else {
    for (rapidjson::SizeType i = 0; i < groups->value.Size(); ++i) {
      const std::string at = "measurements[" + std::to_string(i) + "]";
      if (!groups->value[i].IsObject()) {
        r.Problem(at, "must be an object");
        continue;
      }
      m.groups.push_back(ReadGroup(r, groups->value[i], at, m));
    }
  }
  if (!r.problems().empty()) return Status::InvalidArgument(r.problems());
  return m;
}

Result<Mapping> LoadMappingFile(const std::string& path, const Terminology& terms) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read mapping file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  Result<Mapping> mapping = LoadMapping(text.str(), terms);
  if (!mapping.ok()) return mapping.status().WithContext("mapping file " + path);
  return mapping;
}

}  // namespace fhirbridge::mappers::json
