#include "engine/audit/atna_forwarder.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fhirbridge/file_sync.h"
#include "fhirbridge/log.h"
#include "fhirbridge/thread_name.h"

namespace fhirbridge::audit {

namespace {

constexpr std::string_view kPositionMagic = "fhirbridge-atna-position 1";
// While disconnected, at most this many entries are read per attempt to count the backlog.
constexpr std::size_t kReadAheadPage = 1000;
constexpr int kReadAheadPages = 20;

}  // namespace

Result<std::int64_t> ReadPosition(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::int64_t{0};
    return Status::Unavailable("cannot read " + path);
  }
  std::string magic;
  std::string number;
  std::getline(in, magic);
  std::getline(in, number);
  std::int64_t id = -1;
  if (magic == kPositionMagic && !number.empty() && number.size() <= 19 &&
      number.find_first_not_of("0123456789") == std::string::npos) {
    id = std::stoll(number);
  }
  if (id < 0) return Status::DataLoss(path + " is not an ATNA position file");
  return id;
}

Status WritePosition(const std::string& path, std::int64_t id) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << kPositionMagic << "\n" << id << "\n";
    out.flush();
    if (!out) return Status::Unavailable("cannot write " + temporary);
  }
  FHIRBRIDGE_RETURN_IF_ERROR(SyncPath(temporary));
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return Status::Unavailable("cannot rename " + temporary + ": " + std::strerror(errno));
  }
  return SyncFolderOf(path);
}

Result<std::unique_ptr<AtnaForwarder>> AtnaForwarder::Create(AtnaForwarderOptions options,
                                                             AuditReader reader) {
  Result<std::unique_ptr<SyslogTlsClient>> client = SyslogTlsClient::Create(options.tls);
  if (!client.ok()) return client.status();
  Result<std::int64_t> confirmed = ReadPosition(options.position_file);
  if (!confirmed.ok()) return confirmed.status();
  return std::unique_ptr<AtnaForwarder>(new AtnaForwarder(std::move(options), std::move(reader),
                                                          std::move(client).value(), *confirmed));
}

AtnaForwarder::AtnaForwarder(AtnaForwarderOptions options, AuditReader reader,
                             std::unique_ptr<SyslogTlsClient> client, std::int64_t confirmed)
    : options_(std::move(options)), reader_(std::move(reader)), client_(std::move(client)) {
  stats_.confirmed_id = confirmed;
  stats_.newest_id = confirmed;
}

AtnaForwarder::~AtnaForwarder() { Stop(); }

void AtnaForwarder::Start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void AtnaForwarder::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AtnaForwarder::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

AtnaForwarderStats AtnaForwarder::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void AtnaForwarder::Wait(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
  woken_ = false;
}

void AtnaForwarder::Run() {
  NameThisThread("fb-atna");
  std::unique_ptr<SyslogTlsConnection> connection;
  std::chrono::milliseconds backoff = options_.min_backoff;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    const std::chrono::milliseconds wait = Step(connection, backoff);
    if (wait.count() > 0) Wait(wait);
  }
  connection.reset();
  std::lock_guard lock(mutex_);
  stats_.connected = false;
}

std::chrono::milliseconds AtnaForwarder::Step(std::unique_ptr<SyslogTlsConnection>& connection,
                                              std::chrono::milliseconds& backoff) {
  const auto disconnect = [&] {
    connection.reset();
    std::lock_guard lock(mutex_);
    stats_.connected = false;
  };
  if (connection != nullptr && connection->PeerGone(std::chrono::milliseconds(0))) {
    Logger::Global().Warn("audit.syslog.disconnected");
    disconnect();
  }
  if (connection == nullptr) {
    Result<std::unique_ptr<SyslogTlsConnection>> made = client_->Connect();
    if (!made.ok()) {
      Logger::Global().Warn("audit.syslog.unavailable",
                            {LogField::Code("status", CodeName(made.status().code())),
                             LogField::Duration("retry_in", backoff)});
      {
        std::lock_guard lock(mutex_);
        ++stats_.connection_failures;
      }
      ReadAhead();
      const std::chrono::milliseconds wait = backoff;
      backoff = std::min(backoff * 2, options_.max_backoff);
      return wait;
    }
    connection = std::move(made).value();
    std::lock_guard lock(mutex_);
    stats_.connected = true;
    Logger::Global().Info("audit.syslog.connected",
                          {LogField::Id("after_id", std::to_string(stats_.confirmed_id))});
  }
  std::int64_t after = 0;
  {
    std::lock_guard lock(mutex_);
    after = stats_.confirmed_id;
  }
  Result<std::vector<AuditRecord>> batch = reader_(after, options_.batch);
  if (!batch.ok()) {
    Logger::Global().Error("audit.syslog.read_failed",
                           {LogField::Code("status", CodeName(batch.status().code()))});
    return options_.poll_interval;
  }
  if (batch->empty()) return options_.poll_interval;
  {
    std::lock_guard lock(mutex_);
    stats_.newest_id = std::max(stats_.newest_id, batch->back().id);
  }
  // Written, then confirmed by a connection that stayed up; else all of it goes again.
  if (Status sent = SendBatch(*connection, *batch);
      !sent.ok() || connection->PeerGone(options_.confirm_wait)) {
    Logger::Global().Warn(
        "audit.syslog.disconnected",
        {LogField::Count("unconfirmed", static_cast<std::int64_t>(batch->size()))});
    disconnect();
    // A collector that takes the connection and then drops it (e.g. it refuses our
    // certificate) must not be hammered either: the wait grows until a batch is confirmed.
    const std::chrono::milliseconds wait = backoff;
    backoff = std::min(backoff * 2, options_.max_backoff);
    return wait;
  }
  Confirm(batch->back().id);
  backoff = options_.min_backoff;
  return batch->size() < options_.batch ? options_.poll_interval : std::chrono::milliseconds(0);
}

Status AtnaForwarder::SendBatch(SyslogTlsConnection& connection,
                                const std::vector<AuditRecord>& batch) {
  std::string frames;
  for (const AuditRecord& record : batch) {
    frames += FrameOctetCounted(
        FormatSyslogMessage(record, RenderAuditEvent(record, options_.event), options_.header));
  }
  Status sent = connection.Send(frames);
  std::lock_guard lock(mutex_);
  if (sent.ok()) stats_.sent += static_cast<std::int64_t>(batch.size());
  return sent;
}

void AtnaForwarder::Confirm(std::int64_t id) {
  if (Status written = WritePosition(options_.position_file, id); !written.ok()) {
    // The collector has the entries; only the bookmark is behind, so a restart sends them again.
    Logger::Global().Error("audit.syslog.position_write_failed",
                           {LogField::Code("status", CodeName(written.code()))});
  }
  std::lock_guard lock(mutex_);
  stats_.confirmed_id = id;
}

void AtnaForwarder::ReadAhead() {
  std::int64_t after = 0;
  {
    std::lock_guard lock(mutex_);
    after = stats_.newest_id;
  }
  for (int page = 0; page < kReadAheadPages; ++page) {
    Result<std::vector<AuditRecord>> more = reader_(after, kReadAheadPage);
    if (!more.ok() || more->empty()) break;
    after = more->back().id;
    if (more->size() < kReadAheadPage) break;
  }
  std::lock_guard lock(mutex_);
  stats_.newest_id = std::max(stats_.newest_id, after);
}

}  // namespace fhirbridge::audit
