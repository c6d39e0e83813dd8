#pragma once

// Device data → FHIR, as the pipeline sees it. Implementations live in mappers/ and are pure:
// same input, same output bytes (ARCHITECTURE.md, Interfaces). The list of mappers per format is
// in engine/app/registry.cpp.

#include <cstdint>
#include <string>
#include <string_view>

#include "fhirbridge/issue.h"

namespace fhirbridge {

struct MapOutput {
  enum class Result { kMapped, kFailed, kHeld };
  Result result = Result::kFailed;
  std::string bundle;  ///< the transaction Bundle (kMapped)
  DataIssues issues;   ///< warnings, and the errors that prevented a Bundle
  std::string lane;    ///< delivery lane: hash of patient or device identity, no PHI
  std::int64_t resource_count = 0;
};

class Mapper {
 public:
  virtual ~Mapper() = default;
  /// Maps one stored message (the raw bytes as received). Never throws; thread-safe.
  virtual MapOutput Map(std::string_view raw) const = 0;
};

}  // namespace fhirbridge
