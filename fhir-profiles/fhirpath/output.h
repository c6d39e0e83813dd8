#pragma once

// The result form of `fhirbridge fhirpath` and the conformance runner: a JSON array of
// {"type": "<FHIRPath type name>", "value": "<string form>"} in collection order; a complex
// FHIR value (HumanName...) is given as its JSON object.

#include <string>

#include "fhir-profiles/fhirpath/value.h"

namespace fhirbridge::fhirpath {

/// The collection as a JSON array (one line).
std::string CollectionToJson(const Collection& items);

}  // namespace fhirbridge::fhirpath
