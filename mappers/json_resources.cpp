#include "mappers/json_resources.h"

#include "mappers/fhir_json.h"
#include "mappers/fhir_values.h"

namespace fhirbridge::mappers::json {

namespace {

constexpr std::string_view kVitalCategory =
    R"("category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}],"text":"Vital Signs"}])";

void WriteCoding(JsonWriter& w, std::string_view system, std::string_view code,
                 std::string_view display) {
  w.BeginObject();
  w.KeyString("system", system);
  w.KeyString("code", code);
  if (!display.empty()) w.KeyString("display", display);
  w.EndObject();
}

// Observation.code (MDC first, as PCD-01 and PHD write it) or a bp component's code (LOINC
// first). Vital signs take their LOINC codes from the terminology; other codes the mapping's.
void WriteCode(JsonWriter& w, const CodeEntry& code, const VitalSign* vital, bool loinc_first) {
  const std::string_view loinc = vital != nullptr ? vital->loinc : std::string_view(code.loinc);
  const std::string_view loinc_display =
      vital != nullptr ? vital->loinc_display : std::string_view(code.loinc_display);
  w.Key("code");
  w.BeginObject();
  w.Key("coding");
  w.BeginArray();
  if (!loinc.empty() && loinc_first) WriteCoding(w, kLoincSystem, loinc, loinc_display);
  WriteCoding(w, kMdcSystem, std::to_string(code.mdc), code.mdc_display);
  if (!loinc.empty() && !loinc_first) {
    WriteCoding(w, kLoincSystem, loinc, loinc_display);
    if (vital != nullptr && !vital->extra_loinc.empty())
      WriteCoding(w, kLoincSystem, vital->extra_loinc, vital->extra_loinc_display);
  }
  w.EndArray();
  w.EndObject();
}

void WriteValue(JsonWriter& w, const PlannedValue& v) {
  if (v.decimal.empty()) return WriteDataAbsent(w, v.absent_reason);
  w.Key("valueQuantity");
  w.BeginObject();
  w.Key("value");
  w.NumberText(v.decimal);
  if (!v.ucum.empty()) {
    w.KeyString("unit", v.ucum);
    w.KeyString("system", kUcumSystem);
    w.KeyString("code", v.ucum);
  }
  w.EndObject();
}

}  // namespace

void WritePatientEntry(JsonWriter& w, std::string_view system, std::string_view value) {
  const std::string key = std::string(system) + "|" + std::string(value);
  w.BeginObject();
  w.KeyString("fullUrl", "urn:uuid:" + DeterministicUuid("Patient", key));
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Patient");
  WriteIdentifier(w, system, value);
  w.EndObject();
  WriteConditionalCreate(w, "Patient", system, value);
  w.EndObject();
}

void WriteDeviceEntry(JsonWriter& w, const DeviceFacts& device) {
  w.BeginObject();
  w.KeyString("fullUrl",
              "urn:uuid:" + DeterministicUuid("Device", device.system + "|" + device.id));
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Device");
  WriteIdentifier(w, device.system, device.id);
  if (!device.manufacturer.empty()) w.KeyString("manufacturer", device.manufacturer);
  if (!device.model.empty()) w.KeyString("modelNumber", device.model);
  if (device.type_mdc != 0) {
    w.Key("type");
    w.BeginObject();
    w.Key("coding");
    w.BeginArray();
    WriteCoding(w, kMdcSystem, std::to_string(device.type_mdc), device.type_display);
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  WriteConditionalCreate(w, "Device", device.system, device.id);
  w.EndObject();
}

void WriteObservationEntry(JsonWriter& w, const WriteContext& ctx, const PlannedObservation& p) {
  w.BeginObject();
  w.KeyString("fullUrl", "urn:uuid:" + DeterministicUuid("Observation", p.identity));
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Observation");
  if (p.vital != nullptr) {
    w.Key("meta");
    w.BeginObject();
    w.Key("profile");
    w.BeginArray();
    w.String(p.vital->profile_url);
    w.EndArray();
    w.EndObject();
  }
  WriteIdentifier(w, ctx.identifier_system, p.identity);
  w.KeyString("status", p.status);
  if (p.vital != nullptr) w.RawMembers(kVitalCategory);
  WriteCode(w, *p.code, p.vital, /*loinc_first=*/false);
  w.RawMembers(ctx.subject_member);
  w.KeyString("effectiveDateTime", p.time.date_time);
  if (p.components.empty()) WriteValue(w, p.value);
  w.RawMembers(ctx.device_member);
  if (!p.components.empty()) {
    w.Key("component");
    w.BeginArray();
    for (const PlannedValue& c : p.components) {
      w.BeginObject();
      WriteCode(w, *c.code, p.vital != nullptr ? c.code->vital : nullptr, /*loinc_first=*/true);
      WriteValue(w, c);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  WriteConditionalCreate(w, "Observation", ctx.identifier_system, p.identity);
  w.EndObject();
}

}  // namespace fhirbridge::mappers::json
