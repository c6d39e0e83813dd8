// The MLLP listener: see server.h. Poco exceptions end in this file.

#include "connectors/mllp/server.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timespan.h>

#include "connectors/mllp/tls_context.h"
#include "fhirbridge/log.h"

namespace fhirbridge::mllp {
namespace {

using Clock = std::chrono::steady_clock;

Poco::Timespan ToTimespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

/// State shared by the server and its connections; connections hold it by shared_ptr so that
/// nothing they touch goes away under them.
struct ServerState {
  ServerState(MllpServerOptions o, FrameHandler& h) : options(std::move(o)), handler(h) {}

  const MllpServerOptions options;
  FrameHandler& handler;
  std::atomic<bool> stopping{false};
  std::atomic<Clock::rep> drain_deadline{0};

  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::uint64_t> connections{0}, idle_timeouts{0}, tls_handshake_failures{0},
      io_errors{0}, bytes_received{0}, frames{0}, replies{0}, oversized_frames{0},
      abandoned_frames{0}, truncated_frames{0}, stray_bytes{0}, stray_byte_closes{0};
  std::atomic<std::int64_t> peak_connections{0};
  std::atomic<std::uint64_t> refused_before_stop{0};  ///< the TCPServer's count, kept at Stop()

  std::mutex mutex;
  std::condition_variable idle;         ///< notified when a connection ends
  std::map<std::uint64_t, int> active;  ///< connection id -> socket descriptor
};

/// Registers a connection for its lifetime (Stop() waits for, and may cut, what is here).
class ActiveConnection {
 public:
  ActiveConnection(ServerState& state, int fd) : state_(state), id_(state.next_id++) {
    std::lock_guard lock(state_.mutex);
    state_.active.emplace(id_, fd);
    const auto now = static_cast<std::int64_t>(state_.active.size());
    if (now > state_.peak_connections) state_.peak_connections = now;
    ++state_.connections;
  }
  ~ActiveConnection() {
    std::lock_guard lock(state_.mutex);
    state_.active.erase(id_);
    state_.idle.notify_all();
  }
  std::uint64_t id() const { return id_; }

 private:
  ServerState& state_;
  std::uint64_t id_;
};

/// One connection: read, decode, hand frames to the handler, write replies.
class MllpConnection : public Poco::Net::TCPServerConnection {
 public:
  MllpConnection(const Poco::Net::StreamSocket& socket, std::shared_ptr<ServerState> state)
      : Poco::Net::TCPServerConnection(socket), state_(std::move(state)) {}

  void run() override {
    ActiveConnection registration(*state_, socket().impl()->sockfd());
    info_.id = registration.id();
    try {
      info_.peer = socket().peerAddress().toString();
      if (state_->options.tls.enabled() && !Handshake()) return;
      Serve();
    } catch (const Poco::TimeoutException&) {
      ++state_->io_errors;  // a write that the peer did not take in time
    } catch (const Poco::Exception&) {
      ++state_->io_errors;
      Logger::Global().Debug("mllp.connection_error", {LogField::Id("connection", Id())});
    } catch (const std::exception&) {
      ++state_->io_errors;
    }
  }

 private:
  std::string Id() const { return std::to_string(info_.id); }

  bool Handshake() {
    const auto timeout = std::min(state_->options.handshake_timeout, state_->options.idle_timeout);
    try {
      Poco::Net::SecureStreamSocket secure(socket());
      secure.setReceiveTimeout(ToTimespan(timeout));
      secure.setSendTimeout(ToTimespan(timeout));
      secure.completeHandshake();
      if (secure.havePeerCertificate()) info_.tls_identity = secure.peerCertificate().subjectName();
      return true;
    } catch (const Poco::Exception&) {
      ++state_->tls_handshake_failures;
      Logger::Global().Info("mllp.tls_handshake_failed", {LogField::Id("connection", Id())});
      return false;
    }
  }

  /// Whether to leave the read loop because of Stop().
  bool StopNow(const MllpFrameDecoder& decoder) const {
    if (!state_->stopping) return false;
    if (!decoder.in_frame()) return true;
    return Clock::now().time_since_epoch().count() >= state_->drain_deadline;
  }

