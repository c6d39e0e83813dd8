// SqliteStore's audit chain (docs/audit.md): appending entries on the writer thread, sealing
// each commit with the signed head and periodic checkpoints, reading the chain back, and the
// retention job that purges old payloads.

#include <chrono>

#include "engine/store/audit_detail.h"
#include "engine/store/sqlite_store.h"
#include "engine/store/statements.h"
#include "fhirbridge/json_writer.h"
#include "fhirbridge/log.h"
#include "fhirbridge/thread_name.h"

namespace fhirbridge::store {

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// The head and checkpoints are signed under different labels so neither passes for the other.
constexpr std::string_view kHeadKind = "head";
constexpr std::string_view kCheckpointKind = "checkpoint";

}  // namespace

// A wrong encryption key is refused at start-up, before anything is written with it: the
// store keeps a check value of the key its payloads were sealed with.
Status CheckPayloadKey(SqliteDb& db, const PayloadCipher* cipher) {
  Result<Statement> q = db.Prepare("SELECT value FROM meta WHERE key = 'payload_key_check'");
  if (!q.ok()) return q.status();
  Result<bool> row = q->Step();
  if (!row.ok()) return row.status();
  const std::string stored = *row ? q->Text(0) : std::string();
  if (cipher == nullptr) {
    if (stored.empty()) return Status::Ok();
    return Status::FailedPrecondition(
        "the store holds encrypted payloads: set store.encryption_key_file to their key");
  }
  const std::string check = cipher->CheckValue();
  if (stored.empty()) {
    return db.Exec("INSERT INTO meta(key, value) VALUES('payload_key_check', '" + check + "')");
  }
  if (stored != check) {
    return Status::FailedPrecondition(
        "store.encryption_key_file: not the key this store's payloads were encrypted with");
  }
  return Status::Ok();
}

Status SqliteStore::LoadChain() {
  Result<Statement> last = writer_->Prepare("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1");
  if (!last.ok()) return last.status();
  Result<bool> row = last->Step();
  if (!row.ok()) return row.status();
  if (*row) {
    chain_.last_id = last->Int(0);
    chain_.last_hash = last->Text(1);
  }
  Result<Statement> checkpoint = writer_->Prepare(
      "SELECT entry_id, at_us, id FROM audit_checkpoints ORDER BY id DESC LIMIT 1");
  if (!checkpoint.ok()) return checkpoint.status();
  row = checkpoint->Step();
  if (!row.ok()) return row.status();
  chain_.unsealed = *row ? chain_.last_id - checkpoint->Int(0) : chain_.last_id;
  chain_.last_checkpoint_us = *row ? checkpoint->Int(1) : NowUs();
  chain_.last_checkpoint_id = *row ? checkpoint->Int(2) : 0;
  return Status::Ok();
}

Status SqliteStore::AppendAudit(AuditRecord r) {
  r.id = chain_.last_id + 1;
  if (r.at_us == 0) r.at_us = NowUs();
  r.prev_hash = chain_.last_hash;
  r.hash = AuditEntryHash(r);
  Statement& q = w_->insert_audit;
  q.Bind(1, r.id).Bind(2, r.at_us).Bind(3, r.event).Bind(4, r.outcome).Bind(5, r.actor);
  q.Bind(6, r.peer).Bind(7, r.tls_identity);
  if (r.source.empty()) {
    q.BindNull(8);
  } else {
    q.Bind(8, r.source);
  }
  if (r.message_id == 0) {
    q.BindNull(9);
  } else {
    q.Bind(9, r.message_id);
  }
  q.Bind(10, r.control_id).Bind(11, r.patient).Bind(12, r.detail).Bind(13, r.prev_hash);
  q.Bind(14, r.hash);
  FHIRBRIDGE_RETURN_IF_ERROR(q.Run());
  chain_.last_id = r.id;
  chain_.last_hash = std::move(r.hash);
  ++chain_.unsealed;
  return Status::Ok();
}

Status SqliteStore::Audit(std::int64_t at_us, std::string_view event, std::string_view source,
                          std::int64_t message_id, std::string_view detail) {
  AuditRecord r;
  r.at_us = at_us;
  r.event = std::string(event);
  r.actor = "fhirbridge";
  r.source = std::string(source);
  r.message_id = message_id;
  r.detail = std::string(detail);
  return AppendAudit(std::move(r));
}

Status SqliteStore::SealChain(std::int64_t now_us) {
  const AuditKey* key = options_.audit_key.get();
  const bool checkpoint_due =
      chain_.unsealed >= options_.audit_checkpoint_every ||
      now_us - chain_.last_checkpoint_us >=
          std::chrono::duration_cast<std::chrono::microseconds>(options_.audit_checkpoint_interval)
              .count();
  if (key != nullptr && chain_.unsealed > 0 && checkpoint_due) {
    // The checkpoint's row id is signed too, so a signature cannot be moved to another row.
    AuditSeal checkpoint{
        chain_.last_checkpoint_id + 1, chain_.last_id, chain_.last_hash, now_us, "", "", ""};
    FHIRBRIDGE_RETURN_IF_ERROR(key->Sign(checkpoint, kCheckpointKind));
    Statement& q = w_->insert_checkpoint;
    q.Bind(1, checkpoint.id).Bind(2, checkpoint.entry_id).Bind(3, checkpoint.entry_hash);
    q.Bind(4, now_us).Bind(5, checkpoint.key_id).Bind(6, checkpoint.alg);
    q.Bind(7, checkpoint.signature);
    FHIRBRIDGE_RETURN_IF_ERROR(q.Run());
    chain_.last_checkpoint_id = checkpoint.id;
    chain_.unsealed = 0;
    chain_.last_checkpoint_us = now_us;
  }
  AuditSeal head{0, chain_.last_id, chain_.last_hash, now_us, "", "", ""};
  if (key != nullptr) FHIRBRIDGE_RETURN_IF_ERROR(key->Sign(head, kHeadKind));
  Statement& q = w_->put_head;
  q.Bind(1, head.entry_id).Bind(2, head.entry_hash).Bind(3, head.at_us).Bind(4, head.key_id);
  q.Bind(5, head.alg).Bind(6, head.signature);
  return q.Run();
}

