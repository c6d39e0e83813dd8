#include "mappers/phd_mapper.h"

#include <algorithm>

#include "connectors/ieee11073/phd/apdu_stream.h"
#include "mappers/fhir_values.h"
#include "mappers/phd_resources.h"
#include "mappers/phd_time.h"

namespace fhirbridge::mappers {

namespace {

using phd_fhir::PlannedObservation;

std::string Eui64Hex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
  }
  return out;
}

// Where a measurement is, for issues: the stream offset of its observation and its handle.
std::string Where(const phd::Measurement& m) {
  return "byte " + std::to_string(m.offset) + " handle " + std::to_string(m.handle);
}

// The Patient of the report: the configured one, else one identified by the device (and the
// person, for multi-person agents).
std::pair<std::string, std::string> PatientOf(const PhdOptions& o, std::string_view eui64,
                                              std::optional<std::uint16_t> person) {
  if (!o.patient_system.empty() && !o.patient_value.empty())
    return {o.patient_system, o.patient_value};
  std::string system = "urn:fhirbridge:source:";
  AppendIdentifierComponent(system, o.source_name);
  system += ":phd-user";
  std::string value(eui64);
  if (person) value += "-p" + std::to_string(*person);
  return {system, value};
}

// MeasurementStatus → what the Observation says (20601 A.11.2; MAPPING.md flags).
void ApplyStatus(PlannedObservation& p, std::uint16_t s) {
  using namespace phd::msmt_status;
  if (s & kInvalid)
    p.absent_reason = "error";
  else if (s & kNotAvailable)
    p.absent_reason = "unknown";
  p.unreliable = (s & (kQuestionable | kCalibrationOngoing)) != 0;
  if (s & (kMsmtOngoing | kEarlyIndication)) p.status = "preliminary";
}

// The vital sign a measurement is, when every value's unit is one its profile allows.
const VitalSign* VitalOf(const Terminology& terms, const phd::Measurement& m) {
  const VitalSign* vital = terms.FindVitalSign(m.type);
  if (vital == nullptr || vital->loinc.empty()) return nullptr;
  if (m.compound != (vital->role == VitalSign::Role::kPanel)) return nullptr;
  for (const phd::NumericValue& v : m.values) {
    const VitalSign* part = m.compound ? terms.FindVitalSign(v.code) : vital;
    if (part == nullptr || part->panel_mdc_code != (m.compound ? m.type : 0u)) return nullptr;
    const std::string_view ucum = phd_fhir::UcumOf(terms, v.unit);
    if (v.number.is_number() && (ucum.empty() || !terms.ProfileUnit(*part, ucum))) return nullptr;
  }
  return vital;
}

// PHD IG "Observation identifier": the measurement as the agent reported it (type, reported
// time stamp, values, units, person) with the device and the patient, so that a resend of stored
// measurements gives the same identifier whatever the manager's clock says. The readable part
// keeps PCD-01's shape (source/device/code/time); the rest is hashed.
std::string IdentityOf(const PhdOptions& o, std::string_view eui64, const phd::Measurement& m,
                       const FhirTime& time, const std::pair<std::string, std::string>& patient) {
  std::string id;
  AppendIdentifierComponent(id, o.source_name);
  id += '/';
  id += eui64;
  id += '/';
  id += std::to_string(m.type);
  id += '/';
  id += m.time ? ReportedTimeStampKey(*m.time) : "r" + time.utc_key;
  std::string details = patient.first + "|" + patient.second;
  if (m.person_id) details += "|person " + std::to_string(*m.person_id);
  if (m.status) details += "|status " + std::to_string(*m.status);
  for (const phd::NumericValue& v : m.values) {
    details += "|" + std::to_string(v.code) + "=";
    details += v.number.is_number() ? v.number.ToDecimal() : std::string(KindName(v.number.kind));
    details += " " + std::to_string(v.unit);
  }
  id += '/';
  id += HashHex64(details);
  return id;
}

}  // namespace

struct PhdMapper::Impl {
  Impl(const Terminology& t, PhdOptions o) : terms(t), options(std::move(o)) {}
  const Terminology& terms;
  PhdOptions options;
};

PhdMapper::PhdMapper(const Terminology& terminology, PhdOptions options)
    : impl_(std::make_unique<Impl>(terminology, std::move(options))) {}
PhdMapper::~PhdMapper() = default;
PhdMapper::PhdMapper(PhdMapper&&) noexcept = default;
PhdMapper& PhdMapper::operator=(PhdMapper&&) noexcept = default;

const PhdOptions& PhdMapper::options() const { return impl_->options; }