  void Serve() {
    const MllpServerOptions& o = state_->options;
    socket().setReceiveTimeout(ToTimespan(std::min(o.poll_interval, o.idle_timeout)));
    socket().setSendTimeout(ToTimespan(o.idle_timeout));
    MllpFrameDecoder decoder(o.limits);
    std::vector<MllpEvent> events;
    std::vector<char> buffer(64 * 1024);
    auto last_data = Clock::now();
    while (!StopNow(decoder)) {
      int n = 0;
      try {
        n = socket().receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
      } catch (const Poco::TimeoutException&) {
        if (Clock::now() - last_data >= o.idle_timeout) {
          ++state_->idle_timeouts;
          Logger::Global().Info("mllp.idle_timeout", {LogField::Id("connection", Id())});
          break;
        }
        continue;
      }
      if (n <= 0) break;  // the peer closed (or we were cut by Stop)
      last_data = Clock::now();
      state_->bytes_received += static_cast<std::uint64_t>(n);
      decoder.Feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), events);
      for (MllpEvent& event : events) Dispatch(event);
      events.clear();
      ReportStray(decoder);
      if (decoder.failed()) {
        ++state_->stray_byte_closes;
        Logger::Global().Warn("mllp.stray_bytes_limit", {LogField::Id("connection", Id())});
        break;
      }
    }
    if (decoder.in_frame()) ++state_->truncated_frames;
  }

  void ReportStray(const MllpFrameDecoder& decoder) {
    state_->stray_bytes += decoder.stray_bytes() - stray_reported_;
    stray_reported_ = decoder.stray_bytes();
  }

  void Dispatch(MllpEvent& event) {
    std::vector<std::string> replies;
    switch (event.kind) {
      case MllpEvent::Kind::kFrame:
        ++state_->frames;
        replies = state_->handler.OnFrame(std::move(event.content), info_);
        break;
      case MllpEvent::Kind::kOversizedFrame:
        ++state_->oversized_frames;
        replies = state_->handler.OnOversizedFrame(event.content, info_);
        break;
      case MllpEvent::Kind::kAbandonedFrame:
        ++state_->abandoned_frames;
        return;
      case MllpEvent::Kind::kTooManyStrayBytes:
        return;
    }
    for (const std::string& reply : replies) SendFrame(reply);
  }

  void SendFrame(std::string_view content) {
    std::string frame;
    frame.reserve(content.size() + 3);
    frame += kStartBlock;
    frame += content;
    frame += kEndBlock;
    frame += kCarriageReturn;
    std::size_t sent = 0;
    while (sent < frame.size()) {
      const int n = socket().sendBytes(frame.data() + sent, static_cast<int>(frame.size() - sent));
      if (n <= 0) throw Poco::Net::ConnectionResetException("short write");
      sent += static_cast<std::size_t>(n);
    }
    ++state_->replies;
  }

  std::shared_ptr<ServerState> state_;
  ConnectionInfo info_;
  std::uint64_t stray_reported_ = 0;
};

class ConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit ConnectionFactory(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new MllpConnection(socket, state_);
  }

 private:
  std::shared_ptr<ServerState> state_;
};

Status CheckOptions(const MllpServerOptions& o) {
  if (o.max_connections < 1) return Status::FailedPrecondition("max_connections must be >= 1");
  if (o.max_queued < 0) return Status::FailedPrecondition("max_queued must be >= 0");
  if (o.idle_timeout.count() <= 0 || o.poll_interval.count() <= 0) {
    return Status::FailedPrecondition("idle_timeout and poll_interval must be positive");
  }
  if (o.limits.max_frame_bytes == 0) return Status::FailedPrecondition("max_frame_bytes is 0");
  if (o.tls.enabled() && o.tls.key_file.empty()) {
    return Status::FailedPrecondition("tls.key is required with tls.cert");
  }
  return Status::Ok();
}

}  // namespace

struct MllpServer::Impl {
  Impl(MllpServerOptions options, FrameHandler& handler)
      : state(std::make_shared<ServerState>(std::move(options), handler)) {}

  Status Listen();
  void WaitForConnections(std::chrono::milliseconds timeout);

  std::shared_ptr<ServerState> state;
  std::optional<internal::SslLibrary> ssl;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::TCPServer> server;
  std::atomic<bool> running{false};
  std::atomic<std::uint16_t> port{0};
  bool started = false;
  mutable std::mutex server_mutex;  ///< `server` for stats() from other threads
};

