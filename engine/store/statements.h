#pragma once

// The store's SQL, prepared once per connection: the writer's statements and the readers'.
// Status values of the tables are named here (docs/store.md).

#include <cstdint>
#include <memory>
#include <string_view>

#include "engine/store/sqlite_db.h"
#include "fhirbridge/store.h"

namespace fhirbridge::store {

// messages.status
inline constexpr std::int64_t kReceived = 0;
inline constexpr std::int64_t kMapped = 1;
inline constexpr std::int64_t kFailed = 2;
inline constexpr std::int64_t kHeld = 3;

// dead_letters.status
inline constexpr std::int64_t kDeadOpen = 0;
inline constexpr std::int64_t kDeadReprocessed = 1;
inline constexpr std::int64_t kDeadDiscarded = 2;

std::string_view MessageStatusName(std::int64_t status);
std::string_view DeadLetterStatusName(std::int64_t status);
/// -1 for "" (any); InvalidArgument for an unknown name.
Result<std::int64_t> DeadLetterStatusFromName(std::string_view name);
std::int64_t MessageStatusCode(MappingRecord::Result result);
/// -1 for "" (any); InvalidArgument for an unknown name.
Result<std::int64_t> MessageStatusFromName(std::string_view name);

/// The audit table's columns in AuditRecord order, for SELECTs that ReadAuditRow reads.
inline constexpr std::string_view kAuditColumns =
    "id, at_us, event, outcome, actor, peer, tls_identity, COALESCE(source, ''), "
    "COALESCE(message_id, 0), control_id, patient, COALESCE(detail, ''), prev_hash, hash";
AuditRecord ReadAuditRow(const Statement& q);

struct WriterStatements {
  static Result<std::unique_ptr<WriterStatements>> Prepare(SqliteDb& db);

  Statement savepoint, rollback_to, release;
  Statement insert_message, insert_raw, find_message, insert_rejected, insert_audit;
  Statement record_mapping, insert_outbox, insert_mapping_dead_letter;
  Statement mark_delivered, put_sink_state, mark_retry, mark_dead, insert_dead_letter;
  Statement find_dead_letter, resolve_dead_letter, requeue_message, find_redo;
  Statement data_version, insert_checkpoint, put_head, purge_range, purge_messages, purge_raw,
      purge_rejected;
  Statement probe;
};

struct ReaderStatements {
  static Result<std::unique_ptr<ReaderStatements>> Prepare(SqliteDb& db);

  Statement pending_mappings, pending_deliveries, get_message, get_sink_state, queue_pending;
  Statement queue_dead, unmapped;
  Statement list_messages, list_dead_letters, get_dead_letter, read_audit;
};

}  // namespace fhirbridge::store
