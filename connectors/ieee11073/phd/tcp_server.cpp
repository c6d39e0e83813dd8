#include "connectors/ieee11073/phd/tcp_server.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/ThreadPool.h>

#include "connectors/ieee11073/phd/apdu_stream.h"
#include "connectors/ieee11073/phd/timed_capture.h"

namespace fhirbridge::phd {

namespace {

Poco::Timespan ToTimespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

std::int64_t NowUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// What every connection shares with the server.
struct SharedState {
  TcpServerOptions options;
  ReportSink sink;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> connections{0}, apdus{0}, reports{0}, protocol_errors{0},
      sink_failures{0};
  std::mutex mu;
  std::condition_variable idle;
  int active = 0;
};

class AgentConnection : public Poco::Net::TCPServerConnection {
 public:
  AgentConnection(const Poco::Net::StreamSocket& socket, std::shared_ptr<SharedState> state)
      : Poco::Net::TCPServerConnection(socket), state_(std::move(state)) {}

  void run() override {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      ++state_->active;
    }
    ++state_->connections;
    try {
      Serve();
    } catch (const Poco::Exception&) {
      // A reset or a failed write ends the connection; the agent re-associates.
    } catch (const std::exception&) {
    }
    std::lock_guard<std::mutex> lock(state_->mu);
    --state_->active;
    state_->idle.notify_all();
  }

 private:
  using Clock = std::chrono::steady_clock;

  void Serve() {
    const TcpServerOptions& o = state_->options;
    socket().setReceiveTimeout(ToTimespan(std::min(o.poll_interval, o.idle_timeout)));
    socket().setSendTimeout(ToTimespan(o.idle_timeout));
    const std::string peer = socket().peerAddress().toString();
    AgentSession session(o.session);
    ApduFramer framer(o.session.limits.max_apdu_bytes);
    auto last_data = Clock::now();
    std::uint8_t buffer[4096];
    while (!state_->stopping) {
      int n = 0;
      try {
        n = socket().receiveBytes(buffer, sizeof buffer);
      } catch (const Poco::TimeoutException&) {
        if (Clock::now() - last_data >= o.idle_timeout) return;
        continue;
      }
      if (n <= 0) return;  // the agent closed
      last_data = Clock::now();
      framer.Append({buffer, static_cast<std::size_t>(n)});
      if (!Drain(session, framer, peer)) return;
    }
  }

  // Hands every complete APDU to the session; false when the connection must close.
  bool Drain(AgentSession& session, ApduFramer& framer, const std::string& peer) {
    while (true) {
      Result<ApduFrame> frame = framer.Next();
      if (!frame.ok()) {
        if (frame.status().IsNotFound()) return true;
        // An APDU over the limit: the stream cannot be resynchronised (20601 8.4.2: abort).
        ++state_->protocol_errors;
        Send(EncodeAbrt(1));  // buffer-overflow
        return false;
      }
      ++state_->apdus;
      const std::int64_t received_at_us = NowUs();
      SessionStep step = session.Consume(AsBytes(frame->bytes), frame->offset, received_at_us);
      if (!step.problem.ok()) ++state_->protocol_errors;
      if (state_->options.capture_apdus) Capture(step, frame->bytes, received_at_us);
      for (const MeasurementReport& report : step.reports) {
        ++state_->reports;
        if (!state_->sink(report, peer).ok()) {
          ++state_->sink_failures;
          Send(EncodeAbrt(0));  // no RORS: the agent keeps the data and sends it again
          return false;
        }
      }
      for (const std::string& reply : step.replies) Send(reply);
    }
  }

  // Every APDU that is not a report joins the connection's context (association, configuration,
  // MDS attributes, releases: what a replay needs to reach the same state); each report gets
  // the context plus itself. The context is bounded: past the bound a report's capture stays
  // empty and mapping it fails visibly rather than with a wrong configuration.
  void Capture(SessionStep& step, const std::string& apdu, std::int64_t received_at_us) {
    const std::size_t bound = 16 * state_->options.session.limits.max_apdu_bytes;
    if (step.reports.empty()) {
      if (context_.size() + apdu.size() <= bound) {
        AppendTimedApdu(context_, received_at_us, apdu);
      } else {
        context_overflow_ = true;
      }
      return;
    }
    for (MeasurementReport& report : step.reports) {
      if (context_overflow_) continue;
      report.capture = context_;
      AppendTimedApdu(report.capture, received_at_us, apdu);
    }
  }

  void Send(const std::string& apdu) {
    std::size_t sent = 0;
    while (sent < apdu.size()) {
      const int n = socket().sendBytes(apdu.data() + sent, static_cast<int>(apdu.size() - sent));
      if (n <= 0) throw Poco::Net::ConnectionResetException("short write");
      sent += static_cast<std::size_t>(n);
    }
  }

  std::shared_ptr<SharedState> state_;
  std::string context_;  // timed capture of this connection's non-report APDUs
  bool context_overflow_ = false;
};

class ConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit ConnectionFactory(std::shared_ptr<SharedState> state) : state_(std::move(state)) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& s) override {
    return new AgentConnection(s, state_);
  }

 private:
  std::shared_ptr<SharedState> state_;
};

}  // namespace

struct PhdTcpServer::Impl {
  std::shared_ptr<SharedState> state = std::make_shared<SharedState>();
  std::unique_ptr<Poco::ThreadPool> pool;  // outlives `server`, which runs on it
  std::unique_ptr<Poco::Net::TCPServer> server;
  std::uint16_t port = 0;
};

PhdTcpServer::PhdTcpServer(TcpServerOptions options, ReportSink sink)
    : impl_(std::make_unique<Impl>()) {
  impl_->state->options = std::move(options);
  impl_->state->sink = std::move(sink);
}

PhdTcpServer::~PhdTcpServer() { Stop(); }

Status PhdTcpServer::Start() {
  const TcpServerOptions& o = impl_->state->options;
  if (o.idle_timeout.count() <= 0 || o.poll_interval.count() <= 0)
    return Status::FailedPrecondition("idle_timeout and poll_interval must be positive");
  try {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(o.host, o.port));
    auto params = Poco::AutoPtr<Poco::Net::TCPServerParams>(new Poco::Net::TCPServerParams);
    params->setMaxThreads(o.max_connections);
    params->setMaxQueued(o.max_connections);
    impl_->pool = std::make_unique<Poco::ThreadPool>("phd", 1, o.max_connections + 1, 60);
    impl_->server = std::make_unique<Poco::Net::TCPServer>(new ConnectionFactory(impl_->state),
                                                           *impl_->pool, socket, params);
    impl_->server->start();
    impl_->port = impl_->server->socket().address().port();
  } catch (const Poco::Exception& e) {
    return Status::Unavailable("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " +
                               e.displayText());
  }
  return Status::Ok();
}

std::uint16_t PhdTcpServer::port() const { return impl_->port; }

void PhdTcpServer::Stop() {
  if (!impl_->server) return;
  impl_->state->stopping = true;
  impl_->server->stop();
  std::unique_lock<std::mutex> lock(impl_->state->mu);
  impl_->state->idle.wait_for(lock, impl_->state->options.poll_interval * 20,
                              [&] { return impl_->state->active == 0; });
  lock.unlock();
  impl_->server.reset();
}

TcpServerStats PhdTcpServer::stats() const {
  const SharedState& s = *impl_->state;
  return {s.connections, s.apdus, s.reports, s.protocol_errors, s.sink_failures};
}

}  // namespace fhirbridge::phd
