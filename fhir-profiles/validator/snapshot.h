#pragma once

// Snapshot generation (FHIR R4 §5.1.0.5 / profiling §2.11.0.8): a StructureDefinition that
// carries only a differential gets a snapshot by applying its differential to its base's
// snapshot, expanding data types and slices where the differential reaches into them.

#include <rapidjson/document.h>

#include "fhirbridge/status.h"

namespace fhirbridge::validator {

class Definitions;

/// Adds `snapshot.element` to `sd` from `sd.differential` and the base's snapshot (looked up by
/// baseDefinition in `defs`). NotFound when the base is not loaded (yet); ResourceExhausted when
/// the snapshot would have more than `max_elements` elements.
Status GenerateSnapshot(rapidjson::Value& sd, const Definitions& defs,
                        rapidjson::Document::AllocatorType& alloc, std::size_t max_elements);

}  // namespace fhirbridge::validator
