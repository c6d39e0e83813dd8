#include "engine/store/statements.h"

#include <string>

namespace fhirbridge::store {

std::string_view MessageStatusName(std::int64_t status) {
  switch (status) {
    case kReceived:
      return "received";
    case kMapped:
      return "mapped";
    case kFailed:
      return "failed";
    case kHeld:
      return "held";
  }
  return "unknown";
}

std::int64_t MessageStatusCode(MappingRecord::Result result) {
  switch (result) {
    case MappingRecord::Result::kMapped:
      return kMapped;
    case MappingRecord::Result::kFailed:
      return kFailed;
    case MappingRecord::Result::kHeld:
      return kHeld;
  }
  return kFailed;
}

std::string_view DeadLetterStatusName(std::int64_t status) {
  switch (status) {
    case kDeadOpen:
      return "open";
    case kDeadReprocessed:
      return "reprocessed";
    case kDeadDiscarded:
      return "discarded";
  }
  return "unknown";
}

Result<std::int64_t> DeadLetterStatusFromName(std::string_view name) {
  if (name.empty() || name == "all") return std::int64_t{-1};
  for (std::int64_t c : {kDeadOpen, kDeadReprocessed, kDeadDiscarded}) {
    if (DeadLetterStatusName(c) == name) return c;
  }
  return Status::InvalidArgument("unknown dead-letter status \"" + std::string(name) +
                                 "\" (open, reprocessed, discarded, all)");
}

Result<std::int64_t> MessageStatusFromName(std::string_view name) {
  if (name.empty()) return std::int64_t{-1};
  for (std::int64_t c : {kReceived, kMapped, kFailed, kHeld}) {
    if (MessageStatusName(c) == name) return c;
  }
  return Status::InvalidArgument("unknown status \"" + std::string(name) +
                                 "\" (received, mapped, failed, held)");
}

AuditRecord ReadAuditRow(const Statement& q) {
  AuditRecord r;
  r.id = q.Int(0);
  r.at_us = q.Int(1);
  r.event = q.Text(2);
  r.outcome = q.Text(3);
  r.actor = q.Text(4);
  r.peer = q.Text(5);
  r.tls_identity = q.Text(6);
  r.source = q.Text(7);
  r.message_id = q.Int(8);
  r.control_id = q.Text(9);
  r.patient = q.Text(10);
  r.detail = q.Text(11);
  r.prev_hash = q.Text(12);
  r.hash = q.Text(13);
  return r;
}

namespace {

Status PrepareInto(SqliteDb& db, Statement& into, std::string_view sql) {
  Result<Statement> statement = db.Prepare(sql);
  if (!statement.ok()) return statement.status().WithContext(sql);
  into = std::move(statement).value();
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<WriterStatements>> WriterStatements::Prepare(SqliteDb& db) {
  auto s = std::make_unique<WriterStatements>();
  const std::pair<Statement*, std::string_view> all[] = {
      {&s->savepoint, "SAVEPOINT job"},
      {&s->rollback_to, "ROLLBACK TO job"},
      {&s->release, "RELEASE job"},
      {&s->insert_message,
       "INSERT INTO messages(source, format, control_id, digest, received_at_us, peer, "
       "tls_identity, raw) VALUES(?,?,?,?,?,?,?,X'') "
       "ON CONFLICT(source, control_id, digest) DO NOTHING"},
      {&s->insert_raw, "INSERT INTO message_raw(message_id, raw) VALUES(?,?)"},
      {&s->find_message,
       "SELECT id FROM messages WHERE source = ? AND control_id = ? AND digest = ?"},
      {&s->insert_rejected,
       "INSERT INTO rejected(source, format, control_id, received_at_us, peer, tls_identity, "
       "reason, raw) VALUES(?,?,?,?,?,?,?,?)"},
      {&s->insert_audit,
       "INSERT INTO audit(id, at_us, event, outcome, actor, peer, tls_identity, source, "
       "message_id, control_id, patient, detail, prev_hash, hash) "
       "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
      {&s->data_version, "PRAGMA data_version"},
      {&s->insert_checkpoint,
       "INSERT INTO audit_checkpoints(id, entry_id, entry_hash, at_us, key_id, alg, signature) "
       "VALUES(?,?,?,?,?,?,?)"},
      {&s->put_head,
       "INSERT INTO audit_head(one, entry_id, entry_hash, at_us, key_id, alg, signature) "
       "VALUES(1,?,?,?,?,?,?) ON CONFLICT(one) DO UPDATE SET entry_id = excluded.entry_id, "
       "entry_hash = excluded.entry_hash, at_us = excluded.at_us, key_id = excluded.key_id, "
       "alg = excluded.alg, signature = excluded.signature"},
      {&s->record_mapping,
       "UPDATE messages SET status = ?, mapped_at_us = ?, lane = ?, bundle = NULL, "
       "bundle_digest = ?, outcome = ?, resource_count = ?, redo_destinations = NULL "
       "WHERE id = ? AND status = 0"},
      {&s->insert_outbox,
       "INSERT INTO outbox(destination, message_id, lane, created_at_us) VALUES(?,?,?,?)"},
      {&s->insert_mapping_dead_letter,
       "INSERT INTO dead_letters(outbox_id, message_id, destination, created_at_us, reason, "
       "outcome) VALUES(NULL, ?, NULL, ?, 'mapping failed', ?)"},
      {&s->mark_delivered,
       "UPDATE outbox SET status = 1, done_at_us = ?, attempts = attempts + 1, "
       "http_status = ?, server_ids = ? WHERE id = ? AND destination = ? AND status = 0 "
       "RETURNING message_id"},
      {&s->put_sink_state,
       "INSERT INTO sink_state(destination, key, value) VALUES(?,?,?) "
       "ON CONFLICT(destination, key) DO UPDATE SET value = excluded.value"},
      {&s->mark_retry,
       "UPDATE outbox SET attempts = attempts + 1, next_attempt_us = ?, last_error = ? "
       "WHERE id = ? AND status = 0 RETURNING message_id, destination, attempts"},
      {&s->mark_dead,
       "UPDATE outbox SET status = 2, done_at_us = ?, attempts = attempts + 1, last_error = ?, "
       "http_status = ? WHERE id = ? AND status = 0 RETURNING message_id, destination"},
      {&s->insert_dead_letter,
       "INSERT INTO dead_letters(outbox_id, message_id, destination, created_at_us, reason, "
       "http_status, outcome) SELECT id, message_id, destination, ?, ?, ?, ? FROM outbox "
       "WHERE id = ?"},
      {&s->find_dead_letter,
       "SELECT status, message_id, destination FROM dead_letters WHERE id = ?"},
      {&s->resolve_dead_letter,
       "UPDATE dead_letters SET status = ?, resolved_at_us = ?, resolved_by = ? "
       "WHERE id = ? AND status = 0"},
      // A message queued again for mapping keeps the union of the destinations asked for; NULL
      // (every routed destination) wins.
      {&s->requeue_message,
       "UPDATE messages SET redo_destinations = CASE WHEN ?1 IS NULL THEN NULL "
       "WHEN status = 0 AND redo_destinations IS NULL THEN NULL "
       "WHEN status = 0 THEN redo_destinations || ',' || ?1 ELSE ?1 END, status = 0 "
       "WHERE id = ?2"},
      {&s->find_redo, "SELECT redo_destinations FROM messages WHERE id = ?"},
      // Retention (docs/store.md): finished messages only — mapped with no delivery pending, or
      // failed/mapped with no open dead letter (those can still be reprocessed from raw).
      {&s->purge_range,
       "SELECT COUNT(*), COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM messages m "
       "WHERE received_at_us < ?1 AND purged_at_us IS NULL AND status IN (1, 2) "
       "AND NOT EXISTS(SELECT 1 FROM outbox o WHERE o.message_id = m.id AND o.status = 0) "
       "AND NOT EXISTS(SELECT 1 FROM dead_letters d WHERE d.message_id = m.id AND d.status = 0)"},
      {&s->purge_messages,
       "UPDATE messages SET raw = X'', bundle = NULL, purged_at_us = ?2 "
       "WHERE received_at_us < ?1 AND purged_at_us IS NULL AND status IN (1, 2) "
       "AND NOT EXISTS(SELECT 1 FROM outbox o WHERE o.message_id = messages.id AND o.status = 0) "
       "AND NOT EXISTS(SELECT 1 FROM dead_letters d WHERE d.message_id = messages.id "
       "AND d.status = 0)"},
      {&s->purge_raw,
       "DELETE FROM message_raw WHERE message_id BETWEEN ?2 AND ?3 AND message_id IN "
       "(SELECT id FROM messages WHERE id BETWEEN ?2 AND ?3 AND purged_at_us = ?1)"},
      {&s->purge_rejected,
       "UPDATE rejected SET raw = X'', purged_at_us = ?2 "
       "WHERE received_at_us < ?1 AND purged_at_us IS NULL"},
      {&s->probe,
       "INSERT INTO meta(key, value) VALUES('probe', '1') "
       "ON CONFLICT(key) DO UPDATE SET value = value"},
  };
  for (const auto& [into, sql] : all) FHIRBRIDGE_RETURN_IF_ERROR(PrepareInto(db, *into, sql));
  return s;
}

Result<std::unique_ptr<ReaderStatements>> ReaderStatements::Prepare(SqliteDb& db) {
  auto s = std::make_unique<ReaderStatements>();
  const std::pair<Statement*, std::string> all[] = {
      {&s->pending_mappings,
       "SELECT m.id, m.source, m.format, m.control_id, m.received_at_us, "
       "COALESCE(r.raw, m.raw), m.digest FROM messages m "
       "LEFT JOIN message_raw r ON r.message_id = m.id WHERE m.status = 0 ORDER BY m.id LIMIT ?"},
      {&s->pending_deliveries,
       "SELECT o.id, o.message_id, o.lane, m.bundle, o.attempts, o.next_attempt_us, "
       "o.created_at_us, m.bundle_digest FROM outbox o JOIN messages m ON m.id = o.message_id "
       "WHERE o.destination = ? AND o.status = 0 AND o.id > ? ORDER BY o.id LIMIT ?"},
      {&s->get_message,
       "SELECT m.id, m.source, m.format, m.control_id, m.received_at_us, "
       "COALESCE(r.raw, m.raw), m.digest, m.purged_at_us FROM messages m "
       "LEFT JOIN message_raw r ON r.message_id = m.id WHERE m.id = ?"},
      {&s->get_sink_state, "SELECT value FROM sink_state WHERE destination = ? AND key = ?"},
      {&s->queue_pending,
       "SELECT COUNT(*), COALESCE(MIN(created_at_us), 0) FROM outbox "
       "WHERE destination = ? AND status = 0"},
      {&s->queue_dead, "SELECT COUNT(*) FROM dead_letters WHERE destination IS ? AND status = 0"},
      // Both scans go through the partial index messages_unmapped; ids follow intake order.
      {&s->unmapped,
       "SELECT COUNT(*), COALESCE((SELECT received_at_us FROM messages WHERE status = 0 "
       "ORDER BY id LIMIT 1), 0) FROM messages WHERE status = 0"},
      {&s->list_dead_letters,
       "SELECT d.id, d.message_id, m.source, m.control_id, COALESCE(d.destination, ''), "
       "d.created_at_us, d.reason, COALESCE(d.http_status, 0), d.status, "
       "COALESCE(d.resolved_at_us, 0), COALESCE(d.resolved_by, '') "
       "FROM dead_letters d JOIN messages m ON m.id = d.message_id "
       "WHERE (?1 < 0 OR d.status = ?1) AND (?2 = 0 OR d.id < ?2) ORDER BY d.id DESC LIMIT ?3"},
      {&s->get_dead_letter,
       "SELECT d.id, d.message_id, m.source, m.control_id, COALESCE(d.destination, ''), "
       "d.created_at_us, d.reason, COALESCE(d.http_status, 0), d.status, "
       "COALESCE(d.resolved_at_us, 0), COALESCE(d.resolved_by, ''), COALESCE(d.outcome, '') "
       "FROM dead_letters d JOIN messages m ON m.id = d.message_id WHERE d.id = ?"},
      {&s->list_messages,
       "SELECT id, source, control_id, status, received_at_us, COALESCE(mapped_at_us, 0) "
       "FROM messages WHERE (? < 0 OR status = ?) AND (? = 0 OR id < ?) ORDER BY id DESC "
       "LIMIT ?"},
      {&s->read_audit,
       "SELECT " + std::string(kAuditColumns) + " FROM audit WHERE id > ? ORDER BY id LIMIT ?"},
  };
  for (const auto& [into, sql] : all) FHIRBRIDGE_RETURN_IF_ERROR(PrepareInto(db, *into, sql));
  return s;
}

}  // namespace fhirbridge::store
