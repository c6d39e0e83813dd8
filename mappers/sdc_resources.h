#pragma once

// The JSON side of SDC mapping: Patient, Device and Observation entries of the transaction
// Bundle, in the shape the PCD-01 and PHD Bundles have, so an EHR sees one kind of Bundle
// whichever way a device's data arrived.

#include <string>
#include <string_view>
#include <vector>

#include "connectors/ieee11073/sdc/sdc_document.h"
#include "fhirbridge/json_writer.h"
#include "mappers/sdc_mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::mappers::sdc_fhir {

/// One Observation to write, decided by the mapper.
struct PlannedObservation {
  const sdc::SdcMetricState* state = nullptr;
  const sdc::SdcMetric* metric = nullptr;
  std::string date_time;             ///< effectiveDateTime
  std::string identity;              ///< identifier value (before the system)
  const VitalSign* vital = nullptr;  ///< when the code is a vital sign and the unit fits
  std::string status;                ///< Observation.status
  std::string_view absent_reason;    ///< dataAbsentReason instead of a value, or empty
  bool unreliable = false;           ///< questionable or calibrating: security label UNRELIABLE
  bool test_data = false;            ///< Demo/Test mode delivered on request: HTEST
  std::string time_key;              ///< the effective time for identifiers
  /// A blood-pressure panel (`vital` is the panel's): its parts, written as components, each
  /// with its own `vital` (systolic, diastolic, mean); `panel_code` is the panel's MDC code.
  std::vector<PlannedObservation> components;
  sdc::SdcCode panel_code;
};

/// An identifier of a Patient or Device.
struct Identity {
  std::string system;
  std::string value;
  std::string uuid;  ///< the entry's deterministic fullUrl uuid
};

/// The FHIR coding system of a BICEPS CodingSystem: MDC's OID → urn:iso:std:iso:11073:10101,
/// any other URI as it is.
std::string_view FhirSystemOf(const sdc::SdcCode& code);
/// The UCUM code of the metric's MDC unit, or "" (no unit, unknown, or not MDC).
std::string_view UcumOf(const Terminology& terms, const sdc::SdcMetric& metric);

void WritePatientEntry(JsonWriter& w, const Identity& patient);
void WriteDeviceEntry(JsonWriter& w, const Terminology& terms, const sdc::SdcComponent& component,
                      const Identity& device, const Identity* parent);
void WriteObservationEntry(JsonWriter& w, const Terminology& terms, const SdcOptions& options,
                           const PlannedObservation& p, const Identity& patient,
                           const Identity& device);

}  // namespace fhirbridge::mappers::sdc_fhir
