#pragma once

// A TCP listener for IEEE 11073-20601 agents (20601 section 8.1: APDUs back to back on a
// reliable stream): Poco::Net::TCPServer, one thread per connection, each connection one
// AgentSession. The session decides every reply; this class only moves bytes and reads the
// clock for receive times.
//
// No acknowledgement before durability (ARCHITECTURE.md): each scan report goes to the
// ReportSink before the session's replies (the RORS of a confirmed report) are written. When the
// sink fails, the connection answers ABRT instead and closes: the agent keeps its stored
// measurements and sends them again on its next association.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "connectors/ieee11073/phd/agent_session.h"
#include "fhirbridge/status.h"

namespace fhirbridge::phd {

/// Takes one report (e.g. stores it). OK = durable; anything else makes the connection abort.
using ReportSink = std::function<Status(const MeasurementReport& report, const std::string& peer)>;

struct TcpServerOptions {
  std::string host = "127.0.0.1";  ///< address to bind
  std::uint16_t port = 0;          ///< TCP port; 0 picks a free one (see PhdTcpServer::port())
  int max_connections = 64;        ///< connections served at once (one thread each)
  /// A connection without a byte from the agent for this long is closed.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(120)};
  /// How often a waiting connection looks at Stop() (not a timeout).
  std::chrono::milliseconds poll_interval{std::chrono::milliseconds(100)};
  SessionOptions session;
  /// Give each report its timed APDU capture (MeasurementReport::capture): what `fhirbridge
  /// run` stores, so that the stored message maps alone (timed_capture.h).
  bool capture_apdus = false;
};

/// Counters since Start(); each field is read atomically.
struct TcpServerStats {
  std::uint64_t connections = 0;
  std::uint64_t apdus = 0;
  std::uint64_t reports = 0;
  std::uint64_t protocol_errors = 0;  ///< APDUs the session refused
  std::uint64_t sink_failures = 0;
};

class PhdTcpServer {
 public:
  /// `sink` is called from connection threads, possibly at the same time.
  PhdTcpServer(TcpServerOptions options, ReportSink sink);
  ~PhdTcpServer();  ///< Stop()s
  PhdTcpServer(const PhdTcpServer&) = delete;
  PhdTcpServer& operator=(const PhdTcpServer&) = delete;

  /// Binds and starts accepting; Unavailable when the address cannot be bound.
  Status Start();
  /// The bound port (after Start).
  std::uint16_t port() const;
  /// Stops accepting and waits for the connections to notice (within poll_interval).
  void Stop();
  TcpServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fhirbridge::phd
