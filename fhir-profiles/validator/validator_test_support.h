#pragma once

// One Validator over the embedded definitions, shared by the tests of this folder (building it
// compiles every base type, which is worth doing once per test binary).

#include "fhir-profiles/validator/validator.h"

namespace fhirbridge::validator {

const Validator& SharedValidator();

}  // namespace fhirbridge::validator
