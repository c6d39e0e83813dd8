#include "engine/store/schema.h"

#include <string>

#include "engine/store/audit_chain.h"

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

// Version 3 (audit): every AuditRecord field, the hash chain (prev_hash, hash), signed
// checkpoints, the signed head (one row, rewritten by every commit that adds entries), and
// when a message's payloads were purged by retention. Entries are append-only: the triggers
// refuse UPDATE and DELETE through SQL (a determined editor can drop them; `audit verify`
// catches what they then do).
constexpr std::string_view kVersion3 = R"sql(
ALTER TABLE audit ADD COLUMN outcome TEXT NOT NULL DEFAULT 'success';
ALTER TABLE audit ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN peer TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN tls_identity TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN control_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN patient TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE TABLE audit_checkpoints(
  id INTEGER PRIMARY KEY,
  entry_id INTEGER NOT NULL,
  entry_hash TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  alg TEXT NOT NULL,
  signature TEXT NOT NULL);
CREATE TABLE audit_head(
  one INTEGER PRIMARY KEY CHECK(one = 1),
  entry_id INTEGER NOT NULL,
  entry_hash TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  alg TEXT NOT NULL,
  signature TEXT NOT NULL);
ALTER TABLE messages ADD COLUMN purged_at_us INTEGER;
ALTER TABLE rejected ADD COLUMN purged_at_us INTEGER;
)sql";

// Version 4: mapped Bundles are no longer stored. A message keeps its raw bytes and the SHA-256 of
// the Bundle its mapping produced; delivery renders the Bundle again from the raw bytes (mapping
// is deterministic) unless it is still in memory. `bundle` stays for rows written before.
constexpr std::string_view kVersion4 = R"sql(
ALTER TABLE messages ADD COLUMN bundle_digest BLOB;
)sql";

// Version 5: a message's raw bytes live in their own table, written once and never updated. The
// messages row is updated by mapping, reprocessing and retention; with the raw bytes (1-4 KB) in
// it, every such update rewrote a whole page per message in the WAL. New rows keep an empty
// messages.raw; rows written before keep their bytes there (readers take whichever is present).
constexpr std::string_view kVersion5 = R"sql(
CREATE TABLE message_raw(message_id INTEGER PRIMARY KEY, raw BLOB NOT NULL);
)sql";

// After the existing rows are chained (ChainExistingAuditRows).
constexpr std::string_view kVersion3Triggers = R"sql(
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
)sql";

// Rows written before version 3 have no hashes: chain them once, in id order, with the new
// columns' defaults (what they held is what the hash covers from now on).
Status ChainExistingAuditRows(SqliteDb& db) {
  Result<Statement> q = db.Prepare(
      "SELECT id, at_us, event, COALESCE(source, ''), COALESCE(message_id, 0), "
      "COALESCE(detail, '') FROM audit ORDER BY id");
  if (!q.ok()) return q.status();
  Result<Statement> set = db.Prepare("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?");
  if (!set.ok()) return set.status();
  std::string prev;
  for (;;) {
    Result<bool> row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    AuditRecord r;
    r.id = q->Int(0);
    r.at_us = q->Int(1);
    r.event = q->Text(2);
    r.source = q->Text(3);
    r.message_id = q->Int(4);
    r.detail = q->Text(5);
    r.prev_hash = prev;
    r.hash = AuditEntryHash(r);
    set->Bind(1, r.prev_hash).Bind(2, r.hash).Bind(3, r.id);
    FHIRBRIDGE_RETURN_IF_ERROR(set->Run());
    prev = r.hash;
  }
  return Status::Ok();
}

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
  if (*version < 3) {
    FHIRBRIDGE_RETURN_IF_ERROR(db.Exec(kVersion3));
    FHIRBRIDGE_RETURN_IF_ERROR(ChainExistingAuditRows(db));
    FHIRBRIDGE_RETURN_IF_ERROR(db.Exec(kVersion3Triggers));
  }
  if (*version < 4) FHIRBRIDGE_RETURN_IF_ERROR(db.Exec(kVersion4));
  if (*version < 5) FHIRBRIDGE_RETURN_IF_ERROR(db.Exec(kVersion5));
  FHIRBRIDGE_RETURN_IF_ERROR(db.Exec("INSERT INTO meta(key, value) VALUES('schema_version', '" +
                                     std::to_string(kSchemaVersion) +
                                     "') ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  return transaction.Commit();
}

}  // namespace fhirbridge::store
