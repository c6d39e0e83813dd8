#pragma once

// Times in vendor JSON → FHIR dateTime: ISO 8601 / RFC 3339 text or Unix epoch numbers
// (docs/mapping-json.md, "Time"). The conversion itself is the one HL7 times use (hl7_time.h),
// so a local time resolves through the same assume_timezone rule.

#include <string_view>

#include <rapidjson/document.h>

#include "fhirbridge/result.h"
#include "mappers/hl7_time.h"
#include "mappers/json_mapping.h"

namespace fhirbridge::mappers::json {

/// Parses ISO 8601 extended format as vendor APIs write it: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`,
/// then optionally `T` (or one space) `hh:mm[:ss[.f…]]` (1 to 9 fraction digits) and an offset
/// `Z`, `±hh:mm` or `±hhmm`. InvalidArgument says what is wrong by position, never echoing the
/// value. A `Z` time is UTC (written back as `Z`).
Result<Hl7Time> ParseIsoTime(std::string_view text);

/// The time of a JSON value read as `spec` says: a string for ISO 8601; a number (or a string
/// of digits) for epoch seconds / milliseconds, which must lie in years 1900..9999. Local times
/// resolve with spec.zone, else `source_zone`; `issues` gets warnings (DST overlap).
Result<FhirTime> ReadTime(const rapidjson::Value& value, const TimeSpec& spec,
                          const TimeZone* source_zone, DataIssues* issues);

}  // namespace fhirbridge::mappers::json
