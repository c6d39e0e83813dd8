#pragma once

// IEEE 11073-20601 measurements (one scan report of an associated agent) → one FHIR R4
// transaction Bundle, after the HL7 Personal Health Device IG: an Observation per metric with
// its MDC code (and LOINC where it is a vital sign; blood pressure as a panel with components),
// a Device for the agent (its EUI-64 system-id and specialisations), the Patient the device is
// used by, conditional creates on deterministic identifiers. Rules: docs/connector-phd.md.
//
// The mapper is pure: no I/O, no clock, no globals. The manager's receive time, which the
// coincident-time-stamp rule needs, comes in with the report.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ieee11073/phd/agent_session.h"
#include "fhirbridge/timezone.h"
#include "mappers/pcd01_mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::mappers {

/// Per-source PHD mapping settings.
struct PhdOptions {
  /// The configured source name; scopes identifiers that have no global system.
  std::string source_name = "default";
  /// The agent's time stamps carry no zone: this zone resolves them. Null = use the coincident
  /// time stamp (the agent's clock read at a known receive time), else a data error.
  std::shared_ptr<const TimeZone> assume_timezone;
  /// The Patient the device belongs to, when the source knows it (identifier system and
  /// value). Empty: a Patient identified by the device (system
  /// `urn:fhirbridge:source:<source>:phd-user`, value the EUI-64, plus `-p<person-id>` for
  /// multi-person agents), so measurements of one device stay together until matched.
  std::string patient_system;
  std::string patient_value;
  /// Deliver measurements the agent marks as test or demo data (tagged HTEST).
  bool deliver_test_data = false;
  /// System of the deterministic Observation identifiers (the same as PCD-01's).
  std::string observation_identifier_system = "urn:fhirbridge:observation";
  /// With assume_timezone set and the agent's clock known: warn when the clock is further than
  /// this from the manager's receive time.
  std::int64_t clock_skew_warning_seconds = 300;
  phd::SessionOptions session;
};

class PhdMapper {
 public:
  /// `terminology` must outlive the mapper.
  PhdMapper(const Terminology& terminology, PhdOptions options);
  ~PhdMapper();
  PhdMapper(PhdMapper&&) noexcept;
  PhdMapper& operator=(PhdMapper&&) noexcept;

  /// Maps the measurements of one scan report. Never throws.
  Mapped Map(const phd::MeasurementReport& report) const;

  /// Replays a captured agent→manager APDU stream through a manager session: one Mapped per
  /// scan report, and one without a Bundle (an error) for each APDU the session refused and for
  /// a truncated end. `received_at_us` stands for the receive time of every APDU (a capture
  /// keeps none). `control_id` of each result is "APDU at byte N".
  std::vector<Mapped> MapStream(std::string_view apdus, std::int64_t received_at_us) const;

  const PhdOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fhirbridge::mappers
