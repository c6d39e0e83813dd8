#pragma once

// Golden-file support for mapper tests: input messages → the NDJSON `fhirbridge convert`
// prints, compared byte for byte with a checked-in file. Set FHIRBRIDGE_UPDATE_GOLDEN=1 to
// rewrite the files after a deliberate change (and review the diff).

#include <filesystem>
#include <string>

namespace fhirbridge::mappers::testing {

/// Reads a whole file; fails the current test when it cannot.
std::string ReadFile(const std::filesystem::path& path);

/// Compares `actual` with the golden file, or rewrites it when FHIRBRIDGE_UPDATE_GOLDEN is set.
/// Reports the first differing line.
void ExpectGolden(const std::filesystem::path& golden, const std::string& actual);

}  // namespace fhirbridge::mappers::testing
