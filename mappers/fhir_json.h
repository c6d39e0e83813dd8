#pragma once

// FHIR JSON pieces that every mapper writes the same way: a conditional-create request, an
// identifier array, a dataAbsentReason.

#include <string_view>

#include "fhirbridge/json_writer.h"

namespace fhirbridge::mappers {

/// "request": POST <type> with ifNoneExist "identifier=<system>|<value>" (conditional create, so
/// that a retry or a resend never creates the resource twice).
void WriteConditionalCreate(JsonWriter& w, std::string_view type, std::string_view system,
                            std::string_view value);

/// "identifier": [{"system": …, "value": …}].
void WriteIdentifier(JsonWriter& w, std::string_view system, std::string_view value);

/// "dataAbsentReason" with a code of http://terminology.hl7.org/CodeSystem/data-absent-reason.
void WriteDataAbsent(JsonWriter& w, std::string_view reason);

/// `"meta":{...}` of an Observation: the vital-signs profile (when `profile_url` is not empty)
/// and the security labels UNRELIABLE (questionable or calibrating values) and HTEST (demo or
/// test data); nothing when there is neither.
void WriteObservationMeta(JsonWriter& w, std::string_view profile_url, bool unreliable,
                          bool test_data);

}  // namespace fhirbridge::mappers
