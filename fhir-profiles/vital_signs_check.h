#pragma once

// Direct checks of the FHIR R4 vital-signs profiles (observation-vitalsigns) and of the Bundle
// rules a transaction must meet (bdl-3, bdl-7). This is the interim check that everything the
// mappers emit is profile-conformant; the full StructureDefinition-driven validator replaces it
// in the pipeline, and these checks then remain as a second, independent opinion in tests.

#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace fhirbridge::profiles {

/// One failed requirement: the element path (FHIRPath-style) and what is wrong.
struct ProfileIssue {
  std::string path;  ///< e.g. "Bundle.entry[3].resource.valueQuantity.code"
  std::string text;
};

/// The vital-signs profile an Observation claims or must meet (by its LOINC code), with the
/// requirements that differ between profiles.
struct VitalProfile {
  const char* url;
  const char* loinc;               ///< required LOINC code in Observation.code
  std::vector<const char*> units;  ///< allowed UCUM codes for valueQuantity (empty: panel)
};

/// The R4 vital-signs profiles, by LOINC code. Null when the code is not a vital sign.
const VitalProfile* FindVitalProfile(const std::string& loinc);

/// Checks an Observation against the base vital-signs profile and the specific one its LOINC
/// code selects. `path` prefixes every issue's path.
void CheckVitalSignObservation(const rapidjson::Value& observation, const std::string& path,
                               std::vector<ProfileIssue>& issues);

/// Checks a transaction Bundle: unique fullUrls, a request on every entry, references to
/// `urn:uuid:` fullUrls that resolve inside the Bundle, and every Observation that carries a
/// vital-sign LOINC code or the vital-signs category against its profile.
std::vector<ProfileIssue> CheckTransactionBundle(const rapidjson::Value& bundle);

}  // namespace fhirbridge::profiles
