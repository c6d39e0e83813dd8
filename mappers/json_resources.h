#pragma once

// The JSON side of vendor-JSON mapping: the Patient, Device and Observation entries of the
// transaction Bundle, in the shape PCD-01 and PHD Bundles have (docs/mapping-json.md), so an
// EHR sees one kind of Bundle whichever way a device's data arrived.

#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/json_writer.h"
#include "mappers/hl7_time.h"
#include "mappers/json_mapping.h"

namespace fhirbridge::mappers::json {

/// One value of an Observation (or of a panel component), read and checked.
struct PlannedValue {
  const CodeEntry* code = nullptr;
  std::string decimal;        ///< FHIR decimal text; empty when absent
  std::string absent_reason;  ///< data-absent-reason code when there is no value
  std::string ucum;           ///< UCUM code as emitted (the profile's spelling); may be empty
};

/// One Observation to write.
struct PlannedObservation {
  const CodeEntry* code = nullptr;
  const VitalSign* vital = nullptr;  ///< set when the code and the units fit its R4 profile
  FhirTime time;
  std::string status;
  PlannedValue value;                    ///< single-value Observations
  std::vector<PlannedValue> components;  ///< panels
  std::string identity;                  ///< identifier value (before the system)
};

/// Device.identifier, manufacturer, model and type.
struct DeviceFacts {
  std::string system;
  std::string id;
  std::string manufacturer;
  std::string model;
  std::uint32_t type_mdc = 0;
  std::string type_display;
};

/// What every Observation entry shares.
struct WriteContext {
  std::string_view identifier_system;
  std::string subject_member;  ///< `"subject":{"reference":"urn:uuid:..."}`
  std::string device_member;   ///< `"device":{"reference":"urn:uuid:..."}`
};

void WritePatientEntry(JsonWriter& w, std::string_view system, std::string_view value);
void WriteDeviceEntry(JsonWriter& w, const DeviceFacts& device);
void WriteObservationEntry(JsonWriter& w, const WriteContext& ctx, const PlannedObservation& p);

}  // namespace fhirbridge::mappers::json
