#include "mappers/pcd01_resources.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <functional>

#include "mappers/fhir_values.h"
#include "mappers/pcd01_values.h"
#include "mappers/v2_datatypes.h"

namespace fhirbridge::mappers::pcd01 {

namespace {

using hl7v2::Element;

constexpr std::string_view kVitalSignsProfile =
    "http://hl7.org/fhir/StructureDefinition/vitalsigns";

void AppendMdcCoding(std::string& out, std::uint32_t code, std::string_view refid) {
  out += R"({"system":"urn:iso:std:iso:11073:10101","code":")";
  out += std::to_string(code);
  out += '"';
  if (!refid.empty()) {
    out += R"(,"display":)";
    AppendJsonString(out, refid);
  }
  out += '}';
}

void AppendLoincCoding(std::string& out, std::string_view code, std::string_view display) {
  out += R"({"system":"http://loinc.org","code":)";
  AppendJsonString(out, code);
  if (!display.empty()) {
    out += R"(,"display":)";
    AppendJsonString(out, display);
  }
  out += '}';
}

// ---- planning: which rows become which Observation, with what identity --------------------

struct Planned {
  Group* group = nullptr;
  int main_row = -1;
  int systolic = -1, diastolic = -1, mean = -1;  // BP panel parts (row indices)
  CodeInfo code;
  CodeInfo diastolic_code, mean_code;  // resolved while planning
  std::uint32_t panel_code = 0;        // MDC code of the BP compound, when a panel
  std::string identity;                // identifier value before de-duplication
  std::string facet;                   // OBX-4 (or OBX-1) used when identities collide
  Flags flags;                         // OBX-8 of the main row
};

const Row& MainRow(const Planned& p) { return p.group->rows[p.main_row]; }

std::string IdentityOf(Context& ctx, const Model& model, const Row& row,
                       std::string_view code_key) {
  std::string id;
  AppendIdentifierComponent(id, ctx.sender);
  id += '/';
  if (row.device >= 0) {
    id += model.devices[row.device].id.key;
  } else if (model.patient) {
    // No device identity: the patient takes its place, so that two patients' measurements
    // from one sender at one time never share an identifier. A hash: identifiers carry no PHI.
    id += "patient-";
    id += HashHex64(model.patient->id.system + "|" + model.patient->id.value);
  } else {
    id += '-';
  }
  id += '/';
  id += code_key;
  id += '/';
  id += row.time ? row.time->utc_key : std::string("-");
  return id;
}

// Systolic/diastolic/mean rows of one channel at one time become one panel (MAPPING.md: blood
// pressure; the FHIR `bp` profile requires both systolic and diastolic components).
void PlanBloodPressure(Context& ctx, Group& group, std::vector<Planned>& plans,
                       std::vector<bool>& used) {
  for (std::size_t i = 0; i < plans.size(); ++i) {
    Planned& p = plans[i];
    if (p.group != &group || used[i] || p.code.vital == nullptr) continue;
    const auto role = p.code.vital->role;
    if (role != VitalSign::Role::kSystolic) continue;
    const Row& sys = MainRow(p);
    const std::uint32_t family = p.code.vital->panel_mdc_code;
    if (family == 0) continue;
    int dia = -1, mean = -1;
    for (std::size_t j = 0; j < plans.size(); ++j) {
      const Planned& q = plans[j];
      if (j == i || q.group != &group || used[j] || q.code.vital == nullptr) continue;
      const Row& other = MainRow(q);
      const bool same_place = other.parent == sys.parent && other.device == sys.device &&
                              other.time && sys.time && other.time->utc_key == sys.time->utc_key;
      if (!same_place) continue;
      if (q.code.vital->panel_mdc_code != family) continue;
      if (q.code.vital->role == VitalSign::Role::kDiastolic && dia < 0) dia = static_cast<int>(j);
      if (q.code.vital->role == VitalSign::Role::kMean && mean < 0) mean = static_cast<int>(j);
    }
    if (dia < 0) continue;  // an incomplete panel: the parts stay single Observations
    p.systolic = p.main_row;
    p.diastolic = plans[dia].main_row;
    p.diastolic_code = plans[dia].code;
    used[dia] = true;
    if (mean >= 0) {
      p.mean = plans[mean].main_row;
      p.mean_code = plans[mean].code;
      used[mean] = true;
    }
    p.panel_code = family;
    p.code.key = std::to_string(family);
    (void)ctx;
  }
}

std::vector<Planned> Plan(Context& ctx, Model& model) {
  std::vector<Planned> plans;
  std::size_t rows = 0;
  for (const Group& group : model.groups) rows += group.rows.size();
  plans.reserve(rows);
  for (Group& group : model.groups) {
    for (std::size_t r = 0; r < group.rows.size(); ++r) {
      Row& row = group.rows[r];
      if (row.kind != RowKind::kMetric) continue;
      Planned p;
      p.group = &group;
      p.main_row = static_cast<int>(r);
      p.code = ResolveCode(ctx, row);
      if (!row.time) {
        ctx.Error("required", row.obx.field(14).location(),
                  "no observation time: OBX-14, an ancestor row's OBX-14 and OBR-7 are all empty "
                  "or invalid");
      }
      const Flags flags = row.has(8) ? ReadFlags(ctx, row.obx.field(8), /*report=*/true) : Flags{};
      if (flags.test_data && !ctx.opts.deliver_test_data) {
        ctx.Info("informational", row.obx.field(8).location(),
                 "test/demo data (OBX-8) not delivered (sources[].deliver_test_data)");
        continue;
      }
      p.flags = flags;
      const std::string_view sub_id = row.sub_id;
      p.facet.clear();
      AppendIdentifierComponent(p.facet, sub_id.empty() ? row.obx.field(1).raw() : sub_id);
      plans.push_back(std::move(p));
    }
  }
  std::vector<bool> used(plans.size(), false);
  for (Group& group : model.groups) PlanBloodPressure(ctx, group, plans, used);
  std::vector<Planned> kept;
  kept.reserve(plans.size());  // Planned is large: no reallocation while moving into it
  for (std::size_t i = 0; i < plans.size(); ++i)
    if (!used[i]) kept.push_back(std::move(plans[i]));
  for (Planned& p : kept) p.identity = IdentityOf(ctx, model, MainRow(p), p.code.key);
  // MAPPING.md: the facet joins the identifier when one message repeats a code at one time.
  // Identities share long prefixes (sender/device/...): compare hashes before the text.
  const auto identity_hash = [](const Planned& p) {
    return std::hash<std::string_view>{}(p.identity);
  };
  std::vector<std::size_t> hashes(kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) hashes[i] = identity_hash(kept[i]);
  std::vector<bool> collides(kept.size(), false);
  for (std::size_t i = 0; i < kept.size(); ++i)
    for (std::size_t j = i + 1; j < kept.size(); ++j)
      if (hashes[j] == hashes[i] && kept[j].identity == kept[i].identity)
        collides[i] = collides[j] = true;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (!collides[i]) continue;
    kept[i].identity += "/" + kept[i].facet;
    hashes[i] = identity_hash(kept[i]);
  }
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (!collides[i]) continue;
    for (std::size_t j = i + 1; j < kept.size(); ++j) {
      if (hashes[j] == hashes[i] && kept[j].identity == kept[i].identity) {
        ctx.Error("duplicate", MainRow(kept[j]).obx.field(0).location(),
                  "reports the same code, device, time and OBX-4 as an earlier OBX");
      }
    }
  }
  return kept;
}

