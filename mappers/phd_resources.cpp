#include "mappers/phd_resources.h"
#include "mappers/fhir_json.h"

#include "mappers/fhir_values.h"
#include "mappers/v2_datatypes.h"

namespace fhirbridge::mappers::phd_fhir {

namespace {

// Reference ids of the device specialisations' codes that the terminology tables (built from
// the hRTM and Antidote's nomenclature) do not carry (IEEE 11073-10101 and 104xx).
struct NamedCode {
  std::uint32_t code;
  std::string_view refid;
};
constexpr NamedCode kPhdCodes[] = {
    {65573, "MDC_MOC_VMS_MDS_SIMP"},
    {150020, "MDC_PRESS_BLD_NONINV"},
    {160184, "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD"},
    {188740, "MDC_LEN_BODY_ACTUAL"},
    {188752, "MDC_RATIO_MASS_BODY_LEN_SQ"},
    {528388, "MDC_DEV_SPEC_PROFILE_PULS_OXIM"},
    {528391, "MDC_DEV_SPEC_PROFILE_BP"},
    {528392, "MDC_DEV_SPEC_PROFILE_TEMP"},
    {528399, "MDC_DEV_SPEC_PROFILE_SCALE"},
    {528401, "MDC_DEV_SPEC_PROFILE_GLUCOSE"},
};

constexpr std::string_view kVitalCategory =
    R"("category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}],"text":"Vital Signs"}])";

void WriteMdcCoding(JsonWriter& w, const Terminology& terms, std::uint32_t code) {
  w.BeginObject();
  w.KeyString("system", kMdcSystem);
  w.KeyString("code", std::to_string(code));
  if (std::string_view refid = RefidOf(terms, code); !refid.empty()) w.KeyString("display", refid);
  w.EndObject();
}

void WriteLoincCoding(JsonWriter& w, std::string_view code, std::string_view display) {
  w.BeginObject();
  w.KeyString("system", kLoincSystem);
  w.KeyString("code", code);
  if (!display.empty()) w.KeyString("display", display);
  w.EndObject();
}

// Observation.code or component.code: MDC first for an Observation (as PCD-01 writes it), LOINC
// first in a bp component (as PCD-01's components read).
void WriteCode(JsonWriter& w, const Terminology& terms, std::uint32_t code, const VitalSign* vital,
               bool loinc_first) {
  w.Key("code");
  w.BeginObject();
  w.Key("coding");
  w.BeginArray();
  const bool loinc = vital != nullptr && !vital->loinc.empty();
  if (loinc && loinc_first) WriteLoincCoding(w, vital->loinc, vital->loinc_display);
  WriteMdcCoding(w, terms, code);
  if (loinc && !loinc_first) WriteLoincCoding(w, vital->loinc, vital->loinc_display);
  if (vital != nullptr && !vital->extra_loinc.empty() && !loinc_first)
    WriteLoincCoding(w, vital->extra_loinc, vital->extra_loinc_display);
  w.EndArray();
  w.EndObject();
}

// valueQuantity of one value, or dataAbsentReason for a reserved value or a status that says
// there is none. `vital` picks the unit spelling the profile wants ({beat}/min -> /min).
void WriteValue(JsonWriter& w, const Terminology& terms, const phd::NumericValue* value,
                const VitalSign* vital, std::string_view absent_reason) {
  if (!absent_reason.empty()) return WriteDataAbsent(w, absent_reason);
  if (value == nullptr) return WriteDataAbsent(w, "unknown");
  if (!value->number.is_number()) return WriteDataAbsent(w, AbsentReasonOf(value->number.kind));
  std::string_view ucum = UcumOf(terms, value->unit);
  if (vital != nullptr && !ucum.empty())
    if (auto profile_unit = terms.ProfileUnit(*vital, ucum)) ucum = *profile_unit;
  w.Key("valueQuantity");
  w.BeginObject();
  w.Key("value");
  w.NumberText(value->number.ToDecimal());
  if (!ucum.empty()) {
    w.KeyString("unit", ucum);
    w.KeyString("system", kUcumSystem);
    w.KeyString("code", ucum);
  } else if (value->unit != 0) {
    // No UCUM code for this MDC unit: name it, without a code a receiver could misread.
    const MdcUnit* unit = terms.FindUnit((4u << 16) | value->unit);
    w.KeyString("unit", unit != nullptr ? unit->refid : std::string_view("MDC unit"));
  }
  w.EndObject();
}

void WriteMeta(JsonWriter& w, const PlannedObservation& p) {
  WriteObservationMeta(w, p.vital != nullptr ? p.vital->profile_url : std::string_view(),
                       p.unreliable, p.test_data);
}

