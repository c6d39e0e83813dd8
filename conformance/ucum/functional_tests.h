#pragma once

// The UCUM functional tests (UcumFunctionalTests.xml, maintained with the UCUM Java reference
// implementation): validation, display-name, conversion, multiplication and division cases, run
// against fhirbridge::ucum and scored per group.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fhir-profiles/ucum/ucum.h"
#include "fhirbridge/result.h"

namespace fhirbridge::conformance {

/// One <case> of the file: its group element name and its attributes.
struct UcumCase {
  std::string group;  ///< validation, displayNameGeneration, conversion, multiplication, division
  std::string id;
  std::map<std::string, std::string> attributes;  ///< e.g. unit, valid, srcUnit, outcome
};

/// What running one case gave.
struct UcumCaseOutcome {
  bool passed = false;
  std::string detail;  ///< for a failure: what was expected and what came out
};

/// Passing cases of one group.
struct UcumGroupScore {
  std::string group;
  int passed = 0;
  int total = 0;
};

/// Reads every case of the file, in file order. NotFound or InvalidArgument on a bad file.
Result<std::vector<UcumCase>> LoadUcumFunctionalTests(const std::string& path);

/// Runs one case. Conversions, products and quotients are compared at the precision the file
/// states (see MatchesStatedPrecision).
UcumCaseOutcome RunUcumCase(const ucum::UnitSystem& system, const UcumCase& c);

/// True when `actual` equals the decimal `expected` to the precision it is written with: within
/// half a unit of its last digit ("0.160" allows 0.0005), or within 1e-12 relative for digits
/// beyond a double's precision. The file's note: "the outcome is also not necessarily fixed to
/// the given representation", and its outcomes keep the input's significant digits (6.3 × 4 =
/// "25").
bool MatchesStatedPrecision(double actual, std::string_view expected);

/// Per-group scores of a run, in the order groups first appear.
std::vector<UcumGroupScore> ScoreByGroup(const std::vector<UcumCase>& cases,
                                         const std::vector<UcumCaseOutcome>& outcomes);

}  // namespace fhirbridge::conformance
