#include "mappers/pcd01_resources.h"
#include "mappers/fhir_json.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>

#include "mappers/fhir_values.h"
#include "mappers/pcd01_observation.h"
#include "mappers/pcd01_plan.h"
#include "mappers/pcd01_values.h"
#include "mappers/v2_datatypes.h"

namespace fhirbridge::mappers::pcd01 {

namespace {

using hl7v2::Element;

void AppendLoincCoding(std::string& out, std::string_view code, std::string_view display) {
  out += R"({"system":"http://loinc.org","code":)";
  AppendJsonString(out, code);
  if (!display.empty()) {
    out += R"(,"display":)";
    AppendJsonString(out, display);
  }
  out += '}';
}

// ---- rendering --------------------------------------------------------------------------------

// `"fullUrl":"urn:uuid:<uuid>"` (a UUID needs no escaping).
void WriteFullUrl(JsonWriter& w, std::string_view uuid) {
  w.Key("fullUrl");
  std::string& out = w.AppendRaw();
  out += "\"urn:uuid:";
  out += uuid;
  out += '"';
}

// "<system>|<value>": what a resource's UUID is made from, into `out` (reused: it keeps its
// room from one identity to the next).
std::string_view IdentityText(const Identity& id, std::string& out) {
  out.assign(id.system);
  out += '|';
  out += id.value;
  return out;
}

// `"request":{"method":"POST","url":"<type>","ifNoneExist":"identifier=<system>|<value>"}`, as
// fhir_json's WriteConditionalCreate writes it, without building the query apart: the
// search-escaped query is made of [A-Za-z0-9-._~:/%|=] only, so it needs no JSON escaping.
void WriteConditionalCreate(JsonWriter& w, std::string_view type, const Identity& id) {
  w.Key("request");
  std::string& out = w.AppendRaw();
  out += R"({"method":"POST","url":")";
  out += type;
  out += R"(","ifNoneExist":"identifier=)";
  AppendSearchValue(out, id.system);
  out += '|';
  AppendSearchValue(out, id.value);
  out += "\"}";
}

void WritePatient(Context& ctx, const PatientInfo& patient, std::string_view uuid, JsonWriter& w) {
  w.BeginObject();
  WriteFullUrl(w, uuid);
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Patient");
  w.Key("identifier");
  w.BeginArray();
  w.BeginObject();
  WriteIdentifierType(w, patient.type_code);
  w.KeyString("system", patient.id.system);
  w.KeyString("value", patient.id.value);
  w.EndObject();
  w.EndArray();
  if (patient.pid) WriteDemographics(ctx, w, *patient.pid);
  w.EndObject();
  WriteConditionalCreate(w, "Patient", patient.id);
  w.EndObject();
}

void WriteDevice(Context& ctx, const DeviceInfo& device, JsonWriter& w) {
  w.BeginObject();
  WriteFullUrl(w, device.reference.uuid());
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Device");
  WriteIdentifier(w, device.id.system, device.id.value);
  if (device.declared_by) WriteCodeableConcept(ctx, w, "type", device.declared_by->field(3));
  w.EndObject();
  WriteConditionalCreate(w, "Device", device.id);
  w.EndObject();
}

}  // namespace

void UuidReference::Set(std::string_view key, std::string_view kind, std::string_view text) {
  key = key.substr(0, kMaxKey);  // the callers' keys are short literals
  char* at = member_;
  *at++ = '"';
  std::memcpy(at, key.data(), key.size());
  at += key.size();
  std::memcpy(at, kMiddle.data(), kMiddle.size());
  at += kMiddle.size();
  uuid_at_ = static_cast<std::size_t>(at - member_);
  WriteDeterministicUuid(at, kind, text);
  at += kUuid;
  *at++ = '"';
  *at++ = '}';
  size_ = static_cast<std::size_t>(at - member_);
}

