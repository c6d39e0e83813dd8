#pragma once

// Starts the test FHIR server (conformance/fhir-server/server.mjs: Medplum's FHIR router over an
// in-memory repository) as a child process on 127.0.0.1 for a test, and talks to its control
// endpoints. The server stops when this object goes (SIGTERM, then SIGKILL), and by itself when
// the test process dies (--stop-on-stdin-eof) or after --max-seconds.
//
// When node or conformance/fhir-server/node_modules is missing, Start fails with a message that
// says how to install them: the tests that need the server then fail, they are never skipped.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fhirbridge/result.h"

namespace fhirbridge::testing {

struct ServerAnswer {
  int status = 0;
  std::string body;
  std::string retry_after;  ///< the Retry-After header, "" when none
};

class FhirServerProcess {
 public:
  /// Runs `node server.mjs --port 0 --stop-on-stdin-eof --max-seconds 600 <extra_args…>` (later
  /// arguments override earlier ones, e.g. {"--max-seconds", "60"}) and waits for its
  /// "LISTENING <port>" line.
  static Result<std::unique_ptr<FhirServerProcess>> Start(
      const std::vector<std::string>& extra_args = {},
      std::chrono::seconds startup_timeout = std::chrono::seconds(60));
  ~FhirServerProcess();
  FhirServerProcess(const FhirServerProcess&) = delete;
  FhirServerProcess& operator=(const FhirServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::string base_url() const;  ///< "http://127.0.0.1:<port>"
  pid_t pid() const { return pid_; }

  /// Requests to the server (`path` starts with '/': "/$stats", "/Observation?identifier=…").
  /// Errors only for transport problems; any HTTP status is an answer.
  Result<ServerAnswer> Get(const std::string& path) const;
  Result<ServerAnswer> Post(const std::string& path, const std::string& body,
                            const std::string& content_type = "application/json") const;
  Result<ServerAnswer> Delete(const std::string& path) const;

  /// How many `type` resources carry the identifier system|value (GET ?identifier=, answered
  /// from the server's index): the tests' "exactly once" check.
  Result<int> CountByIdentifier(const std::string& type, const std::string& system,
                                const std::string& value) const;

  /// Stops the server now (SIGTERM, SIGKILL after 5 s); idempotent.
  void Stop();

 private:
  FhirServerProcess(pid_t pid, int stdin_fd, int stdout_fd)
      : pid_(pid), stdin_fd_(stdin_fd), stdout_fd_(stdout_fd) {}
  Result<ServerAnswer> Send(const std::string& method, const std::string& path,
                            const std::string& body, const std::string& content_type) const;

  pid_t pid_;
  int stdin_fd_;
  int stdout_fd_;
  std::uint16_t port_ = 0;
};

/// "" when node and the server's node_modules are there; else what to install.
std::string FhirServerProblem();

}  // namespace fhirbridge::testing
