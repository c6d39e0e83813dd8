#pragma once

// The entries of a transaction Bundle, for the batch and single delivery modes, which must send
// the resources in dependency order and replace `urn:uuid:` references by the ids the server
// assigned (FHIR R4 http.html: batch entries and separate requests cannot refer to each other).
// Resources are kept as the exact JSON text of the payload, so FHIR decimals keep their digits.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/result.h"

namespace fhirbridge::delivery {

struct BundleEntry {
  std::string full_url;  ///< "" when absent
  std::string method;    ///< request.method
  std::string url;       ///< request.url, e.g. "Observation"
  std::string if_none_exist;
  std::string if_match;
  std::string resource;  ///< the resource's JSON text as in the payload; "" when none
  std::vector<std::string> references;  ///< every Reference.reference value in the resource
};

struct BundleLimits {
  std::size_t max_entries = 10000;
  std::size_t max_depth = 64;  ///< JSON nesting
};

/// Reads `json` (a Bundle). InvalidArgument when it is not JSON, not a Bundle, or exceeds a limit.
Result<std::vector<BundleEntry>> ParseBundleEntries(std::string_view json,
                                                    const BundleLimits& limits = {});

/// The entries' indices grouped in dependency levels: level 0 refers to no other entry (by its
/// fullUrl), level k only to entries of lower levels; within a level, Bundle order.
/// InvalidArgument when entries refer to each other in a cycle.
Result<std::vector<std::vector<std::size_t>>> DependencyLevels(
    const std::vector<BundleEntry>& entries);

/// `resource_json` with every Reference.reference found in `targets` replaced by its value
/// (fullUrl → "Type/id"); everything else, numbers included, is copied unchanged.
Result<std::string> RewriteReferences(
    std::string_view resource_json, const std::map<std::string, std::string, std::less<>>& targets,
    const BundleLimits& limits = {});

}  // namespace fhirbridge::delivery