FragmentCache FragmentCache::Build(const Terminology& terms, const Pcd01Options& options) {
  FragmentCache cache;
  auto add_unit = [&cache](std::string_view ucum) {
    if (ucum.empty() || cache.unit_members.Find(ucum) != nullptr) return;
    std::string m;
    AppendUcumMembers(m, ucum);
    cache.unit_members.Emplace(ucum, std::move(m));
  };
  for (std::uint32_t code = 0x40000; code < 0x50000; ++code) {  // MDC partition 4: units
    const std::optional<std::string_view> ucum = terms.UcumForMdcUnit(code);
    if (!ucum) continue;
    add_unit(*ucum);
    const MdcUnit* unit = terms.FindUnit(code);
    // ResolveUcum takes a nonzero MDC code's UCUM whatever the reference id says; the key is
    // only the usual text.
    if (unit->refid.empty()) continue;
    const std::string& obx6 = cache.obx3_texts.emplace_back(std::to_string(code) + "^" +
                                                            std::string(unit->refid) + "^MDC");
    cache.known_obx6.Emplace(obx6, KnownUnit{*ucum, cache.unit_members.Find(*ucum)});
  }
  for (const VitalSign& vs : terms.vital_signs())
    for (std::string_view u : vs.units) add_unit(u);
  cache.observation_identifier_prefix = R"("identifier":[{"system":)";
  AppendJsonString(cache.observation_identifier_prefix, options.observation_identifier_system);
  cache.observation_identifier_prefix += R"(,"value":")";
  std::string query_system;
  AppendSearchValue(query_system, options.observation_identifier_system);
  cache.observation_request_prefix =
      R"("request":{"method":"POST","url":"Observation","ifNoneExist":)";
  // The query text is made of [A-Za-z0-9-._~:/%|=] only: no JSON escaping inside the quotes.
  cache.observation_request_prefix += "\"identifier=" + query_system + "|";
  cache.vital_category =
      R"("category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}],"text":"Vital Signs"}])";
  for (const MdcTerm& term : terms.terms()) {
    std::string coding;
    AppendMdcCoding(coding, term.code, term.refid);
    cache.mdc_coding.emplace(term.code, std::move(coding));
    if (term.refid.empty()) continue;
    const std::string& obx3 = cache.obx3_texts.emplace_back(std::to_string(term.code) + "^" +
                                                            std::string(term.refid) + "^MDC");
    cache.known_obx3.Emplace(
        obx3, FragmentCache::KnownTerm{term.code, term.refid, terms.FindVitalSign(term.code),
                                       std::to_string(term.code)});
  }
  for (const VitalSign& vs : terms.vital_signs()) {
    Vital v;
    AppendMdcCoding(v.codings, vs.mdc_code, vs.mdc_refid);
    if (!vs.loinc.empty()) {
      v.codings += ',';
      AppendLoincCoding(v.codings, vs.loinc, vs.loinc_display);
      v.component_code = R"("code":{"coding":[)";
      AppendLoincCoding(v.component_code, vs.loinc, vs.loinc_display);
      v.component_code += ',';
      AppendMdcCoding(v.component_code, vs.mdc_code, vs.mdc_refid);
      v.component_code += "]}";
    } else {
      v.component_code = R"("code":{"coding":[)";
      AppendMdcCoding(v.component_code, vs.mdc_code, vs.mdc_refid);
      v.component_code += "]}";
    }
    if (!vs.extra_loinc.empty()) {
      v.codings += ',';
      AppendLoincCoding(v.codings, vs.extra_loinc, vs.extra_loinc_display);
    }
    // Parts of a BP panel reported on their own claim only the generic vital-signs profile.
    const bool part = vs.role == VitalSign::Role::kSystolic ||
                      vs.role == VitalSign::Role::kDiastolic || vs.role == VitalSign::Role::kMean;
    const std::string_view profile = part ? kVitalSignsProfile : vs.profile_url;
    v.meta = R"("profile":[)";
    AppendJsonString(v.meta, profile);
    v.meta += ']';
    v.resource_head = R"(","resource":{"resourceType":"Observation","meta":{)" + v.meta + "}," +
                      cache.observation_identifier_prefix;
    v.code_block = "," + cache.vital_category + R"(,"code":{"coding":[)" + v.codings + "]},";
    if (vs.loinc.empty()) continue;  // not a vital sign on its own (e.g. a mean pressure)
    cache.vital.emplace(vs.mdc_code, std::move(v));
  }
  // Map nodes never move: the known terms point at their fragments.
  cache.known_obx3.ForEach([&cache](std::string_view, KnownTerm& known) {
    known.fragments = cache.FindVital(known.code);
    known.coding = cache.FindCoding(known.code);
  });
  return cache;
}

std::size_t WriteEntries(Context& ctx, Model& model, JsonWriter& w) {
  Plans plans;
  Plan(ctx, model, plans);
  if (!model.patient) return 0;
  const PatientInfo& patient = *model.patient;
  std::string text;
  UuidReference subject;
  subject.Set("subject", "Patient", IdentityText(patient.id, text));
  for (DeviceInfo& device : model.devices)
    device.reference.Set("device", "Device", IdentityText(device.id, text));
  WritePatient(ctx, patient, subject.uuid(), w);
  for (const DeviceInfo& device : model.devices) WriteDevice(ctx, device, w);
  // The Observations follow in the same array (each with its comma), most of them prebuilt
  // fragments: appended without a JsonWriter.
  JsonAppender out(w.out());
  for (const Planned& p : plans.items) WriteObservation(ctx, model, subject.member(), p, out);
  return plans.items.size();
}

}  // namespace fhirbridge::mappers::pcd01
