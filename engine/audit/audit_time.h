#pragma once

// Instants of the audit trail as text: FHIR `instant` / RFC 5424 TIMESTAMP out, ISO 8601 in
// (the --since / --until options of `fhirbridge audit export`).

#include <cstdint>
#include <string>
#include <string_view>

#include "fhirbridge/result.h"

namespace fhirbridge::audit {

/// "2026-03-01T12:00:05.123456Z": UTC with microseconds. The same text is a FHIR R4 `instant`
/// and an RFC 5424 §6.2.3 TIMESTAMP (TIME-SECFRAC of at most 6 digits).
std::string FormatInstant(std::int64_t at_us);

/// Microseconds since the Unix epoch of an ISO 8601 date or date-time: `2026-03-01` (midnight
/// UTC), `2026-03-01T12:00`, `2026-03-01T12:00:05`, with an optional fraction (up to 9 digits,
/// kept to microseconds) and `Z` or `±hh:mm` (no zone: UTC). InvalidArgument for anything else.
Result<std::int64_t> ParseInstant(std::string_view text);

}  // namespace fhirbridge::audit