// ---- rendering --------------------------------------------------------------------------------

// `"<key>":{"reference":"urn:uuid:<uuid>"}`, built once per resource and message.
std::string ReferenceMember(std::string_view key, std::string_view uuid) {
  std::string m = "\"";
  m += key;
  m += R"(":{"reference":"urn:uuid:)";
  m += uuid;
  m += "\"}";
  return m;
}

void WriteRequest(JsonWriter& w, std::string_view type, std::string_view system,
                  std::string_view value) {
  w.Key("request");
  w.BeginObject();
  w.KeyString("method", "POST");
  w.KeyString("url", type);
  w.KeyString("ifNoneExist", IdentifierQuery(system, value));
  w.EndObject();
}

void WriteIdentifier(JsonWriter& w, std::string_view system, std::string_view value) {
  w.Key("identifier");
  w.BeginArray();
  w.BeginObject();
  w.KeyString("system", system);
  w.KeyString("value", value);
  w.EndObject();
  w.EndArray();
}

void WriteEffective(JsonWriter& w, const Row& row, const Group& group, bool interval) {
  if (row.time == nullptr) return;
  if (interval && group.end != nullptr && group.end->utc_seconds >= row.time->utc_seconds) {
    w.Key("effectivePeriod");
    w.BeginObject();
    w.KeyString("start", row.time->date_time);
    w.KeyString("end", group.end->date_time);
    w.EndObject();
  } else {
    w.KeyString("effectiveDateTime", row.time->date_time);
  }
}

// Observation elements after value[x], in the order R4 defines them.
// OBX-7 (the device's alarm limits, as text) → referenceRange.
void WriteReferenceRange(Context& ctx, JsonWriter& w, const Row& row) {
  if (!row.has(7)) return;
  const Element range = row.obx.field(7);
  std::string scratch;
  w.Key("referenceRange");
  w.BeginArray();
  w.BeginObject();
  w.KeyString("text", ctx.TextView(range, scratch));
  w.EndObject();
  w.EndArray();
}

// For a BP panel, `panel` leaves interpretation and referenceRange to the components.
void WriteRowDetails(Context& ctx, JsonWriter& w, const Row& row, const Flags& flags,
                     const Model& model, bool panel) {
  if (!panel) WriteInterpretation(w, flags);
  if (!row.notes.empty()) {
    w.Key("note");
    w.BeginArray();
    for (const hl7v2::Segment& nte : row.notes) {
      std::string text = ctx.Text(nte.field(3));
      if (text.empty()) continue;
      w.BeginObject();
      w.KeyString("text", text);
      w.EndObject();
    }
    w.EndArray();
  }
  if (row.has(20)) WriteCodeableConcept(ctx, w, "bodySite", row.obx.field(20));
  if (row.has(17)) WriteCodeableConcept(ctx, w, "method", row.obx.field(17));
  if (row.device >= 0) w.RawMembers(model.devices[row.device].reference);
  if (!panel) WriteReferenceRange(ctx, w, row);
}

void WriteMeta(JsonWriter& w, std::string_view profile_members, const Flags& flags) {
  const bool test = flags.test_data;
  if (profile_members.empty() && !flags.unreliable && !test) return;
  w.Key("meta");
  w.BeginObject();
  if (!profile_members.empty()) w.RawMembers(profile_members);
  if (flags.unreliable || test) {
    w.Key("security");
    w.BeginArray();
    if (flags.unreliable) {
      w.RawValue(
          R"({"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"UNRELIABLE","display":"unreliable"})");
    }
    if (test) {
      w.RawValue(
          R"({"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HTEST","display":"test health data"})");
    }
    w.EndArray();
  }
  w.EndObject();
}

