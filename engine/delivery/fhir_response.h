#pragma once

// What a FHIR server's answer means for a delivery (../shared/design/FHIR-REST.md, "Answers and
// what to do with them"; FHIR R4 http.html).

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http/http_client.h"
#include "fhirbridge/sink.h"

namespace fhirbridge::delivery {

/// Classifies one HTTP exchange: 2xx delivered; 408, 429 and 5xx, connection errors and timeouts
/// retry (with Retry-After); 401, 403 and every other answer permanent, with the server's
/// OperationOutcome or one naming the status. `server_ids` is left empty.
DeliveryOutcome ClassifyResponse(const Result<http::HttpResponse>& response,
                                 std::chrono::system_clock::time_point now);

/// Whether a status asks to try again later.
bool IsRetryableStatus(int status);

/// `body` when it is an OperationOutcome, else one error issue naming `status`.
std::string OutcomeOrSynthesized(std::string_view body, int status);

/// An OperationOutcome with one error issue: code `code`, diagnostics `text`.
std::string SynthesizedOutcome(std::string_view code, std::string_view text);

/// One entry of a transaction-response or batch-response.
struct EntryResponse {
  int status = 0;        ///< from "201 Created"; 0 when missing or unreadable
  std::string location;  ///< response.location as sent
  std::string outcome;   ///< response.outcome as JSON of a failed entry; "" when none or 2xx
};

inline constexpr std::size_t kAnyEntryCount = static_cast<std::size_t>(-1);

/// The entries of a `transaction-response` / `batch-response` Bundle (`type`), which must have
/// `expected_entries` entries (kAnyEntryCount: any number). InvalidArgument otherwise.
Result<std::vector<EntryResponse>> ParseBundleResponse(std::string_view body, std::string_view type,
                                                       std::size_t expected_entries);

/// `location` relative to the server: "Observation/1/_history/2" for
/// "<base_url>/Observation/1/_history/2" (and for the relative form itself).
std::string RelativeLocation(std::string_view location, std::string_view base_url);

/// "Observation/1" of "Observation/1/_history/2"; "" when there are not two segments.
std::string TypeAndId(std::string_view relative_location);

}  // namespace fhirbridge::delivery
