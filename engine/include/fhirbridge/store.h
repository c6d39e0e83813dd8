#pragma once

// The durable store: raw messages, their mapping results, one outbox per destination, dead
// letters, refused input and the audit rows. Everything after intake is replayed from here, so a
// crash at any point loses nothing and delivers nothing twice (ARCHITECTURE.md, Storage).
// The on-disk format is described in docs/store.md.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/audit.h"
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
  std::string lane;  ///< delivery lane (hash of patient or device identity, no PHI)
  /// The FHIR transaction Bundle, one line of JSON. The store keeps only its SHA-256
  /// (`bundle_digest`, computed here when empty): delivery renders it again from the raw message.
  std::string bundle;
  std::vector<std::string> destinations;
  std::string outcome;  ///< OperationOutcome JSON (errors, or warnings of a mapped message)
  std::int64_t resource_count = 0;
  std::string patient;  ///< "system|value" of the Patient identifier, "" when none (audit only)
  std::int64_t error_count = 0;    ///< error/fatal issues found by mapping and validation
  std::int64_t warning_count = 0;  ///< warning issues (the "message.validated" audit entry)
  std::string bundle_digest;       ///< SHA-256 of `bundle`, 32 bytes; "" = the store computes it
};

/// One pending delivery of one message to one destination.
struct OutboxItem {
  std::int64_t id = 0;
  std::int64_t message_id = 0;
  std::string lane;
  /// The Bundle to deliver. The store fills it only for rows mapped before schema version 4
  /// (when Bundles were stored); otherwise the dispatcher renders it (BundleRenderer).
  std::string payload;
  std::int64_t attempts = 0;
  std::int64_t next_attempt_us = 0;
  std::int64_t created_at_us = 0;
  std::string bundle_digest;  ///< SHA-256 of the Bundle mapping produced ("" for old rows)
};

/// Queue figures of one destination for /metrics and /readyz.
struct QueueStats {
  std::int64_t pending = 0;
  std::int64_t oldest_pending_created_us = 0;  ///< 0 when nothing is pending
  std::int64_t delivered = 0;
  std::int64_t dead = 0;
};

/// Messages stored and not yet mapped, for /metrics: a destination's queue holds only mapped
/// messages, so behind a long backlog most of what waits is here.
struct MappingBacklog {
  std::int64_t messages = 0;
  std::int64_t oldest_received_us = 0;  ///< 0 when none waits
};

/// What the store's writer has done since it opened, for /metrics.
struct StoreCounters {
  std::int64_t commits = 0;       ///< transactions (group commit: each may hold many messages)
  std::int64_t syncs = 0;         ///< fdatasync calls of the WAL that made commits durable
  std::int64_t wal_restarts = 0;  ///< times the WAL was started over from its beginning
  std::int64_t checkpoints = 0;   ///< background copies of the WAL into the database file
};

/// Where a store reports how long its own work took, for GET /metrics. Each function is called
/// on the store's threads after the work, so it must be cheap and thread-safe; an empty one is
/// not called.
struct StoreTimings {
  std::function<void(std::chrono::nanoseconds)> commit;  ///< one transaction, group commit
  std::function<void(std::chrono::nanoseconds)> sync;    ///< one fdatasync of the WAL
  /// One checkpoint: in the background, or the committer's restart of the WAL (docs/store.md).
  std::function<void(std::chrono::nanoseconds)> checkpoint;
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

/// One row a sink delivered, with what the server said (no PHI: status and server ids only).
struct DeliveredRow {
  std::int64_t id = 0;  ///< the outbox row
  int http_status = 0;  ///< 0 when not HTTP
  std::string server_ids;
};

/// One entry of the dead-letter queue as `deadletter list` shows it: ids, names, times and the
/// reason, never content.
struct DeadLetterSummary {
  std::int64_t id = 0;
  std::int64_t message_id = 0;
  std::string source;
  std::string control_id;
  std::string destination;  ///< "" when mapping failed (no destination was reached)
  std::int64_t created_at_us = 0;
  std::string reason;
  int http_status = 0;
  std::string status;  ///< open | reprocessed | discarded
  std::int64_t resolved_at_us = 0;
  std::string resolved_by;
};

/// `deadletter show`: the summary and the server's (or the mapper's) OperationOutcome.
struct DeadLetterDetail {
  DeadLetterSummary summary;
  std::string outcome;
};

/// The store as the pipeline and the admin API use it. Thread-safe.
class MessageStore : public Intake {
 public:
  /// Up to `limit` stored messages not yet mapped, oldest first.
  virtual Result<std::vector<StoredMessage>> PendingMappings(std::size_t limit) = 0;
  /// One stored message by id, with its raw bytes (to render its Bundle again); NotFound when
  /// there is none, FailedPrecondition when retention purged its payload.
  virtual Result<StoredMessage> GetMessage(std::int64_t id) = 0;
  /// Records mapping results and creates their outbox rows, all in one transaction.
  virtual Status RecordMappings(const std::vector<MappingRecord>& records, std::int64_t now_us) = 0;

