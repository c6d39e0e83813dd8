#pragma once

// The JSON side of PHD mapping: Patient, Device and Observation entries of the transaction
// Bundle, written in the shape PCD-01 Bundles have (docs/mapping-pcd01.md), so an EHR sees one
// kind of Bundle whichever way a device's data arrived.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ieee11073/phd/scan_report.h"
#include "fhirbridge/issue.h"
#include "fhirbridge/json_writer.h"
#include "mappers/hl7_time.h"
#include "mappers/phd_mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::mappers::phd_fhir {

/// One Observation to write, decided by the mapper.
struct PlannedObservation {
  const phd::Measurement* measurement = nullptr;
  FhirTime time;
  /// The vital sign it is (single or bp panel) when its unit(s) fit the profile, else null.
  const VitalSign* vital = nullptr;
  std::string identity;            ///< identifier value (before the system)
  std::string status = "final";    ///< Observation.status
  std::string_view absent_reason;  ///< from MeasurementStatus (invalid, not-available), or empty
  bool unreliable = false;         ///< questionable or calibration-ongoing
  bool test_data = false;          ///< test or demo data delivered on request
};

/// What the writers need besides the plan.
struct WriteContext {
  const Terminology& terms;
  const PhdOptions& options;
  std::string subject_member;  ///< `"subject":{"reference":"urn:uuid:..."}`
  std::string device_member;   ///< `"device":{"reference":"urn:uuid:..."}`
};

/// The reference id of an MDC code: the terminology's, else the PHD table's, else empty.
std::string_view RefidOf(const Terminology& terms, std::uint32_t code);
/// The UCUM code of an MDC_PART_DIM term code, or empty.
std::string_view UcumOf(const Terminology& terms, std::uint16_t unit);
/// The data-absent-reason code for a reserved MDER value (MAPPING.md: NaN, NRes, +/-INF).
std::string_view AbsentReasonOf(phd::MderNumber::Kind kind);

void WritePatientEntry(JsonWriter& w, std::string_view system, std::string_view value);
void WriteDeviceEntry(JsonWriter& w, const Terminology& terms, const phd::DeviceIdentity& device,
                      std::string_view eui64_hex);
void WriteObservationEntry(JsonWriter& w, const WriteContext& ctx, const PlannedObservation& p);

}  // namespace fhirbridge::mappers::phd_fhir
