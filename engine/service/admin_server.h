#pragma once

// The admin HTTP API (Poco HTTPServer): /healthz, /readyz, /metrics, /api/messages,
// /api/deadletters (list, show, reprocess, discard).
// Loopback by default; when a token is configured every path but /healthz needs
// `Authorization: Bearer <token>`. Responses carry ids, states, counts and times, never PHI.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fhirbridge/result.h"
#include "fhirbridge/store.h"

namespace fhirbridge::service {

/// What the admin API reads from the running service.
class AdminBackend {
 public:
  virtual ~AdminBackend() = default;
  /// Prometheus text exposition.
  virtual std::string RenderMetrics() = 0;
  /// Empty when ready; otherwise one line per problem ("store: not writable: …").
  virtual std::vector<std::string> ReadinessProblems() = 0;
  virtual Result<std::vector<MessageSummary>> ListMessages(std::string_view status,
                                                           std::int64_t before_id,
                                                           std::size_t limit) = 0;
  virtual Result<std::vector<DeadLetterSummary>> ListDeadLetters(std::string_view status,
                                                                 std::int64_t before_id,
                                                                 std::size_t limit) = 0;
  virtual Result<DeadLetterDetail> GetDeadLetter(std::int64_t id) = 0;
  virtual Status ReprocessDeadLetter(std::int64_t id, std::string_view actor) = 0;
  virtual Status DiscardDeadLetter(std::int64_t id, std::string_view actor) = 0;
  /// Records who read or changed what through the API (issue 5: admin actions are audited).
  /// `what` names the action (admin.read, deadletter.read, ...), `target` the resource path.
  virtual void AuditAccess(std::string_view what, std::string_view actor, std::string_view peer,
                           std::string_view target) = 0;
};

struct AdminOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  ///< 0 = any free port (tests)
  std::string token;          ///< bearer token; empty = none required (loopback only)
  int max_threads = 4;
};

class AdminServer {
 public:
  AdminServer(AdminOptions options, AdminBackend& backend);
  ~AdminServer();

  /// Binds and starts serving. Refuses a non-loopback address without a token.
  Status Start();
  void Stop();
  std::uint16_t port() const { return port_; }

 private:
  struct Impl;
  AdminOptions options_;
  AdminBackend& backend_;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace fhirbridge::service
