#pragma once

// The FHIR R4 primitive data types (§2.24.0.1): the JSON kind each needs and the value
// grammar (the regexes of the specification, written as direct scanners: they run on every
// primitive of every resource).

#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace fhirbridge::validator {

/// The problem with `value` as a FHIR primitive of `type`, or "" when it is valid. Unknown type
/// codes accept any JSON scalar.
std::string CheckPrimitive(std::string_view type, const rapidjson::Value& value);

/// FHIR R4 date / dateTime / instant / time grammars, including real calendar days.
bool IsFhirDate(std::string_view s);
bool IsFhirDateTime(std::string_view s);
bool IsFhirInstant(std::string_view s);
bool IsFhirTime(std::string_view s);
/// Resource.id / id: [A-Za-z0-9\-\.]{1,64}.
bool IsFhirId(std::string_view s);
/// An absolute URI: a scheme ([a-zA-Z][a-zA-Z0-9+.-]*) followed by ':'.
bool IsAbsoluteUri(std::string_view s);

}  // namespace fhirbridge::validator
