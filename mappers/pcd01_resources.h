#pragma once

// The second half of PCD-01 mapping: rows → Patient, Device and Observation entries of the
// transaction Bundle.

#include <string>
#include <unordered_map>

#include "fhirbridge/json_writer.h"
#include "mappers/pcd01_model.h"

namespace fhirbridge::mappers::pcd01 {

/// Appends the Bundle's entries (Patient, Devices, Observations) to `w`, inside an open array.
/// Returns the number of Observations written.
std::size_t WriteEntries(Context& ctx, Model& model, JsonWriter& w);

}  // namespace fhirbridge::mappers::pcd01