void WriteComponent(Context& ctx, const FragmentCache& cache, JsonWriter& w, const Row& row,
                    const CodeInfo& code) {
  const Flags flags = row.has(8) ? ReadFlags(ctx, row.obx.field(8)) : Flags{};
  w.BeginObject();
  auto vital = cache.vital.find(code.mdc);
  if (vital != cache.vital.end()) {
    w.RawMembers(vital->second.component_code);
  } else {
    w.Key("code");
    w.BeginObject();
    w.Key("coding");
    std::string coding = "[";
    AppendMdcCoding(coding, code.mdc, code.refid);
    coding += ']';
    w.RawValue(coding);
    w.EndObject();
  }
  WriteNumericValue(ctx, w, row, code.vital, flags);
  WriteInterpretation(w, flags);
  WriteReferenceRange(ctx, w, row);
  w.EndObject();
}

void WriteObservation(Context& ctx, const FragmentCache& cache, const Model& model,
                      std::string_view subject, const Planned& p, JsonWriter& w) {
  const Row& row = MainRow(p);
  const Flags& flags = p.flags;
  const std::string_view value_type = row.f(2);
  const bool panel = p.panel_code != 0;
  // A vital sign only when the value is a Quantity in a unit the profile allows; otherwise the
  // Observation keeps its MDC coding and loses the vital-signs claim (with a warning).
  bool vital = p.code.vital != nullptr && value_type == "NM";
  if (vital && !panel && !VitalUnitAllowed(ctx, row, *p.code.vital)) vital = false;
  if (panel) {
    for (int part : {p.systolic, p.diastolic, p.mean})
      if (part >= 0 && !VitalUnitAllowed(ctx, p.group->rows[part], *p.code.vital)) vital = false;
  }
  const FragmentCache::Vital* fragments = nullptr;
  if (vital) {
    auto it = cache.vital.find(panel ? p.panel_code : p.code.mdc);
    if (it != cache.vital.end()) fragments = &it->second;
  }

  w.BeginObject();
  std::string& out = w.AppendRaw();
  out += R"("fullUrl":"urn:uuid:)";
  AppendDeterministicUuid(out, "Observation", p.identity);
  out += R"(","resource":{"resourceType":"Observation")";
  w.BeginObjectContinued();
  WriteMeta(w, fragments ? std::string_view(fragments->meta) : std::string_view(), flags);
  // The identity holds only [A-Za-z0-9._~%/:-] (AppendIdentifierComponent), so it needs no
  // JSON escaping.
  std::string& id = w.AppendRaw();
  id += cache.observation_identifier_prefix;
  id += p.identity;
  id += "\"}]";
  w.KeyString("status", ObservationStatus(ctx, row));
  if (fragments) w.RawMembers(cache.vital_category);
  w.Key("code");
  w.BeginObject();
  w.Key("coding");
  w.BeginArray();
  if (fragments) {
    w.RawValue(fragments->codings);
    WriteSenderCodings(ctx, w, row, /*present=*/fragments->codings);
  } else if (panel) {
    std::string coding;
    AppendMdcCoding(coding, p.panel_code,
                    ctx.terms.FindCode(p.panel_code) ? ctx.terms.FindCode(p.panel_code)->refid
                                                     : std::string_view());
    w.RawValue(coding);
  } else {
    WriteCodings(ctx, w, row, p.code);
  }
  w.EndArray();
  w.EndObject();
  w.RawMembers(subject);
  WriteEffective(w, row, *p.group, value_type == "NA");
  if (!panel)
    WriteValue(ctx, w, *p.group, p.main_row, p.code, vital ? p.code.vital : nullptr, flags);
  WriteRowDetails(ctx, w, row, flags, model, panel);
  if (panel) {
    w.Key("component");
    w.BeginArray();
    WriteComponent(ctx, cache, w, p.group->rows[p.systolic], p.code);
    WriteComponent(ctx, cache, w, p.group->rows[p.diastolic], p.diastolic_code);
    if (p.mean >= 0) WriteComponent(ctx, cache, w, p.group->rows[p.mean], p.mean_code);
    w.EndArray();
  }
  w.EndObject();
  std::string& request = w.AppendRaw();
  request += cache.observation_request_prefix;
  AppendSearchValue(request, p.identity);
  request += "\"}";
  w.EndObject();
}

