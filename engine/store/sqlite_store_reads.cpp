// SqliteStore's reads: on their own connection, so they never wait for the writer (WAL).

#include "engine/store/sqlite_store.h"
#include "engine/store/statements.h"

namespace fhirbridge::store {

namespace {

// Runs `q` (already bound) to completion, calling `row` for each row; resets it in any case.
template <typename RowFn>
Status ForEachRow(Statement& q, RowFn row) {
  for (;;) {
    Result<bool> step = q.Step();
    if (!step.ok()) return step.status();
    if (!*step) break;
    row(q);
  }
  q.Reset();
  return Status::Ok();
}

}  // namespace

Result<std::string> SqliteStore::SealPayload(std::string_view plain, std::string_view aad) const {
  if (!options_.cipher) return std::string(plain);
  return options_.cipher->Seal(plain, aad);
}

Result<std::string> SqliteStore::OpenPayload(std::string_view stored, std::string_view aad) const {
  if (!PayloadCipher::IsSealed(stored)) return std::string(stored);  // from before encryption
  if (!options_.cipher) {
    return Status::FailedPrecondition("an encrypted payload, and no store.encryption_key_file");
  }
  return options_.cipher->Open(stored, aad);
}

Result<std::vector<StoredMessage>> SqliteStore::PendingMappings(std::size_t limit) {
  std::lock_guard lock(reader_mutex_);
  Statement& q = r_->pending_mappings;
  q.Bind(1, static_cast<std::int64_t>(limit));
  std::vector<StoredMessage> out;
  Status opened = Status::Ok();
  FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(q, [&](Statement& s) {
    Result<std::string> raw = OpenPayload(s.View(5), "messages.raw|" + HexOf(s.View(6)));
    if (!raw.ok()) {
      if (opened.ok()) opened = raw.status().WithContext("message " + std::to_string(s.Int(0)));
      return;
    }
    out.push_back({s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), std::move(raw).value()});
  }));
  if (!opened.ok()) return opened;
  return out;
}

Result<StoredMessage> SqliteStore::GetMessage(std::int64_t id) {
  std::lock_guard lock(reader_mutex_);
  Statement& q = r_->get_message;
  q.Bind(1, id);
  Result<bool> row = q.Step();
  if (!row.ok() || !*row) {
    q.Reset();
    if (!row.ok()) return row.status();
    return Status::NotFound("no stored message with id " + std::to_string(id));
  }
  if (!q.IsNull(7)) {
    q.Reset();
    return Status::FailedPrecondition("message " + std::to_string(id) +
                                      ": its payload was purged by retention");
  }
  Result<std::string> raw = OpenPayload(q.View(5), "messages.raw|" + HexOf(q.View(6)));
  StoredMessage out;
  if (raw.ok()) out = {q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Int(4), std::move(raw).value()};
  q.Reset();
  if (!raw.ok()) return raw.status().WithContext("message " + std::to_string(id));
  return out;
}

Result<std::vector<OutboxItem>> SqliteStore::PendingDeliveries(std::string_view destination,
                                                               std::int64_t after_id,
                                                               std::size_t limit) {
  std::lock_guard lock(reader_mutex_);
  Statement& q = r_->pending_deliveries;
  q.Bind(1, destination).Bind(2, after_id).Bind(3, static_cast<std::int64_t>(limit));
  std::vector<OutboxItem> out;
  Status opened = Status::Ok();
  FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(q, [&](Statement& s) {
    Result<std::string> bundle =
        OpenPayload(s.View(3), "messages.bundle|" + std::to_string(s.Int(1)));
    if (!bundle.ok()) {
      if (opened.ok()) opened = bundle.status().WithContext("message " + std::to_string(s.Int(1)));
      return;
    }
    out.push_back({s.Int(0), s.Int(1), s.Text(2), std::move(bundle).value(), s.Int(4), s.Int(5),
                   s.Int(6), s.IsNull(7) ? std::string() : std::string(s.View(7))});
  }));
  if (!opened.ok()) return opened;
  return out;
}