  /// The oldest pending outbox rows of `destination` (id order), at most `limit`, starting after
  /// id `after_id`. Rows waiting for a retry are included: the caller keeps lanes in order.
  virtual Result<std::vector<OutboxItem>> PendingDeliveries(std::string_view destination,
                                                            std::int64_t after_id,
                                                            std::size_t limit) = 0;
  /// Marks rows delivered (with the sink's checkpoint, when given) in one transaction.
  virtual Status RecordDelivered(std::string_view destination,
                                 const std::vector<DeliveredRow>& rows, std::int64_t now_us,
                                 const std::optional<SinkCheckpoint>& checkpoint) = 0;
  /// Schedules another attempt of one row.
  virtual Status RecordRetry(std::int64_t id, std::int64_t next_attempt_us,
                             std::string_view error) = 0;
  /// Moves one row to the dead-letter queue with the reason and the server's answer.
  virtual Status RecordDeadLetter(std::int64_t id, std::int64_t now_us, std::string_view reason,
                                  int http_status, std::string_view outcome) = 0;
  /// Dead letters in `status` (open | reprocessed | discarded, "" = any), newest first, ids below
  /// `before_id` (0 = from the newest).
  virtual Result<std::vector<DeadLetterSummary>> ListDeadLetters(std::string_view status,
                                                                 std::int64_t before_id,
                                                                 std::size_t limit) = 0;
  /// One dead letter with its OperationOutcome; NotFound when there is none with that id.
  virtual Result<DeadLetterDetail> GetDeadLetter(std::int64_t id) = 0;
  /// Reprocesses an open dead letter: its message is mapped again from the stored raw bytes (so a
  /// fixed mapping or configuration applies) and delivered to the destination that refused it
  /// (every routed destination when mapping had failed). `actor` says who asked (audited).
  /// NotFound for an unknown id, FailedPrecondition when it is not open.
  virtual Status ReprocessDeadLetter(std::int64_t id, std::int64_t now_us,
                                     std::string_view actor) = 0;
  /// Closes an open dead letter without delivering it (audited with `actor`).
  virtual Status DiscardDeadLetter(std::int64_t id, std::int64_t now_us,
                                   std::string_view actor) = 0;
  /// A sink's checkpoint value, or "" when none was recorded.
  virtual Result<std::string> SinkState(std::string_view destination, std::string_view key) = 0;

  virtual Result<QueueStats> Queue(std::string_view destination) = 0;
  virtual Result<MappingBacklog> Unmapped() = 0;
  /// Messages in `status` ("" = any), newest first, ids below `before_id` (0 = from the newest).
  virtual Result<std::vector<MessageSummary>> ListMessages(std::string_view status,
                                                           std::int64_t before_id,
                                                           std::size_t limit) = 0;
  /// OK when the store can commit a write now (for /readyz).
  virtual Status ProbeWritable() = 0;

  /// Appends one entry to the audit chain in its own write job (returns after commit). `id`,
  /// `prev_hash` and `hash` are assigned by the store; `at_us` 0 means now.
  virtual Status RecordAudit(AuditRecord record) = 0;
  /// Up to `limit` audit entries with ids above `after_id`, in chain order, with their hashes.
  virtual Result<std::vector<AuditRecord>> ReadAudit(std::int64_t after_id, std::size_t limit) = 0;
  /// The last audit entry that a power cut cannot take back. What is sent off the machine (the
  /// ATNA forwarder) stops there: a lost entry's id would be given to another entry.
  virtual std::int64_t DurableAuditId() const = 0;
  virtual StoreCounters Counters() const = 0;
  /// Starts reporting durations to `timings` (null: stops). Safe while the store runs.
  virtual void SetTimings(std::shared_ptr<const StoreTimings> timings) = 0;
};

}  // namespace fhirbridge
