#pragma once

// How dead letters are shown, the same through `fhirbridge deadletter` and the admin API: ids,
// names, times, status codes and reasons — never message content. Only `show` adds the
// OperationOutcome the server (or the mapper) gave, which names elements and codes.

#include <string>
#include <vector>

#include "fhirbridge/store.h"

namespace fhirbridge::service {

/// {"dead_letters":[{...}], "next_before_id": N} for a page of `list`.
std::string DeadLettersJson(const std::vector<DeadLetterSummary>& letters);
/// One entry as a JSON object; with its OperationOutcome under "outcome" when `detail`.
std::string DeadLetterJson(const DeadLetterSummary& letter, const std::string* outcome = nullptr);
/// A fixed-width table for people: id, source, control id, destination, time, status, reason.
std::string DeadLettersTable(const std::vector<DeadLetterSummary>& letters);
/// ISO 8601 UTC with milliseconds, e.g. 2026-11-21T10:35:34.105Z.
std::string UtcTime(std::int64_t us);

}  // namespace fhirbridge::service
