#include "mappers/sdc_mapper.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <unordered_map>

#include "fhirbridge/json_writer.h"
#include "fhirbridge/timezone.h"
#include "mappers/fhir_values.h"
#include "mappers/sdc_resources.h"

namespace fhirbridge::mappers {

namespace {

using sdc::SdcComponent;
using sdc::SdcDocument;
using sdc::SdcMetric;
using sdc::SdcMetricKind;
using sdc::SdcMetricState;
using sdc_fhir::Identity;
using sdc_fhir::PlannedObservation;

// BICEPS Timestamp (ms since 1970-01-01T00:00Z) → FHIR dateTime in UTC with milliseconds, and
// the same instant as an identifier key.
std::pair<std::string, std::string> UtcTime(std::int64_t ms) {
  const std::int64_t days = ms / 86'400'000;
  const std::int64_t rest = ms % 86'400'000;
  const CivilDate d = CivilFromDays(days);
  const int h = static_cast<int>(rest / 3'600'000), mi = static_cast<int>(rest / 60'000 % 60);
  const int s = static_cast<int>(rest / 1000 % 60), f = static_cast<int>(rest % 1000);
  char text[40], key[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", d.year, d.month, d.day, h,
                mi, s, f);
  std::snprintf(key, sizeof key, "%04d%02u%02uT%02d%02d%02d.%03dZ", d.year, d.month, d.day, h, mi,
                s, f);
  return {text, key};
}

std::string Scoped(std::string_view source, std::string_view what) {
  std::string system = "urn:fhirbridge:source:";
  AppendIdentifierComponent(system, source);
  system += ':';
  system += what;
  return system;
}

Identity MakeIdentity(std::string_view kind, std::string system, std::string value) {
  Identity id{std::move(system), std::move(value), {}};
  id.uuid = DeterministicUuid(kind, id.system + "|" + id.value);
  return id;
}

// BICEPS InstanceIdentifier Root: an ISO OID becomes urn:oid:, a URI stays as it is.
std::string SystemOfRoot(std::string_view root, std::string_view source) {
  if (root.empty()) return Scoped(source, "sdc-patient-id");
  if (root.find(':') != std::string_view::npos) return std::string(root);
  const bool oid = std::all_of(root.begin(), root.end(),
                               [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  return oid ? "urn:oid:" + std::string(root) : Scoped(source, "sdc-root:" + std::string(root));
}

// The associated patient's first identifier, else a Patient identified by the MDS (as PHD does
// with the device), so a device's data stays together until a person matches it.
Identity PatientOf(const SdcOptions& o, const SdcDocument& mdib) {
  if (mdib.patient && !mdib.patient->identifiers.empty()) {
    const sdc::SdcPatient::Id& id = mdib.patient->identifiers.front();
    return MakeIdentity("Patient", SystemOfRoot(id.root, o.source_name), id.extension);
  }
  return MakeIdentity("Patient", Scoped(o.source_name, "sdc-patient"),
                      mdib.components.front().handle);
}

struct Validity {
  std::string status;
  std::string_view absent_reason;
  bool unreliable = false;
  const char* warning = nullptr;
};

// MetricQuality/@Validity (BICEPS MeasurementValidity) → Observation (docs/connector-sdc.md,
// MAPPING.md "IEEE 11073-20601 (PHD) and SDC").
Validity ValidityOf(const SdcOptions& o, std::string_view v) {
  if (v.empty() || v == "Vld") return {o.status_for_valid, {}, false, nullptr};
  if (v == "Vldated") return {"final", {}, false, nullptr};
  if (v == "Ong") return {"preliminary", {}, false, nullptr};
  if (v == "Calib") return {"preliminary", {}, true, nullptr};
  if (v == "Qst")
    return {o.status_for_valid, {}, true, "the device marks the value questionable (Qst)"};
  if (v == "Inv")
    return {o.status_for_valid, "error", false, "the device marks the value invalid (Inv)"};
  if (v == "Oflw") return {o.status_for_valid, "positive-infinity", false, nullptr};
  if (v == "Uflw") return {o.status_for_valid, "negative-infinity", false, nullptr};
  if (v == "NA") return {o.status_for_valid, "unknown", false, nullptr};
  return {o.status_for_valid, {}, true, "unknown MetricQuality Validity: marked unreliable"};
}

// The vital sign a metric is, when its code is MDC, a single vital sign, and its unit one the
// profile allows. Blood-pressure parts stay MDC-coded (see docs: not combined into a panel yet).
const VitalSign* VitalOf(const Terminology& terms, const SdcMetric& m) {
  if (!m.type || !m.type->IsMdc()) return nullptr;
  std::uint32_t code = 0;
  for (char c : m.type->code) code = code * 10 + static_cast<std::uint32_t>(c - '0');
  const VitalSign* vital = terms.FindVitalSign(code);
  if (vital == nullptr || vital->role != VitalSign::Role::kSingle) return nullptr;
  const std::string_view ucum = sdc_fhir::UcumOf(terms, m);
  return !ucum.empty() && terms.ProfileUnit(*vital, ucum) ? vital : nullptr;
}

// The bp part (systolic, diastolic, mean) a metric is, when its unit is one the profile allows.
const VitalSign* BpPartOf(const Terminology& terms, const SdcMetric& m) {
  if (!m.type || !m.type->IsMdc()) return nullptr;
  const VitalSign* part = terms.FindVitalSign(static_cast<std::uint32_t>(std::stoul(m.type->code)));
  if (part == nullptr || part->panel_mdc_code == 0) return nullptr;
  const std::string_view ucum = sdc_fhir::UcumOf(terms, m);
  return !ucum.empty() && terms.ProfileUnit(*part, ucum) ? part : nullptr;
}

// R4 vital signs `bp` (and PoCD): the systolic, diastolic and mean metrics of one channel at one
// DeterminationTime are one panel Observation (85354-9 + the MDC panel code) with components,
// as PCD-01 and PHD write them. Parts without a partner stay Observations of their own.
void GroupBloodPressure(std::vector<PlannedObservation>& plans, const Terminology& terms,
                        const SdcOptions& o) {
  std::map<std::tuple<std::string, std::uint32_t, std::string>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (const VitalSign* part = BpPartOf(terms, *plans[i].metric))
      groups[{plans[i].metric->channel_handle, part->panel_mdc_code, plans[i].time_key}].push_back(
          i);
  }
  std::vector<std::optional<PlannedObservation>> panel_at(plans.size());
  std::vector<bool> grouped(plans.size(), false);
  for (const auto& [key, members] : groups) {
    const VitalSign* panel = terms.FindVitalSign(std::get<1>(key));
    std::vector<std::size_t> by_role(3, plans.size());  // systolic, diastolic, mean
    bool clash = false;
    for (std::size_t i : members) {
      const VitalSign::Role role = BpPartOf(terms, *plans[i].metric)->role;
      const std::size_t slot = role == VitalSign::Role::kSystolic    ? 0
                               : role == VitalSign::Role::kDiastolic ? 1
                                                                     : 2;
      clash |= by_role[slot] != plans.size();
      by_role[slot] = i;
    }
    if (panel == nullptr || panel->role != VitalSign::Role::kPanel || clash ||
        by_role[0] == plans.size() || by_role[1] == plans.size())
      continue;
    const PlannedObservation& first = plans[by_role[0]];
    PlannedObservation p;
    p.state = first.state;
    p.metric = first.metric;
    p.date_time = first.date_time;
    p.time_key = first.time_key;
    p.vital = panel;
    p.panel_code.code = std::to_string(panel->mdc_code);
    p.panel_code.coding_system = std::string(sdc::kMdcCodingSystem);
    p.status = "final";
    for (std::size_t slot : by_role) {
      if (slot == plans.size()) continue;
      PlannedObservation c = plans[slot];
      c.vital = BpPartOf(terms, *c.metric);
      if (c.status != "final") p.status = c.status;
      p.unreliable |= c.unreliable;
      p.test_data |= c.test_data;
      p.components.push_back(std::move(c));
      grouped[slot] = true;
    }
    AppendIdentifierComponent(p.identity, o.source_name);
    p.identity += '/';
    AppendIdentifierComponent(p.identity, first.metric->mds_handle);
    p.identity += '/' + p.panel_code.code + '/' + p.time_key + '/';
    AppendIdentifierComponent(p.identity, first.metric->channel_handle);
    const std::size_t at = *std::min_element(members.begin(), members.end());
    panel_at[at] = std::move(p);
  }
  std::vector<PlannedObservation> out;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (panel_at[i]) out.push_back(std::move(*panel_at[i]));
    if (!grouped[i]) out.push_back(std::move(plans[i]));
  }
  plans = std::move(out);
}

std::string_view MetricKindName(SdcMetricKind kind) {
  switch (kind) {
    case SdcMetricKind::kString:
      return "a string";
    case SdcMetricKind::kEnumString:
      return "an enumeration";
    case SdcMetricKind::kRealTimeSampleArray:
      return "a real-time sample array";
    case SdcMetricKind::kDistributionSampleArray:
      return "a distribution sample array";
    default:
      return "a non-numeric";
  }
}

}  // namespace

struct SdcMapper::Impl {
  Impl(const Terminology& t, SdcOptions o) : terms(t), options(std::move(o)) {}
  const Terminology& terms;
  SdcOptions options;

