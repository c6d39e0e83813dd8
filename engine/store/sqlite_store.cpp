#include "engine/store/sqlite_store.h"

#include <algorithm>
#include <utility>

#include "engine/store/audit_detail.h"
#include "engine/store/schema.h"
#include "engine/store/statements.h"
#include "engine/store/wal_file.h"
#include "fhirbridge/json_writer.h"
#include "fhirbridge/log.h"

namespace fhirbridge::store {

namespace {

constexpr std::int64_t kAssumedPageSize = 4096;  // SQLite's default; the store never changes it
constexpr std::int64_t kWalFrameHeader = 24;

AuditRecord MessageEntry(std::string_view event, const Message& m, std::int64_t message_id) {
  AuditRecord r;
  r.at_us = m.received_at_us;
  r.event = std::string(event);
  r.actor = "source:" + m.source;
  r.peer = m.peer;
  r.tls_identity = m.tls_identity;
  r.source = m.source;
  r.message_id = message_id;
  r.control_id = m.control_id;
  return r;
}

// A delivery that failed, as the engine itself reports it.
AuditRecord PipelineFailure(std::string_view event, const std::string& destination,
                            std::int64_t message_id) {
  AuditRecord r;
  r.event = std::string(event);
  r.outcome = "failure";
  r.actor = "fhirbridge";
  r.source = destination;
  r.message_id = message_id;
  return r;
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(SqliteStoreOptions options) {
  if (options.wal_size_bytes > 0) {
    options.wal_restart_frames = std::max<std::int64_t>(
        64, options.wal_size_bytes * 3 / 4 / (kAssumedPageSize + kWalFrameHeader));
  }
  // NORMAL: a commit does not wait for the disk; the syncer makes it durable (sqlite_store.h).
  Result<std::unique_ptr<SqliteDb>> writer = SqliteDb::Open(options.path, /*full_sync=*/false);
  if (!writer.ok()) return writer.status();
  // Checkpoints run in the background, and the writer restarts the WAL past wal_restart_frames.
  // SQLite's own automatic checkpoint is only a backstop, far above that: it runs inside the
  // commit that crosses its threshold, and then in every commit after it until the WAL starts
  // over, each time with an fsync of the database file that the ACKs would wait for.
  FHIRBRIDGE_RETURN_IF_ERROR((*writer)->Exec("PRAGMA wal_autocheckpoint=" +
                                             std::to_string(options.wal_restart_frames * 4)));
  // Each job runs in its own savepoint, so SQLite keeps a sub-journal of the pages a batch
  // changes; past 64 KB it spilled that to a temporary file, a 4 KB and a 4-byte pwrite per page
  // (6 calls per message into the FHIR server, strace). In memory it costs no calls; it lives
  // only until the batch commits.
  FHIRBRIDGE_RETURN_IF_ERROR((*writer)->Exec("PRAGMA temp_store=MEMORY"));
  // After a restart the WAL file is cut back to this size (it keeps its blocks up to it, so
  // that commits overwrite them instead of growing the file, which costs a journal commit in
  // every fdatasync).
  FHIRBRIDGE_RETURN_IF_ERROR(
      (*writer)->Exec("PRAGMA journal_size_limit=" +
                      std::to_string(std::max(
                          options.wal_size_bytes,
                          options.wal_restart_frames * (kAssumedPageSize + kWalFrameHeader) * 2))));
  // Purged payloads (retention) must not linger in free pages. Without retention nothing is
  // purged, and zeroing every freed page would only cost writes.
  if (options.retention_days > 0) {
    FHIRBRIDGE_RETURN_IF_ERROR((*writer)->Exec("PRAGMA secure_delete=ON"));
  }
  FHIRBRIDGE_RETURN_IF_ERROR(MigrateSchema(**writer));
  FHIRBRIDGE_RETURN_IF_ERROR(CheckPayloadKey(**writer, options.cipher.get()));
  if (options.wal_size_bytes > 0) {
    // Only a matter of speed: a store on a nearly full disk still opens, and takes messages
    // for as long as there is room.
    if (Status ready = PreallocateWal(**writer, options.path, options.wal_size_bytes);
        !ready.ok()) {
      Logger::Global().Warn("store.wal_not_preallocated",
                            {LogField::Code("status", CodeName(ready.code()))});
    }
  }
  Result<std::unique_ptr<SqliteDb>> reader = SqliteDb::Open(options.path, options.full_sync);
  if (!reader.ok()) return reader.status();
  std::unique_ptr<SqliteStore> store(
      new SqliteStore(std::move(options), std::move(writer).value(), std::move(reader).value()));
  FHIRBRIDGE_RETURN_IF_ERROR(store->Prepare());
  FHIRBRIDGE_RETURN_IF_ERROR(store->LoadChain());
  store->committed_audit_id_ = store->chain_.last_id;
  store->writer_thread_ = std::thread([s = store.get()] { s->WriterLoop(); });
  if (store->options_.full_sync) {  // store.sync normal: commits never wait for an fdatasync
    store->sync_thread_ = std::thread([s = store.get()] { s->SyncLoop(); });
  }
  store->checkpoint_thread_ = std::thread([s = store.get()] { s->CheckpointLoop(); });
  if (store->options_.retention_days > 0) {
    store->retention_thread_ = std::thread([s = store.get()] { s->RetentionLoop(); });
  }
  return store;
}

SqliteStore::SqliteStore(SqliteStoreOptions options, std::unique_ptr<SqliteDb> writer,
                         std::unique_ptr<SqliteDb> reader)
    : options_(std::move(options)), writer_(std::move(writer)), reader_(std::move(reader)) {}

SqliteStore::~SqliteStore() {
  Close();
  w_.reset();  // finalize statements before their connections close
  r_.reset();
}

void SqliteStore::Close() {
  {
    std::lock_guard lock(queue_mutex_);
    if (closed_) return;
    closing_ = true;
  }
  queue_cv_.notify_all();
  checkpoint_cv_.notify_all();
  // Retention writes through the writer: it stops first (its Write fails once closing).
  if (retention_thread_.joinable()) retention_thread_.join();
  if (writer_thread_.joinable()) writer_thread_.join();
  if (sync_thread_.joinable()) sync_thread_.join();  // after the writer's last commit
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  std::lock_guard lock(queue_mutex_);
  closed_ = true;
}

Status SqliteStore::Prepare() {
  Result<std::unique_ptr<WriterStatements>> w = WriterStatements::Prepare(*writer_);
  if (!w.ok()) return w.status();
  w_ = std::move(w).value();
  Result<std::unique_ptr<ReaderStatements>> r = ReaderStatements::Prepare(*reader_);
  if (!r.ok()) return r.status();
  r_ = std::move(r).value();
  return Status::Ok();
}

Status SqliteStore::SetMaxPagesForTest(std::int64_t pages) {
  return Write(
      [this, pages] { return writer_->Exec("PRAGMA max_page_count = " + std::to_string(pages)); });
}

// ---- write jobs ----

Status SqliteStore::InsertMessage(const Message& m, IntakeReceipt& receipt) {
  const std::string digest = Sha256(m.raw);
  Result<std::string> raw = SealPayload(m.raw, "messages.raw|" + HexOf(digest));
  if (!raw.ok()) return raw.status();
  Statement& insert = w_->insert_message;
  insert.Bind(1, m.source).Bind(2, m.format).Bind(3, m.control_id).BindBlob(4, digest);
  insert.Bind(5, m.received_at_us).Bind(6, m.peer).Bind(7, m.tls_identity);
  FHIRBRIDGE_RETURN_IF_ERROR(insert.Run());
  if (writer_->Changes() == 1) {
    receipt = {IntakeReceipt::Outcome::kStored, writer_->LastInsertId()};
    FHIRBRIDGE_RETURN_IF_ERROR(w_->insert_raw.Bind(1, receipt.message_id).BindBlob(2, *raw).Run());
    // The "received and stored" entry commits with the message itself. It also stands for the
    // acknowledgement: a connector sends AA exactly when this commit succeeded, so the code is
    // known here, and a separate "acknowledged" write per message would cost a second commit
    // slot per message (docs/audit.md, What is audited).
    AuditRecord r = MessageEntry("message.received", m, receipt.message_id);
    r.detail = Detail().Str("format", m.format).Str("ack", "AA").Done();
    return AppendAudit(std::move(r));
  }
  Statement& find = w_->find_message;
  find.Bind(1, m.source).Bind(2, m.control_id).BindBlob(3, digest);
  Result<bool> row = find.Step();
  const std::int64_t id = row.ok() && *row ? find.Int(0) : 0;
  find.Reset();
  if (!row.ok()) return row.status();
  if (id == 0) return Status::Internal("store: a resent message's first copy is missing");
  receipt = {IntakeReceipt::Outcome::kDuplicate, id};
  AuditRecord r = MessageEntry("message.resent", m, id);
  r.detail = Detail().Str("ack", "AA").Done();
  return AppendAudit(std::move(r));
}

Status SqliteStore::InsertRejected(const Message& m, std::string_view reason) {
  Result<std::string> raw = SealPayload(m.raw, "rejected.raw");
  if (!raw.ok()) return raw.status();
  Statement& q = w_->insert_rejected;
  q.Bind(1, m.source).Bind(2, m.format).Bind(3, m.control_id).Bind(4, m.received_at_us);
  q.Bind(5, m.peer).Bind(6, m.tls_identity).Bind(7, reason).BindBlob(8, *raw);
  FHIRBRIDGE_RETURN_IF_ERROR(q.Run());
  AuditRecord r = MessageEntry("message.rejected", m, 0);
  r.outcome = "failure";
  r.detail = Detail().Str("format", m.format).Str("reason", reason).Done();
  return AppendAudit(std::move(r));
}

Result<IntakeReceipt> SqliteStore::Accept(Message message) {
  IntakeReceipt receipt;
  FHIRBRIDGE_RETURN_IF_ERROR(Write([&] { return InsertMessage(message, receipt); }));
  return receipt;
}

Status SqliteStore::Reject(Message message, std::string_view reason) {
  return Write([&] { return InsertRejected(message, reason); });
}

Result<std::vector<std::string>> SqliteStore::RedoDestinations(
    std::int64_t message_id, const std::vector<std::string>& routed) {
  Statement& q = w_->find_redo;
  q.Bind(1, message_id);
  Result<bool> row = q.Step();
  const bool limited = row.ok() && *row && !q.IsNull(0);
  const std::string redo = limited ? q.Text(0) : std::string();
  q.Reset();
  if (!row.ok()) return row.status();
  if (!limited) return routed;
  std::vector<std::string> out;
  for (const std::string& destination : routed) {
    const std::string needle = "," + destination + ",";
    if (("," + redo + ",").find(needle) != std::string::npos) out.push_back(destination);
  }
  return out;
}

Status SqliteStore::ApplyMapping(const MappingRecord& r, std::int64_t now_us) {
  Result<std::vector<std::string>> destinations = RedoDestinations(r.message_id, r.destinations);
  if (!destinations.ok()) return destinations.status();
  Statement& update = w_->record_mapping;
  update.Bind(1, MessageStatusCode(r.result)).Bind(2, now_us).Bind(3, r.lane);
  // Only the Bundle's digest is stored: it is rendered again from the raw message at delivery
  // (docs/store.md, "Bundles are rendered, not stored").
  if (!r.bundle_digest.empty()) {
    update.BindBlob(4, r.bundle_digest);
  } else if (!r.bundle.empty()) {
    update.BindBlob(4, Sha256(r.bundle));
  } else {
    update.BindNull(4);
  }
  update.Bind(5, r.outcome).Bind(6, r.resource_count).Bind(7, r.message_id);
  FHIRBRIDGE_RETURN_IF_ERROR(update.Run());
  if (writer_->Changes() != 1) return Status::Ok();  // mapped before: nothing to add
  if (r.result == MappingRecord::Result::kMapped) {
    for (const std::string& destination : *destinations) {
      Statement& outbox = w_->insert_outbox;
      outbox.Bind(1, destination).Bind(2, r.message_id).Bind(3, r.lane).Bind(4, now_us);
      FHIRBRIDGE_RETURN_IF_ERROR(outbox.Run());
    }
  } else if (r.result == MappingRecord::Result::kFailed) {
    Statement& dead = w_->insert_mapping_dead_letter;
    dead.Bind(1, r.message_id).Bind(2, now_us).Bind(3, r.outcome);
    FHIRBRIDGE_RETURN_IF_ERROR(dead.Run());
  }
  return AuditMapping(r, *destinations, now_us);
}

Status SqliteStore::RecordMappings(const std::vector<MappingRecord>& records, std::int64_t now_us) {
  return Write(
      [&]() -> Status {
        for (const MappingRecord& r : records) FHIRBRIDGE_RETURN_IF_ERROR(ApplyMapping(r, now_us));
        return Status::Ok();
      },
      Durability::kWithNextSync);
}

Status SqliteStore::RecordDelivered(std::string_view destination,
                                    const std::vector<DeliveredRow>& rows, std::int64_t now_us,
                                    const std::optional<SinkCheckpoint>& checkpoint) {
  return Write(
      [&]() -> Status {
        for (const DeliveredRow& row : rows) {
          Statement& q = w_->mark_delivered;
          q.Bind(1, now_us).Bind(2, std::int64_t{row.http_status});
          if (row.server_ids.empty()) {
            q.BindNull(3);
          } else {
            q.Bind(3, row.server_ids);
          }
          q.Bind(4, row.id).Bind(5, destination);
          Result<bool> updated = q.Step();
          const std::int64_t message_id = updated.ok() && *updated ? q.Int(0) : 0;
          q.Reset();
          if (!updated.ok()) return updated.status();
          if (message_id == 0) continue;  // delivered before: audited then
          Detail detail;
          detail.Int("outbox", row.id).Int("http_status", row.http_status);
          if (!row.server_ids.empty()) detail.Str("server_ids", row.server_ids);
          FHIRBRIDGE_RETURN_IF_ERROR(
              Audit(now_us, "message.delivered", destination, message_id, detail.Done()));
        }
        if (checkpoint) {
          Statement& q = w_->put_sink_state;
          q.Bind(1, destination).Bind(2, checkpoint->key).Bind(3, checkpoint->value);
          FHIRBRIDGE_RETURN_IF_ERROR(q.Run());
        }
        return Status::Ok();
      },
      Durability::kWithNextSync);
}

Status SqliteStore::RecordRetry(std::int64_t id, std::int64_t next_attempt_us,
                                std::string_view error) {
  return Write(
      [&]() -> Status {
        Statement& q = w_->mark_retry;
        q.Bind(1, next_attempt_us).Bind(2, error).Bind(3, id);
        Result<bool> updated = q.Step();
        const bool found = updated.ok() && *updated;
        const std::int64_t message_id = found ? q.Int(0) : 0;
        const std::string destination = found ? q.Text(1) : std::string();
        const std::int64_t attempts = found ? q.Int(2) : 0;
        q.Reset();
        if (!updated.ok()) return updated.status();
        if (!found) return Status::Ok();
        AuditRecord r = PipelineFailure("message.retried", destination, message_id);
        r.detail = Detail()
                       .Int("outbox", id)
                       .Int("attempts", attempts)
                       .Int("next_attempt_us", next_attempt_us)
                       .Str("error", error)
                       .Done();
        return AppendAudit(std::move(r));
      },
      Durability::kWithNextSync);
}

Status SqliteStore::RecordDeadLetter(std::int64_t id, std::int64_t now_us, std::string_view reason,
                                     int http_status, std::string_view outcome) {
  return Write(
      [&]() -> Status {
        Statement& dead = w_->mark_dead;
        dead.Bind(1, now_us).Bind(2, reason).Bind(3, std::int64_t{http_status}).Bind(4, id);
        Result<bool> updated = dead.Step();
        const bool found = updated.ok() && *updated;
        const std::int64_t message_id = found ? dead.Int(0) : 0;
        const std::string destination = found ? dead.Text(1) : std::string();
        dead.Reset();
        if (!updated.ok()) return updated.status();
        if (!found) return Status::Ok();
        Statement& letter = w_->insert_dead_letter;
        letter.Bind(1, now_us).Bind(2, reason).Bind(3, std::int64_t{http_status});
        letter.Bind(4, outcome).Bind(5, id);
        FHIRBRIDGE_RETURN_IF_ERROR(letter.Run());
        AuditRecord r = PipelineFailure("message.dead_lettered", destination, message_id);
        r.at_us = now_us;
        r.detail = Detail()
                       .Int("outbox", id)
                       .Int("dead_letter", writer_->LastInsertId())
                       .Int("http_status", http_status)
                       .Str("reason", reason)
                       .Done();
        return AppendAudit(std::move(r));
      },
      Durability::kWithNextSync);
}

Status SqliteStore::ResolveDeadLetter(std::int64_t id, std::int64_t now_us, std::string_view actor,
                                      bool reprocess) {
  Statement& find = w_->find_dead_letter;
  find.Bind(1, id);
  Result<bool> row = find.Step();
  const bool found = row.ok() && *row;
  const std::int64_t status = found ? find.Int(0) : 0;
  const std::int64_t message_id = found ? find.Int(1) : 0;
  const bool has_destination = found && !find.IsNull(2);
  const std::string destination = has_destination ? find.Text(2) : std::string();
  find.Reset();
  if (!row.ok()) return row.status();
  if (!found) return Status::NotFound("no dead letter with id " + std::to_string(id));
  if (status != kDeadOpen) {
    return Status::FailedPrecondition("dead letter " + std::to_string(id) + " is already " +
                                      std::string(DeadLetterStatusName(status)));
  }
  Statement& resolve = w_->resolve_dead_letter;
  resolve.Bind(1, reprocess ? kDeadReprocessed : kDeadDiscarded).Bind(2, now_us);
  resolve.Bind(3, actor).Bind(4, id);
  FHIRBRIDGE_RETURN_IF_ERROR(resolve.Run());
  if (reprocess) {
    Statement& requeue = w_->requeue_message;
    if (has_destination) {
      requeue.Bind(1, destination);
    } else {
      requeue.BindNull(1);
    }
    requeue.Bind(2, message_id);
    FHIRBRIDGE_RETURN_IF_ERROR(requeue.Run());
  }
  AuditRecord r;
  r.at_us = now_us;
  r.event = reprocess ? "deadletter.reprocessed" : "deadletter.discarded";
  r.actor = std::string(actor);
  r.source = destination;
  r.message_id = message_id;
  r.detail = Detail().Int("dead_letter", id).Done();
  return AppendAudit(std::move(r));
}

Status SqliteStore::ReprocessDeadLetter(std::int64_t id, std::int64_t now_us,
                                        std::string_view actor) {
  return Write([&] { return ResolveDeadLetter(id, now_us, actor, true); });
}

Status SqliteStore::DiscardDeadLetter(std::int64_t id, std::int64_t now_us,
                                      std::string_view actor) {
  return Write([&] { return ResolveDeadLetter(id, now_us, actor, false); });
}

Status SqliteStore::ProbeWritable() {
  return Write([this] { return w_->probe.Run(); });
}

}  // namespace fhirbridge::store
