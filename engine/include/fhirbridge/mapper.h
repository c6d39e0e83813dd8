#pragma once

// Device data → FHIR, as the pipeline sees it. Implementations live in mappers/ and are pure:
// same input, same output bytes (ARCHITECTURE.md, Interfaces). The list of mappers per format is
// in engine/app/registry.cpp.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/issue.h"

namespace fhirbridge {

/// What route conditions look at (engine/app route rules). Codes and ids only, never PHI: the
/// patient's location is a ward/room code, not a name.
struct RouteFacts {
  std::string message_type;          ///< e.g. "ORU^R01", "PHD", "SDC", "JSON"
  std::vector<std::string> codes;    ///< "system|code" of every Observation code (MDC and LOINC)
  std::string location;              ///< PV1-3 point of care as sent ("ICU^BED12"), "" when none
  std::vector<std::string> devices;  ///< device identifiers as "system|value" (EUI-64 etc.)
};

struct MapOutput {
  enum class Result { kMapped, kFailed, kHeld };
  Result result = Result::kFailed;
  std::string bundle;  ///< the transaction Bundle (kMapped)
  DataIssues issues;   ///< warnings, and the errors that prevented a Bundle
  std::string lane;    ///< delivery lane: hash of patient or device identity, no PHI
  /// The patient's identifier as "system|value", "" when none: PHI, for the audit trail only.
  std::string patient;
  std::int64_t resource_count = 0;
  RouteFacts facts;  ///< for conditional routes; filled by every mapper
};

class Mapper {
 public:
  virtual ~Mapper() = default;
  /// Maps one stored message (the raw bytes as received). Never throws; thread-safe.
  virtual MapOutput Map(std::string_view raw) const = 0;
};

}  // namespace fhirbridge