  // Plans the Observation of one state, or says (in `out`) why there is none.
  std::optional<PlannedObservation> Plan(const SdcMetricState& s, const SdcDocument& mdib,
                                         DataIssues& out, bool& error) const;
};

std::optional<PlannedObservation> SdcMapper::Impl::Plan(const SdcMetricState& s,
                                                        const SdcDocument& mdib, DataIssues& out,
                                                        bool& error) const {
  const SdcMetric* metric = mdib.FindMetric(s.descriptor_handle);
  if (metric == nullptr) return std::nullopt;  // the reader reported it
  const SdcMetricKind kind = s.kind == SdcMetricKind::kOther ? metric->kind : s.kind;
  if (!s.has_value_element) return std::nullopt;  // no MetricValue: nothing was measured
  if (kind != SdcMetricKind::kNumeric) {
    out.push_back(DataIssue::Info(
        "not-supported", s.location,
        std::string(MetricKindName(kind)) + " metric: only numeric metrics become Observations"));
    return std::nullopt;
  }
  if (!metric->type) {
    out.push_back(DataIssue::Error(
        "code-invalid", s.location,
        "the metric's descriptor (" + metric->location + ") has no usable Type code"));
    error = true;
    return std::nullopt;
  }
  if (!s.activation_state.empty() && s.activation_state != "On") {
    out.push_back(DataIssue::Info("informational", s.location,
                                  "ActivationState " + s.activation_state +
                                      ": the metric is not active; its value is not delivered"));
    return std::nullopt;
  }
  if (!s.determination_time_ms) {
    if (error) return std::nullopt;  // a DeterminationTime that did not read is said already
    out.push_back(DataIssue::Warning(
        "required", s.location,
        "the value has no DeterminationTime: its time is unknown and it is not delivered"));
    return std::nullopt;
  }
  PlannedObservation p;
  p.state = &s;
  p.metric = metric;
  if (s.mode == "Demo" || s.mode == "Test") {
    if (!options.deliver_test_data) {
      out.push_back(DataIssue::Info(
          "informational", s.location,
          s.mode + " data (MetricQuality Mode) not delivered (sources[].deliver_test_data)"));
      return std::nullopt;
    }
    p.test_data = true;
  }
  const Validity v = ValidityOf(options, s.validity);
  if (v.warning != nullptr) out.push_back(DataIssue::Warning("value", s.location, v.warning));
  p.status = v.status;
  p.absent_reason = v.absent_reason;
  p.unreliable = v.unreliable;
  p.vital = VitalOf(terms, *metric);
  auto [date_time, key] = UtcTime(*s.determination_time_ms);
  p.date_time = std::move(date_time);
  p.time_key = key;
  // Deterministic (MAPPING.md, identifiers): the same measurement sent again, in another MDIB or
  // report, gets the same identifier; the handle tells metrics with one code apart.
  AppendIdentifierComponent(p.identity, options.source_name);
  p.identity += '/';
  AppendIdentifierComponent(p.identity, metric->mds_handle);
  p.identity += '/';
  AppendIdentifierComponent(p.identity, metric->type->code);
  p.identity += '/';
  p.identity += key;
  p.identity += '/';
  AppendIdentifierComponent(p.identity, metric->handle);
  return p;
}

SdcMapper::SdcMapper(const Terminology& terminology, SdcOptions options)
    : impl_(std::make_unique<Impl>(terminology, std::move(options))) {}
SdcMapper::~SdcMapper() = default;

const SdcOptions& SdcMapper::options() const { return impl_->options; }

MapOutput SdcMapper::Map(std::string_view raw) const { return Map(raw, nullptr); }

MapOutput SdcMapper::Map(std::string_view raw, const sdc::SdcDocument* mdib) const {
  Result<SdcDocument> doc = sdc::ReadSdcDocument(raw, impl_->options.limits, mdib);
  if (!doc.ok()) {
    MapOutput out;
    std::string text = doc.status().message();
    std::string location;
    // Reader messages start with where: "line 3:5 (Mdib/MdState): what".
    if (const std::size_t colon = text.find("): ");
        text.rfind("line ", 0) == 0 && colon != std::string::npos) {
      location = text.substr(0, colon + 1);
      text.erase(0, colon + 3);
    } else if (const std::size_t c = text.find(": ");
               text.rfind("line ", 0) == 0 && c != std::string::npos) {
      location = text.substr(0, c);
      text.erase(0, c + 2);
    }
    out.issues.push_back(DataIssue::Error(
        doc.status().IsResourceExhausted() ? "too-long" : "structure", location, text));
    return out;
  }
  return MapDocument(*doc, mdib);
}

MapOutput SdcMapper::MapDocument(const SdcDocument& doc, const SdcDocument* context) const {
  const SdcOptions& o = impl_->options;
  MapOutput out;
  out.facts.message_type = "SDC";
  out.issues = doc.issues;
  const bool report = doc.kind != SdcDocument::Kind::kMdib;
  if (report && context == nullptr) {
    out.issues.push_back(DataIssue::Error(
        "not-found", std::string(KindName(doc.kind)),
        "a metric report names its metrics by handle only: it needs the provider's MDIB "
        "(GetMdibResponse) for their codes and units (convert --mdib FILE)"));
    return out;
  }
  const SdcDocument& mdib = report ? *context : doc;
  bool error = std::any_of(doc.issues.begin(), doc.issues.end(), [](const DataIssue& i) {
    return i.severity == DataIssue::Severity::kError;
  });
  std::vector<PlannedObservation> plans;
  for (const SdcMetricState& s : doc.states)
    if (auto p = impl_->Plan(s, mdib, out.issues, error)) plans.push_back(std::move(*p));
  if (error) return out;
  GroupBloodPressure(plans, impl_->terms, o);
  if (mdib.components.empty()) {
    out.issues.push_back(DataIssue::Error("required", "Mdib", "the MDIB describes no device"));
    return out;
  }
  // Devices: the whole containment tree (conditional creates make repeats free).
  std::vector<Identity> devices;
  const std::string device_system = Scoped(o.source_name, "sdc-handle");
  for (const SdcComponent& c : mdib.components)
    devices.push_back(MakeIdentity("Device", device_system, c.handle));
  std::unordered_map<std::string_view, std::size_t> device_index;
  for (std::size_t i = 0; i < mdib.components.size(); ++i)
    device_index.emplace(mdib.components[i].handle, i);
  const auto device_of = [&](std::string_view handle) -> const Identity* {
    const auto it = device_index.find(handle);
    return it == device_index.end() ? nullptr : &devices[it->second];
  };
  const Identity patient = PatientOf(o, mdib);
  JsonWriter w(out.bundle);
  BeginBundle(w, "transaction");
  if (!plans.empty()) sdc_fhir::WritePatientEntry(w, patient);
  for (std::size_t i = 0; i < mdib.components.size(); ++i) {
    const SdcComponent& c = mdib.components[i];
    sdc_fhir::WriteDeviceEntry(w, impl_->terms, c, devices[i], device_of(c.parent_handle));
    out.facts.devices.push_back(devices[i].system + "|" + devices[i].value);
  }
  for (const PlannedObservation& p : plans) {
    const Identity* device = device_of(p.metric->channel_handle);
    sdc_fhir::WriteObservationEntry(w, impl_->terms, o, p, patient, *device);
    const sdc::SdcCode& code = p.components.empty() ? *p.metric->type : p.panel_code;
    out.facts.codes.push_back(std::string(sdc_fhir::FhirSystemOf(code)) + "|" + code.code);
    if (p.vital != nullptr)
      out.facts.codes.push_back("http://loinc.org|" + std::string(p.vital->loinc));
    for (const PlannedObservation& c : p.components) {
      out.facts.codes.push_back(std::string(kMdcSystem) + "|" + c.metric->type->code);
      if (c.vital != nullptr && !c.vital->loinc.empty())
        out.facts.codes.push_back("http://loinc.org|" + std::string(c.vital->loinc));
    }
  }
  EndBundle(w);
  if (plans.empty()) {
    out.issues.push_back(
        DataIssue::Info("informational", std::string(KindName(doc.kind)),
                        "no numeric metric value to deliver: the Bundle holds the devices only"));
  }
  out.result = MapOutput::Result::kMapped;
  out.lane = HashHex64(patient.system + "|" + patient.value);
  if (!plans.empty()) out.patient = patient.system + "|" + patient.value;  // for the audit trail
  out.resource_count =
      static_cast<std::int64_t>(devices.size() + plans.size() + (plans.empty() ? 0 : 1));
  return out;
}

}  // namespace fhirbridge::mappers