Mapped PhdMapper::Map(const phd::MeasurementReport& report) const {
  const PhdOptions& o = impl_->options;
  Mapped out;
  out.control_id = "APDU at byte " + std::to_string(report.apdu_offset);
  if (report.device.system_id.empty()) {
    out.issues.push_back(DataIssue::Error("required", "AARQ", "the agent sent no system-id"));
    return out;
  }
  const std::string eui64 = Eui64Hex(report.device.system_id);
  const PhdTimeInputs time_inputs{o.assume_timezone.get(), &report.device, report.received_at_us,
                                  o.clock_skew_warning_seconds};
  std::vector<PlannedObservation> plans;
  std::optional<std::uint16_t> person;
  bool error = false;
  for (const phd::Measurement& m : report.scan.measurements) {
    DataIssues time_issues;
    Result<FhirTime> time = PhdEffectiveTime(m.time, time_inputs, time_issues);
    for (DataIssue& issue : time_issues) {
      // A report-wide warning (the agent's clock) is said once, at its first measurement.
      const bool said = std::any_of(out.issues.begin(), out.issues.end(),
                                    [&](const DataIssue& i) { return i.text == issue.text; });
      if (said && issue.severity == DataIssue::Severity::kWarning) continue;
      issue.location = Where(m);
      out.issues.push_back(std::move(issue));
    }
    if (!time.ok()) {
      out.issues.push_back(DataIssue::Error("value", Where(m), time.status().message()));
      error = true;
      continue;
    }
    PlannedObservation p;
    p.measurement = &m;
    p.time = std::move(time).value();
    if (m.status) ApplyStatus(p, *m.status);
    if (m.status && (*m.status & (phd::msmt_status::kTestData | phd::msmt_status::kDemoData))) {
      if (!o.deliver_test_data) {
        out.issues.push_back(DataIssue::Info(
            "informational", Where(m),
            "test/demo data (MeasurementStatus) not delivered (sources[].deliver_test_data)"));
        continue;
      }
      p.test_data = true;
    }
    p.vital = VitalOf(impl_->terms, m);
    if (m.person_id) person = m.person_id;
    plans.push_back(std::move(p));
  }
  const auto patient = PatientOf(o, eui64, person);
  for (PlannedObservation& p : plans)
    p.identity = IdentityOf(o, eui64, *p.measurement, p.time, patient);
  if (error) return out;
  if (plans.empty()) {
    out.issues.push_back(
        DataIssue::Error("required", out.control_id, "the report holds no measurement to map"));
    return out;
  }
  const std::string patient_uuid =
      DeterministicUuid("Patient", patient.first + "|" + patient.second);
  const std::string device_uuid =
      DeterministicUuid("Device", std::string(kEui64System) + "|" + eui64);
  const phd_fhir::WriteContext ctx{impl_->terms, o,
                                   R"("subject":{"reference":"urn:uuid:)" + patient_uuid + "\"}",
                                   R"("device":{"reference":"urn:uuid:)" + device_uuid + "\"}"};
  JsonWriter w(out.bundle);
  BeginBundle(w, "transaction");
  phd_fhir::WritePatientEntry(w, patient.first, patient.second);
  phd_fhir::WriteDeviceEntry(w, impl_->terms, report.device, eui64);
  for (const PlannedObservation& p : plans) phd_fhir::WriteObservationEntry(w, ctx, p);
  EndBundle(w);
  out.patient = patient.first + "|" + patient.second;
  out.lane_key = HashHex64(out.patient);
  out.observation_count = plans.size();
  out.resource_count = plans.size() + 2;
  return out;
}

std::vector<Mapped> PhdMapper::MapStream(std::string_view apdus,
                                         std::int64_t received_at_us) const {
  std::vector<Mapped> results;
  const auto fail = [&results](std::size_t offset, const Status& s) {
    Mapped failed;
    failed.control_id = "APDU at byte " + std::to_string(offset);
    std::string text = s.message();
    std::string location = "byte " + std::to_string(offset);
    // Decoder messages start with where they are: "byte 34 in PRST/...: what".
    if (const std::size_t colon = text.find(": ");
        text.rfind("byte ", 0) == 0 && colon != std::string::npos) {
      location = text.substr(0, colon);
      text.erase(0, colon + 2);
    }
    failed.issues.push_back(DataIssue::Error(s.IsResourceExhausted() ? "too-long" : "structure",
                                             std::move(location), std::move(text)));
    results.push_back(std::move(failed));
  };
  phd::AgentSession session(impl_->options.session);
  phd::ApduFramer framer(impl_->options.session.limits.max_apdu_bytes);
  framer.Append(phd::AsBytes(apdus));
  while (true) {
    Result<phd::ApduFrame> frame = framer.Next();
    if (!frame.ok()) {
      if (frame.status().IsNotFound()) break;
      fail(framer.offset(), frame.status());
      return results;  // the stream cannot be resynchronised after a bad header
    }
    const phd::SessionStep step =
        session.Consume(phd::AsBytes(frame->bytes), frame->offset, received_at_us);
    if (!step.problem.ok()) fail(frame->offset, step.problem);
    for (const phd::MeasurementReport& report : step.reports) results.push_back(Map(report));
  }
  if (framer.pending() > 0)
    fail(framer.offset(), Status::InvalidArgument(framer.DescribeTruncation()));
  return results;
}

}  // namespace fhirbridge::mappers