Status MllpServer::Impl::Listen() {
  const MllpServerOptions& o = state->options;
  const int backlog = std::clamp(o.max_connections + o.max_queued, 64, 4096);
  try {
    const Poco::Net::SocketAddress address(o.host, o.port);
    Poco::Net::ServerSocket socket;
    if (o.tls.enabled()) {
      ssl.emplace();
      auto context = internal::MakeServerContext(o.tls);
      if (!context.ok()) return context.status();
      socket = Poco::Net::SecureServerSocket(*context);
    }
    // SO_REUSEADDR (restart while old connections linger) but not SO_REUSEPORT: a second
    // listener on the same port must fail, not share it.
    socket.bind(address, true, false);
    socket.listen(backlog);
    auto params = Poco::AutoPtr<Poco::Net::TCPServerParams>(new Poco::Net::TCPServerParams);
    params->setMaxThreads(o.max_connections);
    params->setMaxQueued(o.max_queued);
    params->setThreadIdleTime(Poco::Timespan(10, 0));
    // Our own pool: Poco's default pool has 16 threads, fewer than max_connections.
    pool = std::make_unique<Poco::ThreadPool>("mllp", 1, o.max_connections + 1, 60);
    server =
        std::make_unique<Poco::Net::TCPServer>(new ConnectionFactory(state), *pool, socket, params);
    server->start();
    return Status::Ok();
  } catch (const Poco::Exception& e) {
    return Status::Unavailable("mllp: cannot listen on " + o.host + ":" + std::to_string(o.port) +
                               ": " + e.displayText());
  }
}

void MllpServer::Impl::WaitForConnections(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state->mutex);
  state->idle.wait_for(lock, timeout, [&] { return state->active.empty(); });
}

MllpServer::MllpServer(MllpServerOptions options, FrameHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

MllpServer::~MllpServer() { Stop(); }

Status MllpServer::Start() {
  if (impl_->started) return Status::FailedPrecondition("mllp: the server was started before");
  impl_->started = true;
  FHIRBRIDGE_RETURN_IF_ERROR(CheckOptions(impl_->state->options));
  FHIRBRIDGE_RETURN_IF_ERROR(impl_->Listen());
  impl_->port = impl_->server->port();
  impl_->running = true;
  Logger::Global().Info("mllp.listening", {LogField::Count("port", port())});
  return Status::Ok();
}

std::uint16_t MllpServer::port() const { return impl_->port; }

bool MllpServer::running() const { return impl_->running; }

void MllpServer::Stop() {
  if (!impl_->server) return;
  ServerState& state = *impl_->state;
  const auto drain = state.options.drain_timeout;
  state.drain_deadline = (Clock::now() + drain).time_since_epoch().count();
  state.stopping = true;
  impl_->running = false;
  impl_->server->stop();  // no new connections; queued ones are dropped
  impl_->WaitForConnections(drain + state.options.poll_interval);
  {
    // Past the drain time: cut what is left. shutdown() on the descriptor wakes a blocked
    // read; the connection's thread then closes its socket itself.
    std::lock_guard lock(state.mutex);
    for (const auto& [id, fd] : state.active) ::shutdown(fd, SHUT_RDWR);
  }
  // Handler calls in progress (a commit) are let finish.
  while (true) {
    std::unique_lock lock(state.mutex);
    if (state.idle.wait_for(lock, std::chrono::seconds(1), [&] { return state.active.empty(); })) {
      break;
    }
  }
  {
    std::lock_guard lock(impl_->server_mutex);
    state.refused_before_stop = static_cast<std::uint64_t>(impl_->server->refusedConnections());
    impl_->server.reset();
  }
  impl_->pool->joinAll();
  impl_->pool.reset();
  impl_->ssl.reset();
  Logger::Global().Info("mllp.stopped", {LogField::Count("connections", state.connections)});
}

MllpServerStats MllpServer::stats() const {
  const ServerState& s = *impl_->state;
  MllpServerStats out;
  out.connections = s.connections;
  {
    std::lock_guard lock(impl_->server_mutex);
    out.refused_connections = impl_->server
                                  ? static_cast<std::uint64_t>(impl_->server->refusedConnections())
                                  : s.refused_before_stop.load();
  }
  {
    std::lock_guard lock(impl_->state->mutex);
    out.active_connections = static_cast<std::int64_t>(s.active.size());
  }
  out.peak_connections = s.peak_connections;
  out.idle_timeouts = s.idle_timeouts;
  out.tls_handshake_failures = s.tls_handshake_failures;
  out.io_errors = s.io_errors;
  out.bytes_received = s.bytes_received;
  out.frames = s.frames;
  out.replies = s.replies;
  out.oversized_frames = s.oversized_frames;
  out.abandoned_frames = s.abandoned_frames;
  out.truncated_frames = s.truncated_frames;
  out.stray_bytes = s.stray_bytes;
  out.stray_byte_closes = s.stray_byte_closes;
  return out;
}

}  // namespace fhirbridge::mllp
