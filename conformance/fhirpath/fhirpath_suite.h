#pragma once

// Runs the official FHIRPath R4 test suite (tests-fhir-r4.xml, fhir-test-cases) against
// fhirbridge's engine with the official runner's rules: the number of results, their order
// (unless ordered="false"), each item's type and string form, predicate tests (the result read
// as a Boolean), and expected errors (invalid="syntax|semantic|execution": any error passes).

#include <string>
#include <vector>

#include "fhirbridge/result.h"

namespace fhirbridge::conformance {

struct FhirpathTestResult {
  std::string group;
  std::string name;
  std::string expression;
  bool passed = false;
  std::string expected;  ///< what the suite wants, in the runner's words
  std::string actual;    ///< what the engine gave (result JSON or the error)
};

/// Runs every test of `suite_dir`/tests-fhir-r4.xml (inputs from `suite_dir`/input, falling back
/// to input-json-from-fhirpathjs). An error only when the suite itself cannot be read.
Result<std::vector<FhirpathTestResult>> RunFhirpathSuite(const std::string& suite_dir);

}  // namespace fhirbridge::conformance
