#pragma once

// The boundary between connectors and the engine's store. A connector hands every message it
// received to an Intake and acknowledges the sender only after Accept returned: that is the
// "no ACK before durability" guarantee (ARCHITECTURE.md).

#include <cstdint>
#include <string>
#include <string_view>

#include "fhirbridge/message.h"
#include "fhirbridge/result.h"
#include "fhirbridge/status.h"

namespace fhirbridge {

/// What the store did with an accepted message.
struct IntakeReceipt {
  enum class Outcome {
    kStored,     ///< committed now, durably (fsync'd per the store's durability setting)
    kDuplicate,  ///< the same source + control id + bytes were committed before: nothing stored
  };
  Outcome outcome = Outcome::kStored;
  std::int64_t message_id = 0;  ///< the store's id of the (earlier) stored message
};

/// Where connectors put what they received. Implementations are thread-safe: every connection
/// of every connector calls them concurrently; concurrent calls share commits (group commit).
class Intake {
 public:
  virtual ~Intake() = default;

  /// Commits the message (and its audit row) and returns only then. A non-OK status means
  /// nothing was stored (disk full, store unwritable, shutting down): the sender must not get a
  /// positive acknowledgement. `Unavailable`/`ResourceExhausted` say a later resend may succeed.
  virtual Result<IntakeReceipt> Accept(Message message) = 0;

  /// Keeps input that was refused (unparseable, over a limit, unsupported type) in the error
  /// table for inspection, with the reason (no PHI in `reason`: it is what the sender is told).
  /// Returns after commit; a non-OK status means it could not be kept.
  virtual Status Reject(Message message, std::string_view reason) = 0;
};

}  // namespace fhirbridge