Result<std::string> SqliteStore::SinkState(std::string_view destination, std::string_view key) {
  std::lock_guard lock(reader_mutex_);
  Statement& q = r_->get_sink_state;
  q.Bind(1, destination).Bind(2, key);
  std::string value;
  FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(q, [&](Statement& s) { value = s.Text(0); }));
  return value;
}

Result<QueueStats> SqliteStore::Queue(std::string_view destination) {
  std::lock_guard lock(reader_mutex_);
  QueueStats stats;
  Statement& pending = r_->queue_pending;
  pending.Bind(1, destination);
  FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(pending, [&](Statement& s) {
    stats.pending = s.Int(0);
    stats.oldest_pending_created_us = s.Int(1);
  }));
  Statement& dead = r_->queue_dead;
  dead.Bind(1, destination);
  FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(dead, [&](Statement& s) { stats.dead = s.Int(0); }));
  return stats;
}

Result<MappingBacklog> SqliteStore::Unmapped() {
  std::lock_guard lock(reader_mutex_);
  MappingBacklog backlog;
  FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(r_->unmapped, [&](Statement& s) {
    backlog.messages = s.Int(0);
    backlog.oldest_received_us = s.Int(1);
  }));
  return backlog;
}

Result<std::vector<MessageSummary>> SqliteStore::ListMessages(std::string_view status,
                                                              std::int64_t before_id,
                                                              std::size_t limit) {
  Result<std::int64_t> code = MessageStatusFromName(status);
  if (!code.ok()) return code.status();
  std::lock_guard lock(reader_mutex_);
  Statement& q = r_->list_messages;
  q.Bind(1, *code).Bind(2, *code).Bind(3, before_id).Bind(4, before_id);
  q.Bind(5, static_cast<std::int64_t>(limit));
  std::vector<MessageSummary> out;
  FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(q, [&](Statement& s) {
    out.push_back({s.Int(0), s.Text(1), s.Text(2), std::string(MessageStatusName(s.Int(3))),
                   s.Int(4), s.Int(5)});
  }));
  return out;
}

namespace {

DeadLetterSummary ReadDeadLetterSummary(Statement& s) {
  DeadLetterSummary d;
  d.id = s.Int(0);
  d.message_id = s.Int(1);
  d.source = s.Text(2);
  d.control_id = s.Text(3);
  d.destination = s.Text(4);
  d.created_at_us = s.Int(5);
  d.reason = s.Text(6);
  d.http_status = static_cast<int>(s.Int(7));
  d.status = std::string(DeadLetterStatusName(s.Int(8)));
  d.resolved_at_us = s.Int(9);
  d.resolved_by = s.Text(10);
  return d;
}

}  // namespace

Result<std::vector<DeadLetterSummary>> SqliteStore::ListDeadLetters(std::string_view status,
                                                                    std::int64_t before_id,
                                                                    std::size_t limit) {
  Result<std::int64_t> code = DeadLetterStatusFromName(status);
  if (!code.ok()) return code.status();
  std::lock_guard lock(reader_mutex_);
  Statement& q = r_->list_dead_letters;
  q.Bind(1, *code).Bind(2, before_id).Bind(3, static_cast<std::int64_t>(limit));
  std::vector<DeadLetterSummary> out;
  FHIRBRIDGE_RETURN_IF_ERROR(
      ForEachRow(q, [&](Statement& s) { out.push_back(ReadDeadLetterSummary(s)); }));
  return out;
}

Result<DeadLetterDetail> SqliteStore::GetDeadLetter(std::int64_t id) {
  std::lock_guard lock(reader_mutex_);
  Statement& q = r_->get_dead_letter;
  q.Bind(1, id);
  std::optional<DeadLetterDetail> found;
  FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(q, [&](Statement& s) {
    found = DeadLetterDetail{ReadDeadLetterSummary(s), s.Text(11)};
  }));
  if (!found) return Status::NotFound("no dead letter with id " + std::to_string(id));
  return *std::move(found);
}

}  // namespace fhirbridge::store
