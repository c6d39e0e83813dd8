#include "fhir-profiles/vital_signs_check.h"

#include <algorithm>
#include <regex>
#include <set>

namespace fhirbridge::profiles {

namespace {

constexpr const char* kLoinc = "http://loinc.org";
constexpr const char* kUcum = "http://unitsofmeasure.org";
constexpr const char* kCategorySystem =
    "http://terminology.hl7.org/CodeSystem/observation-category";

// FHIR R4 profiles (hl7.org/fhir/R4/observation-vitalsigns.html): LOINC code and valueQuantity
// units each profile fixes or binds.
const std::vector<VitalProfile>& Profiles() {
  static const std::vector<VitalProfile> kProfiles = {
      {"http://hl7.org/fhir/StructureDefinition/resprate", "9279-1", {"/min"}},
      {"http://hl7.org/fhir/StructureDefinition/heartrate", "8867-4", {"/min"}},
      {"http://hl7.org/fhir/StructureDefinition/oxygensat", "2708-6", {"%"}},
      {"http://hl7.org/fhir/StructureDefinition/bodytemp", "8310-5", {"Cel", "[degF]"}},
      {"http://hl7.org/fhir/StructureDefinition/bodyheight", "8302-2", {"cm", "[in_i]"}},
      {"http://hl7.org/fhir/StructureDefinition/headcircum", "9843-4", {"cm", "[in_i]"}},
      {"http://hl7.org/fhir/StructureDefinition/bodyweight", "29463-7", {"kg", "g", "[lb_av]"}},
      {"http://hl7.org/fhir/StructureDefinition/bmi", "39156-5", {"kg/m2"}},
      {"http://hl7.org/fhir/StructureDefinition/bp", "85354-9", {}},
  };
  return kProfiles;
}

// FHIR R4 dateTime (datatypes.html#dateTime).
const std::regex& DateTimePattern() {
  static const std::regex kPattern(
      R"(([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?)");
  return kPattern;
}

std::string Str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return it->value.GetString();
}

bool HasCoding(const rapidjson::Value& codeable, const char* system, const std::string& code) {
  if (!codeable.IsObject() || !codeable.HasMember("coding") || !codeable["coding"].IsArray())
    return false;
  for (const auto& c : codeable["coding"].GetArray())
    if (Str(c, "system") == system && Str(c, "code") == code) return true;
  return false;
}

std::vector<std::string> LoincCodes(const rapidjson::Value& codeable) {
  std::vector<std::string> codes;
  if (!codeable.IsObject() || !codeable.HasMember("coding") || !codeable["coding"].IsArray())
    return codes;
  for (const auto& c : codeable["coding"].GetArray())
    if (Str(c, "system") == kLoinc) codes.push_back(Str(c, "code"));
  return codes;
}

void CheckQuantity(const rapidjson::Value& q, const std::string& path,
                   const std::vector<const char*>& units, std::vector<ProfileIssue>& issues) {
  if (!q.IsObject()) {
    issues.push_back({path, "valueQuantity must be an object"});
    return;
  }
  // vs-? / profile: value, unit, system and code are all required (1..1).
  if (!q.HasMember("value") || !q["value"].IsNumber())
    issues.push_back({path + ".value", "required number missing"});
  if (Str(q, "unit").empty()) issues.push_back({path + ".unit", "required"});
  if (Str(q, "system") != kUcum) issues.push_back({path + ".system", "must be UCUM"});
  const std::string code = Str(q, "code");
  if (code.empty()) {
    issues.push_back({path + ".code", "required"});
  } else if (!units.empty()) {
    bool allowed = false;
    for (const char* u : units) allowed = allowed || code == u;
    if (!allowed) issues.push_back({path + ".code", "unit '" + code + "' not allowed by profile"});
  }
}

void CheckValueOrAbsent(const rapidjson::Value& element, const std::string& path,
                        const std::vector<const char*>& units, std::vector<ProfileIssue>& issues) {
  const bool has_value = element.HasMember("valueQuantity");
  const bool absent = element.HasMember("dataAbsentReason");
  if (has_value && absent) issues.push_back({path, "value and dataAbsentReason both present"});
  if (has_value) CheckQuantity(element["valueQuantity"], path + ".valueQuantity", units, issues);
  for (auto it = element.MemberBegin(); it != element.MemberEnd(); ++it) {
    const std::string name = it->name.GetString();
    if (name.rfind("value", 0) == 0 && name != "valueQuantity")
      issues.push_back({path + "." + name, "vital signs carry valueQuantity only"});
  }
}

void CheckBloodPressure(const rapidjson::Value& obs, const std::string& path,
                        std::vector<ProfileIssue>& issues) {
  if (!obs.HasMember("component") || !obs["component"].IsArray()) {
    issues.push_back({path + ".component", "bp requires systolic and diastolic components"});
    return;
  }
  int systolic = 0, diastolic = 0, index = 0;
  for (const auto& c : obs["component"].GetArray()) {
    const std::string cpath = path + ".component[" + std::to_string(index++) + "]";
    if (!c.HasMember("code")) {
      issues.push_back({cpath + ".code", "required"});
      continue;
    }
    const bool sys = HasCoding(c["code"], kLoinc, "8480-6");
    const bool dia = HasCoding(c["code"], kLoinc, "8462-4");
    systolic += sys;
    diastolic += dia;
    // vs-3: every component has a value or a dataAbsentReason.
    const bool any_value = std::any_of(c.MemberBegin(), c.MemberEnd(), [](const auto& m) {
      return std::string(m.name.GetString()).rfind("value", 0) == 0;
    });
    if (!any_value && !c.HasMember("dataAbsentReason"))
      issues.push_back({cpath, "vs-3: component needs a value or a dataAbsentReason"});
    if (sys || dia) CheckValueOrAbsent(c, cpath, {"mm[Hg]"}, issues);
  }
  if (systolic != 1) issues.push_back({path + ".component", "bp needs exactly one 8480-6"});
  if (diastolic != 1) issues.push_back({path + ".component", "bp needs exactly one 8462-4"});
}

}  // namespace

