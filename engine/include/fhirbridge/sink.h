#pragma once

// Where Bundles leave fhirbridge: a file, a FHIR server. A Sink delivers a batch of outbox rows
// of one destination and says, per row, what happened; the dispatcher records that in the store
// and decides about retries (ARCHITECTURE.md, Interfaces).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fhirbridge/store.h"

namespace fhirbridge {

/// What became of one row.
struct DeliveryOutcome {
  enum class Kind {
    kDelivered,     ///< done (or already there: conditional create matched)
    kRetry,         ///< transient: try again later (the outcome may be unknown)
    kPermanent,     ///< will not succeed as it is: dead-letter with `outcome`
    kNotAttempted,  ///< skipped because an earlier row of the same lane did not succeed
  };
  Kind kind = Kind::kRetry;
  int http_status = 0;              ///< 0 when not HTTP
  std::string reason;               ///< short, PHI-free: "HTTP 503", "disk full"
  std::string outcome;              ///< the server's OperationOutcome JSON, when it sent one
  std::int64_t retry_after_us = 0;  ///< the server's Retry-After, 0 = none
  /// kDelivered: what the server made of it, e.g. the `Type/id/_history/vid` locations of a
  /// transaction-response, space-separated; kept with the outbox row (no PHI: server ids only).
  std::string server_ids;
};

struct SinkResult {
  std::vector<DeliveryOutcome> outcomes;     ///< one per row, in the batch's order
  std::optional<SinkCheckpoint> checkpoint;  ///< committed with the delivered rows
};

class Sink {
 public:
  virtual ~Sink() = default;
  /// Delivers rows in order. Rows of one lane appear in id order; once a row of a lane is not
  /// delivered, the later rows of that lane in the batch must be kNotAttempted (lane order).
  virtual SinkResult Deliver(const std::vector<OutboxItem>& batch) = 0;
  /// The result of the last Deliver is now committed in the store.
  virtual void Committed() {}
  /// The result of the last Deliver could not be committed: its rows stay pending and will be
  /// delivered again, so undo what can be undone (the file sink trims its file).
  virtual void CommitFailed() {}
};

}  // namespace fhirbridge