void WritePatient(Context& ctx, const PatientInfo& patient, std::string_view uuid, JsonWriter& w) {
  w.BeginObject();
  w.KeyString("fullUrl", "urn:uuid:" + std::string(uuid));
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
  WriteRequest(w, "Patient", patient.id.system, patient.id.value);
  w.EndObject();
}

void WriteDevice(Context& ctx, const DeviceInfo& device, JsonWriter& w) {
  w.BeginObject();
  w.KeyString("fullUrl", "urn:uuid:" + device.uuid);
  w.Key("resource");
  w.BeginObject();
  w.KeyString("resourceType", "Device");
  WriteIdentifier(w, device.id.system, device.id.value);
  if (device.declared_by) WriteCodeableConcept(ctx, w, "type", device.declared_by->field(3));
  w.EndObject();
  WriteRequest(w, "Device", device.id.system, device.id.value);
  w.EndObject();
}

}  // namespace

FragmentCache FragmentCache::Build(const Terminology& terms, const Pcd01Options& options) {
  FragmentCache cache;
  auto add_unit = [&cache](std::string_view ucum) {
    if (ucum.empty() || cache.unit_members.count(ucum)) return;
    std::string m = R"("unit":)";
    AppendJsonString(m, ucum);
    m += R"(,"system":"http://unitsofmeasure.org","code":)";
    AppendJsonString(m, ucum);
    cache.unit_members.emplace(ucum, std::move(m));
  };
  for (std::uint32_t code = 0x40000; code < 0x50000; ++code)  // MDC partition 4: units
    if (auto ucum = terms.UcumForMdcUnit(code)) add_unit(*ucum);
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
    if (vs.loinc.empty()) continue;  // not a vital sign on its own (e.g. a mean pressure)
    cache.vital.emplace(vs.mdc_code, std::move(v));
  }
  return cache;
}

std::size_t WriteEntries(Context& ctx, Model& model, JsonWriter& w) {
  std::vector<Planned> plans = Plan(ctx, model);
  if (!model.patient) return 0;
  const PatientInfo& patient = *model.patient;
  const std::string patient_uuid =
      DeterministicUuid("Patient", patient.id.system + "|" + patient.id.value);
  const std::string subject = ReferenceMember("subject", patient_uuid);
  for (DeviceInfo& device : model.devices) {
    device.uuid = DeterministicUuid("Device", device.id.system + "|" + device.id.value);
    device.reference = ReferenceMember("device", device.uuid);
  }
  WritePatient(ctx, patient, patient_uuid, w);
  for (const DeviceInfo& device : model.devices) WriteDevice(ctx, device, w);
  for (const Planned& p : plans) WriteObservation(ctx, ctx.cache, model, subject, p, w);
  return plans.size();
}

}  // namespace fhirbridge::mappers::pcd01