const VitalProfile* FindVitalProfile(const std::string& loinc) {
  for (const VitalProfile& p : Profiles())
    if (loinc == p.loinc) return &p;
  return nullptr;
}

void CheckVitalSignObservation(const rapidjson::Value& obs, const std::string& path,
                               std::vector<ProfileIssue>& issues) {
  if (Str(obs, "status").empty()) issues.push_back({path + ".status", "required"});
  bool category = false;
  if (obs.HasMember("category") && obs["category"].IsArray())
    for (const auto& c : obs["category"].GetArray())
      category = category || HasCoding(c, kCategorySystem, "vital-signs");
  if (!category) issues.push_back({path + ".category", "needs the vital-signs category"});
  if (!obs.HasMember("code")) {
    issues.push_back({path + ".code", "required"});
    return;
  }
  const VitalProfile* profile = nullptr;
  for (const std::string& loinc : LoincCodes(obs["code"]))
    if (!profile) profile = FindVitalProfile(loinc);
  if (Str(obs.HasMember("subject") ? obs["subject"] : obs, "reference").empty())
    issues.push_back({path + ".subject", "required reference"});
  const std::string when = obs.HasMember("effectiveDateTime") ? Str(obs, "effectiveDateTime")
                           : obs.HasMember("effectivePeriod") ? Str(obs["effectivePeriod"], "start")
                                                              : std::string();
  if (when.empty()) {
    issues.push_back({path + ".effective[x]", "required (vs-1)"});
  } else if (!std::regex_match(when, DateTimePattern())) {
    issues.push_back({path + ".effective[x]", "not a FHIR dateTime"});
  } else if (when.size() > 10 && when.find('T') == std::string::npos) {
    issues.push_back({path + ".effective[x]", "vs-1: a time needs a day"});
  }
  const bool has_component = obs.HasMember("component");
  const bool any_value = std::any_of(obs.MemberBegin(), obs.MemberEnd(), [](const auto& m) {
    return std::string(m.name.GetString()).rfind("value", 0) == 0;
  });
  // vs-2: no component or hasMember → a value or a dataAbsentReason.
  if (!has_component && !obs.HasMember("hasMember") && !any_value &&
      !obs.HasMember("dataAbsentReason"))
    issues.push_back({path, "vs-2: needs a value, a dataAbsentReason, or components"});
  if (profile == nullptr) return;
  if (std::string(profile->loinc) == "85354-9") {
    CheckBloodPressure(obs, path, issues);
  } else {
    CheckValueOrAbsent(obs, path, profile->units, issues);
  }
}

std::vector<ProfileIssue> CheckTransactionBundle(const rapidjson::Value& bundle) {
  std::vector<ProfileIssue> issues;
  if (Str(bundle, "resourceType") != "Bundle") issues.push_back({"Bundle", "not a Bundle"});
  if (Str(bundle, "type") != "transaction") issues.push_back({"Bundle.type", "not transaction"});
  if (!bundle.HasMember("entry") || !bundle["entry"].IsArray()) {
    issues.push_back({"Bundle.entry", "no entries"});
    return issues;
  }
  std::set<std::string> full_urls;
  int index = 0;
  for (const auto& e : bundle["entry"].GetArray()) {
    const std::string path = "Bundle.entry[" + std::to_string(index++) + "]";
    const std::string url = Str(e, "fullUrl");
    if (!full_urls.insert(url).second) issues.push_back({path + ".fullUrl", "bdl-7: not unique"});
    if (!e.HasMember("request") || Str(e["request"], "method").empty() ||
        Str(e["request"], "url").empty())
      issues.push_back({path + ".request", "bdl-3: transaction entries need a request"});
  }
  index = 0;
  for (const auto& e : bundle["entry"].GetArray()) {
    const std::string path = "Bundle.entry[" + std::to_string(index++) + "].resource";
    if (!e.HasMember("resource")) continue;
    const auto& r = e["resource"];
    for (const char* ref : {"subject", "device"}) {
      const std::string target = r.HasMember(ref) ? Str(r[ref], "reference") : std::string();
      if (target.rfind("urn:uuid:", 0) == 0 && !full_urls.count(target))
        issues.push_back({path + "." + ref, "reference does not resolve in the Bundle"});
    }
    if (Str(r, "resourceType") != "Observation") continue;
    bool vital = false;
    if (r.HasMember("category") && r["category"].IsArray())
      for (const auto& c : r["category"].GetArray())
        vital = vital || HasCoding(c, kCategorySystem, "vital-signs");
    if (r.HasMember("code"))
      for (const std::string& loinc : LoincCodes(r["code"]))
        vital = vital || FindVitalProfile(loinc) != nullptr;
    if (r.HasMember("valueQuantity") && !r["valueQuantity"].HasMember("value"))
      issues.push_back({path + ".valueQuantity.value", "required"});
    if (vital) CheckVitalSignObservation(r, path, issues);
  }
  return issues;
}

}  // namespace fhirbridge::profiles
