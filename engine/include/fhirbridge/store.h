#pragma once

// The durable store: raw messages, their mapping results, one outbox per destination, dead
// letters, refused input and the audit rows. Everything after intake is replayed from here, so a
// crash at any point loses nothing and delivers nothing twice (ARCHITECTURE.md, Storage).
// The on-disk format is described in docs/store.md.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/intake.h"
#include "fhirbridge/result.h"
#include "fhirbridge/status.h"

namespace fhirbridge {

/// A message as the store keeps it, handed to the mapping workers.
struct StoredMessage {
  std::int64_t id = 0;
  std::string source;
  std::string format;
  std::string control_id;
  std::int64_t received_at_us = 0;
  std::string raw;
};

/// What mapping a stored message produced, recorded in one transaction with its outbox rows.
struct MappingRecord {
  enum class Result {
    kMapped,  ///< `bundle` goes to every destination in `destinations`
    kFailed,  ///< the message cannot be mapped: dead letter with `outcome`
    kHeld,    ///< waiting for information (e.g. a patient identity): kept, not delivered
  };
  std::int64_t message_id = 0;
  Result result = Result::kMapped;
  std::string lane;    ///< delivery lane (hash of patient or device identity, no PHI)
  std::string bundle;  ///< the FHIR transaction Bundle, one line of JSON
  std::vector<std::string> destinations;
  std::string outcome;  ///< OperationOutcome JSON (errors, or warnings of a mapped message)
  std::int64_t resource_count = 0;
};

/// One pending delivery of one message to one destination.
struct OutboxItem {
  std::int64_t id = 0;
  std::int64_t message_id = 0;
  std::string lane;
  std::string payload;  ///< the Bundle to deliver
  std::int64_t attempts = 0;
  std::int64_t next_attempt_us = 0;
  std::int64_t created_at_us = 0;
};

/// Queue figures of one destination for /metrics and /readyz.
struct QueueStats {
  std::int64_t pending = 0;
  std::int64_t oldest_pending_created_us = 0;  ///< 0 when nothing is pending
  std::int64_t delivered = 0;
  std::int64_t dead = 0;
};

/// One line of `GET /api/messages`: ids, states and times only, never content.
struct MessageSummary {
  std::int64_t id = 0;
  std::string source;
  std::string control_id;
  std::string status;  ///< received | mapped | failed | held
  std::int64_t received_at_us = 0;
  std::int64_t mapped_at_us = 0;
};

/// A sink's own progress marker, committed together with the deliveries it covers (the file
/// destination records how many bytes of its file are delivered; see FileSink).
struct SinkCheckpoint {
  std::string key;
  std::string value;
};

/// The store as the pipeline and the admin API use it. Thread-safe.
class MessageStore : public Intake {
 public:
  /// Up to `limit` stored messages not yet mapped, oldest first.
  virtual Result<std::vector<StoredMessage>> PendingMappings(std::size_t limit) = 0;
  /// Records mapping results and creates their outbox rows, all in one transaction.
  virtual Status RecordMappings(const std::vector<MappingRecord>& records, std::int64_t now_us) = 0;

  /// The oldest pending outbox rows of `destination` (id order), at most `limit`, starting after
  /// id `after_id`. Rows waiting for a retry are included: the caller keeps lanes in order.
  virtual Result<std::vector<OutboxItem>> PendingDeliveries(std::string_view destination,
                                                            std::int64_t after_id,
                                                            std::size_t limit) = 0;
  /// Marks rows delivered (with the sink's checkpoint, when given) in one transaction.
  virtual Status RecordDelivered(std::string_view destination, const std::vector<std::int64_t>& ids,
                                 std::int64_t now_us,
                                 const std::optional<SinkCheckpoint>& checkpoint) = 0;
  /// Schedules another attempt of one row.
  virtual Status RecordRetry(std::int64_t id, std::int64_t next_attempt_us,
                             std::string_view error) = 0;
  /// Moves one row to the dead-letter queue with the reason and the server's answer.
  virtual Status RecordDeadLetter(std::int64_t id, std::int64_t now_us, std::string_view reason,
                                  std::string_view outcome) = 0;
  /// A sink's checkpoint value, or "" when none was recorded.
  virtual Result<std::string> SinkState(std::string_view destination, std::string_view key) = 0;

  virtual Result<QueueStats> Queue(std::string_view destination) = 0;
  /// Messages in `status` ("" = any), newest first, ids below `before_id` (0 = from the newest).
  virtual Result<std::vector<MessageSummary>> ListMessages(std::string_view status,
                                                           std::int64_t before_id,
                                                           std::size_t limit) = 0;
  /// OK when the store can commit a write now (for /readyz).
  virtual Status ProbeWritable() = 0;
};

}  // namespace fhirbridge