Status SqliteStore::RecordAudit(AuditRecord record) {
  return Write([&] { return AppendAudit(std::move(record)); });
}

Result<std::vector<AuditRecord>> SqliteStore::ReadAudit(std::int64_t after_id, std::size_t limit) {
  std::lock_guard lock(reader_mutex_);
  Statement& q = r_->read_audit;
  q.Bind(1, after_id).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<AuditRecord> out;
  for (;;) {
    Result<bool> step = q.Step();
    if (!step.ok()) return step.status();
    if (!*step) break;
    out.push_back(ReadAuditRow(q));
  }
  q.Reset();
  return out;
}

Status SqliteStore::AuditMapping(const MappingRecord& r,
                                 const std::vector<std::string>& destinations,
                                 std::int64_t now_us) {
  AuditRecord mapped;
  mapped.at_us = now_us;
  mapped.event = "message.mapped";
  mapped.outcome = r.result == MappingRecord::Result::kFailed ? "failure" : "success";
  mapped.actor = "fhirbridge";
  mapped.message_id = r.message_id;
  mapped.patient = r.patient;
  Detail detail;
  detail.Str("result", MessageStatusName(MessageStatusCode(r.result)));
  detail.Int("resources", r.resource_count);
  if (r.result == MappingRecord::Result::kMapped) detail.List("destinations", destinations);
  mapped.detail = detail.Done();
  AuditRecord validated = mapped;
  FHIRBRIDGE_RETURN_IF_ERROR(AppendAudit(std::move(mapped)));
  validated.event = "message.validated";
  validated.outcome = r.error_count > 0 ? "failure" : "success";
  validated.detail = Detail().Int("errors", r.error_count).Int("warnings", r.warning_count).Done();
  FHIRBRIDGE_RETURN_IF_ERROR(AppendAudit(std::move(validated)));
  if (r.result != MappingRecord::Result::kFailed) return Status::Ok();
  AuditRecord dead;
  dead.at_us = now_us;
  dead.event = "message.dead_lettered";
  dead.outcome = "failure";
  dead.actor = "fhirbridge";
  dead.message_id = r.message_id;
  dead.patient = r.patient;
  dead.detail = Detail().Str("reason", "mapping failed").Done();
  return AppendAudit(std::move(dead));
}

// ---- retention ----

Result<PurgeReport> SqliteStore::PurgePayloads(std::int64_t cutoff_us, std::int64_t now_us) {
  PurgeReport report;
  FHIRBRIDGE_RETURN_IF_ERROR(Write([&]() -> Status {
    Statement& range = w_->purge_range;
    range.Bind(1, cutoff_us);
    Result<bool> row = range.Step();
    if (row.ok() && *row) {
      report.messages = range.Int(0);
      report.first_message_id = range.Int(1);
      report.last_message_id = range.Int(2);
    }
    range.Reset();
    if (!row.ok()) return row.status();
    Statement& messages = w_->purge_messages;
    messages.Bind(1, cutoff_us).Bind(2, now_us);
    FHIRBRIDGE_RETURN_IF_ERROR(messages.Run());
    if (report.messages > 0) {
      // Within the range purge_range found: a rowid range, not another pass over every message.
      Statement& raw = w_->purge_raw;
      raw.Bind(1, now_us).Bind(2, report.first_message_id).Bind(3, report.last_message_id);
      FHIRBRIDGE_RETURN_IF_ERROR(raw.Run());
    }
    Statement& rejected = w_->purge_rejected;
    rejected.Bind(1, cutoff_us).Bind(2, now_us);
    FHIRBRIDGE_RETURN_IF_ERROR(rejected.Run());
    report.rejected = writer_->Changes();
    if (report.messages == 0 && report.rejected == 0) return Status::Ok();
    std::string detail;
    JsonWriter w(detail);
    w.BeginObject();
    w.Key("messages");
    w.Int(report.messages);
    w.Key("first_message_id");
    w.Int(report.first_message_id);
    w.Key("last_message_id");
    w.Int(report.last_message_id);
    w.Key("rejected");
    w.Int(report.rejected);
    w.Key("received_before_us");
    w.Int(cutoff_us);
    w.EndObject();
    return Audit(now_us, "payload.purged", "", 0, detail);
  }));
  return report;
}

void SqliteStore::RetentionLoop() {
  NameThisThread("fb-retention");
  const std::int64_t period_us = options_.retention_days * 86'400'000'000LL;
  std::unique_lock lock(queue_mutex_);
  while (!closing_) {
    lock.unlock();
    const std::int64_t now = NowUs();
    Result<PurgeReport> purged = PurgePayloads(now - period_us, now);
    if (!purged.ok()) {
      Logger::Global().Error("store.retention_failed",
                             {LogField::Code("status", CodeName(purged.status().code()))});
    } else if (purged->messages > 0 || purged->rejected > 0) {
      Logger::Global().Info("store.payloads_purged",
                            {LogField::Count("messages", purged->messages),
                             LogField::Count("rejected", purged->rejected)});
    }
    lock.lock();
    checkpoint_cv_.wait_for(lock, options_.retention_interval, [&] { return closing_; });
  }
}

}  // namespace fhirbridge::store
