#include "engine/store/schema.h"

#include <string>

namespace fhirbridge::store {

namespace {

// Version 1. Times are microseconds since the Unix epoch (UTC). Statuses are small integers
// named in docs/store.md.
constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  format TEXT NOT NULL,
  control_id TEXT NOT NULL,
  digest BLOB NOT NULL,
  received_at_us INTEGER NOT NULL,
  peer TEXT NOT NULL,
  tls_identity TEXT NOT NULL,
  raw BLOB NOT NULL,
  status INTEGER NOT NULL DEFAULT 0,
  mapped_at_us INTEGER,
  lane TEXT,
  bundle BLOB,
  outcome TEXT,
  resource_count INTEGER);
CREATE UNIQUE INDEX messages_resend ON messages(source, control_id, digest);
CREATE INDEX messages_unmapped ON messages(id) WHERE status = 0;
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY,
  destination TEXT NOT NULL,
  message_id INTEGER NOT NULL REFERENCES messages(id),
  lane TEXT NOT NULL,
  status INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_us INTEGER NOT NULL DEFAULT 0,
  created_at_us INTEGER NOT NULL,
  done_at_us INTEGER,
  last_error TEXT);
CREATE INDEX outbox_pending ON outbox(destination, id) WHERE status = 0;
CREATE TABLE dead_letters(
  id INTEGER PRIMARY KEY,
  outbox_id INTEGER,
  message_id INTEGER NOT NULL REFERENCES messages(id),
  destination TEXT,
  created_at_us INTEGER NOT NULL,
  reason TEXT NOT NULL,
  outcome TEXT,
  status INTEGER NOT NULL DEFAULT 0);
CREATE TABLE rejected(
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  format TEXT NOT NULL,
  control_id TEXT NOT NULL,
  received_at_us INTEGER NOT NULL,
  peer TEXT NOT NULL,
  tls_identity TEXT NOT NULL,
  reason TEXT NOT NULL,
  raw BLOB NOT NULL);
CREATE TABLE sink_state(
  destination TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(destination, key));
CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  event TEXT NOT NULL,
  source TEXT,
  message_id INTEGER,
  detail TEXT);
)sql";

// Version 2 (router): what each delivery got from the server, and the dead-letter life cycle
// (open → reprocessed | discarded, by whom). A reprocessed message is mapped again; while
// `redo_destinations` is set (comma-separated names), its new outbox rows go only there.
constexpr std::string_view kVersion2 = R"sql(
ALTER TABLE outbox ADD COLUMN http_status INTEGER;
ALTER TABLE outbox ADD COLUMN server_ids TEXT;
ALTER TABLE dead_letters ADD COLUMN http_status INTEGER;
ALTER TABLE dead_letters ADD COLUMN resolved_at_us INTEGER;
ALTER TABLE dead_letters ADD COLUMN resolved_by TEXT;
ALTER TABLE messages ADD COLUMN redo_destinations TEXT;
CREATE INDEX dead_letters_open ON dead_letters(id) WHERE status = 0;
)sql";

Result<int> CurrentVersion(SqliteDb& db) {
  FHIRBRIDGE_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"));
  Result<Statement> q = db.Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
  if (!q.ok()) return q.status();
  Result<bool> row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return 0;
  return std::stoi(q->Text(0));
}

}  // namespace

Status MigrateSchema(SqliteDb& db) {
  Transaction transaction(db);
  FHIRBRIDGE_RETURN_IF_ERROR(transaction.Begin());
  Result<int> version = CurrentVersion(db);
  if (!version.ok()) return version.status().WithContext("store schema");
  if (*version > kSchemaVersion) {
    return Status::FailedPrecondition("the store has schema version " + std::to_string(*version) +
                                      ", newer than this build understands (" +
                                      std::to_string(kSchemaVersion) +
                                      "): run the newer fhirbridge or restore a backup");
  }
  if (*version < 1) FHIRBRIDGE_RETURN_IF_ERROR(db.Exec(kVersion1));
  if (*version < 2) FHIRBRIDGE_RETURN_IF_ERROR(db.Exec(kVersion2));
  FHIRBRIDGE_RETURN_IF_ERROR(db.Exec("INSERT INTO meta(key, value) VALUES('schema_version', '" +
                                     std::to_string(kSchemaVersion) +
                                     "') ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  return transaction.Commit();
}

}  // namespace fhirbridge::store