void WriteComponents(JsonWriter& w, const WriteContext& ctx, const PlannedObservation& p) {
  w.Key("component");
  w.BeginArray();
  for (const phd::NumericValue& v : p.measurement->values) {
    const VitalSign* part = p.vital != nullptr ? ctx.terms.FindVitalSign(v.code) : nullptr;
    w.BeginObject();
    WriteCode(w, ctx.terms, v.code, part, /*loinc_first=*/true);
    WriteValue(w, ctx.terms, &v, part, p.absent_reason);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string_view RefidOf(const Terminology& terms, std::uint32_t code) {
  if (const MdcTerm* term = terms.FindCode(code)) return term->refid;
  for (const NamedCode& n : kPhdCodes)
    if (n.code == code) return n.refid;
  return {};
}

std::string_view UcumOf(const Terminology& terms, std::uint16_t unit) {
  if (unit == 0) return {};
  return terms.UcumForMdcUnit((4u << 16) | unit).value_or(std::string_view());
}

std::string_view AbsentReasonOf(phd::MderNumber::Kind kind) {
  switch (kind) {
    case phd::MderNumber::Kind::kNaN:
      return "not-a-number";
    case phd::MderNumber::Kind::kPositiveInfinity:
      return "positive-infinity";
    case phd::MderNumber::Kind::kNegativeInfinity:
      return "negative-infinity";
    case phd::MderNumber::Kind::kNRes:      // not at this resolution
    case phd::MderNumber::Kind::kReserved:  // reserved for future use
    case phd::MderNumber::Kind::kNumber:
      return "error";
  }
  return "error";
}

void WritePatientEntry(JsonWriter& w, std::string_view system, std::string_view value) {
  w.BeginObject();
  w.KeyString("fullUrl", "urn:uuid:" + DeterministicUuid("Patient", std::string(system) + "|" +
                                                                        std::string(value)));
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Patient");
  WriteIdentifier(w, system, value);
  w.EndObject();
  WriteConditionalCreate(w, "Patient", system, value);
  w.EndObject();
}

void WriteDeviceEntry(JsonWriter& w, const Terminology& terms, const phd::DeviceIdentity& device,
                      std::string_view eui64_hex) {
  w.BeginObject();
  w.KeyString("fullUrl", "urn:uuid:" + DeterministicUuid("Device", std::string(kEui64System) + "|" +
                                                                       std::string(eui64_hex)));
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Device");
  WriteIdentifier(w, kEui64System, eui64_hex);
  if (!device.manufacturer.empty()) w.KeyString("manufacturer", device.manufacturer);
  if (!device.model.empty()) w.KeyString("modelNumber", device.model);
  if (!device.specializations.empty()) {
    // PCD-01 types an MDS Device by its OBX-3, which for a PHD is the specialisation.
    w.Key("type");
    w.BeginObject();
    w.Key("coding");
    w.BeginArray();
    WriteMdcCoding(w, terms, device.specializations.front());
    w.EndArray();
    w.EndObject();
    // PHD IG (PhdDevice): every specialisation the agent declares.
    w.Key("specialization");
    w.BeginArray();
    for (std::uint32_t spec : device.specializations) {
      w.BeginObject();
      w.Key("systemType");
      w.BeginObject();
      w.Key("coding");
      w.BeginArray();
      WriteMdcCoding(w, terms, spec);
      w.EndArray();
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  WriteConditionalCreate(w, "Device", kEui64System, eui64_hex);
  w.EndObject();
}

void WriteObservationEntry(JsonWriter& w, const WriteContext& ctx, const PlannedObservation& p) {
  const phd::Measurement& m = *p.measurement;
  w.BeginObject();
  w.KeyString("fullUrl", "urn:uuid:" + DeterministicUuid("Observation", p.identity));
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Observation");
  WriteMeta(w, p);
  WriteIdentifier(w, ctx.options.observation_identifier_system, p.identity);
  w.KeyString("status", p.status);
  if (p.vital != nullptr) w.RawMembers(kVitalCategory);
  WriteCode(w, ctx.terms, m.type, p.vital, /*loinc_first=*/false);
  w.RawMembers(ctx.subject_member);
  w.KeyString("effectiveDateTime", p.time.date_time);
  const bool components = m.compound && !m.values.empty();
  if (!components)
    WriteValue(w, ctx.terms, m.values.empty() ? nullptr : &m.values.front(), p.vital,
               p.absent_reason);
  w.RawMembers(ctx.device_member);
  if (components) WriteComponents(w, ctx, p);
  w.EndObject();
  WriteConditionalCreate(w, "Observation", ctx.options.observation_identifier_system, p.identity);
  w.EndObject();
}

}  // namespace fhirbridge::mappers::phd_fhir
