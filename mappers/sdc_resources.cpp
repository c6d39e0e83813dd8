#include "mappers/sdc_resources.h"

#include <charconv>

#include "mappers/fhir_json.h"
#include "mappers/fhir_values.h"

namespace fhirbridge::mappers::sdc_fhir {

namespace {

constexpr std::string_view kVitalCategory =
    R"("category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}],"text":"Vital Signs"}])";

std::optional<std::uint32_t> MdcNumber(const sdc::SdcCode& code) {
  if (!code.IsMdc()) return std::nullopt;
  std::uint32_t n = 0;
  const auto [end, ec] = std::from_chars(code.code.data(), code.code.data() + code.code.size(), n);
  if (ec != std::errc() || end != code.code.data() + code.code.size()) return std::nullopt;
  return n;
}

void WriteCoding(JsonWriter& w, std::string_view system, std::string_view code,
                 std::string_view display) {
  w.BeginObject();
  w.KeyString("system", system);
  w.KeyString("code", code);
  if (!display.empty()) w.KeyString("display", display);
  w.EndObject();
}

// A CodeableConcept of a BICEPS CodedValue: the coding (with the MDC reference id as display),
// the LOINC codings of a vital sign after it (as PCD-01 writes them), the concept description
// as text.
void WriteConcept(JsonWriter& w, std::string_view key, const Terminology& terms,
                  const sdc::SdcCode& code, const VitalSign* vital, bool loinc_first = false) {
  w.Key(key);
  w.BeginObject();
  w.Key("coding");
  w.BeginArray();
  std::string_view display;
  if (const auto n = MdcNumber(code))
    if (const MdcTerm* term = terms.FindCode(*n)) display = term->refid;
  // A bp component reads LOINC first, as PCD-01's and PHD's components do.
  const bool loinc = vital != nullptr && !vital->loinc.empty();
  if (loinc && loinc_first) WriteCoding(w, kLoincSystem, vital->loinc, vital->loinc_display);
  WriteCoding(w, FhirSystemOf(code), code.code, display);
  if (loinc && !loinc_first) {
    WriteCoding(w, kLoincSystem, vital->loinc, vital->loinc_display);
    if (!vital->extra_loinc.empty())
      WriteCoding(w, kLoincSystem, vital->extra_loinc, vital->extra_loinc_display);
  }
  w.EndArray();
  if (!code.text.empty()) w.KeyString("text", code.text);
  w.EndObject();
}

void WriteReference(JsonWriter& w, std::string_view key, const Identity& target) {
  w.Key(key);
  w.BeginObject();
  w.KeyString("reference", "urn:uuid:" + target.uuid);
  w.EndObject();
}

void WriteMeta(JsonWriter& w, const PlannedObservation& p) {
  WriteObservationMeta(w, p.vital != nullptr ? p.vital->profile_url : std::string_view(),
                       p.unreliable, p.test_data);
}

void WriteValue(JsonWriter& w, const Terminology& terms, const PlannedObservation& p) {
  if (!p.absent_reason.empty()) return WriteDataAbsent(w, p.absent_reason);
  std::string decimal;
  if (!p.state->value || !AppendFhirDecimal(decimal, *p.state->value))
    return WriteDataAbsent(w, "unknown");
  std::string_view ucum = UcumOf(terms, *p.metric);
  if (p.vital != nullptr && !ucum.empty())
    if (auto profile_unit = terms.ProfileUnit(*p.vital, ucum)) ucum = *profile_unit;
  w.Key("valueQuantity");
  w.BeginObject();
  w.Key("value");
  w.NumberText(decimal);
  if (!ucum.empty()) {
    w.KeyString("unit", ucum);
    w.KeyString("system", kUcumSystem);
    w.KeyString("code", ucum);
  } else if (p.metric->unit) {
    // No UCUM code for this unit: name it, without a code a receiver could misread.
    const sdc::SdcCode& unit = *p.metric->unit;
    std::string_view name = unit.text;
    if (const auto n = MdcNumber(unit))
      if (const MdcUnit* u = terms.FindUnit(*n)) name = u->refid;
    if (!name.empty()) w.KeyString("unit", name);
  }
  w.EndObject();
}

}  // namespace

std::string_view FhirSystemOf(const sdc::SdcCode& code) {
  return code.IsMdc() ? kMdcSystem : std::string_view(code.coding_system);
}

std::string_view UcumOf(const Terminology& terms, const sdc::SdcMetric& metric) {
  if (!metric.unit) return {};
  const auto n = MdcNumber(*metric.unit);
  if (!n) return {};
  return terms.UcumForMdcUnit(*n).value_or(std::string_view());
}

void WritePatientEntry(JsonWriter& w, const Identity& patient) {
  w.BeginObject();
  w.KeyString("fullUrl", "urn:uuid:" + patient.uuid);
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Patient");
  WriteIdentifier(w, patient.system, patient.value);
  w.EndObject();
  WriteConditionalCreate(w, "Patient", patient.system, patient.value);
  w.EndObject();
}

void WriteDeviceEntry(JsonWriter& w, const Terminology& terms, const sdc::SdcComponent& component,
                      const Identity& device, const Identity* parent) {
  w.BeginObject();
  w.KeyString("fullUrl", "urn:uuid:" + device.uuid);
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Device");
  WriteIdentifier(w, device.system, device.value);
  if (!component.manufacturer.empty()) w.KeyString("manufacturer", component.manufacturer);
  if (!component.serial_number.empty()) w.KeyString("serialNumber", component.serial_number);
  if (!component.model_number.empty()) w.KeyString("modelNumber", component.model_number);
  if (component.type) WriteConcept(w, "type", terms, *component.type, nullptr);
  // PoCD IG: a VMD's parent is its MDS, a channel's its VMD (Device.parent).
  if (parent != nullptr) WriteReference(w, "parent", *parent);
  w.EndObject();
  WriteConditionalCreate(w, "Device", device.system, device.value);
  w.EndObject();
}

void WriteObservationEntry(JsonWriter& w, const Terminology& terms, const SdcOptions& options,
                           const PlannedObservation& p, const Identity& patient,
                           const Identity& device) {
  w.BeginObject();
  w.KeyString("fullUrl", "urn:uuid:" + DeterministicUuid("Observation", p.identity));
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Observation");
  WriteMeta(w, p);
  WriteIdentifier(w, options.observation_identifier_system, p.identity);
  w.KeyString("status", p.status);
  if (p.vital != nullptr) w.RawMembers(kVitalCategory);
  const bool panel = !p.components.empty();
  WriteConcept(w, "code", terms, panel ? p.panel_code : *p.metric->type, p.vital);
  WriteReference(w, "subject", patient);
  w.KeyString("effectiveDateTime", p.date_time);
  if (!panel) WriteValue(w, terms, p);
  WriteReference(w, "device", device);
  if (panel) {
    w.Key("component");
    w.BeginArray();
    for (const PlannedObservation& c : p.components) {
      w.BeginObject();
      WriteConcept(w, "code", terms, *c.metric->type, c.vital, /*loinc_first=*/true);
      WriteValue(w, terms, c);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  WriteConditionalCreate(w, "Observation", options.observation_identifier_system, p.identity);
  w.EndObject();
}

}  // namespace fhirbridge::mappers::sdc_fhir
