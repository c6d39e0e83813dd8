#pragma once

// What the end-to-end tests of `fhirbridge run` share: a scratch folder, the service as a child
// process (its log searched for the ports it bound), MLLP senders and small HTTP calls.

#include <Poco/Process.h>

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/testing/temp_dir.h"

namespace fhirbridge::app::e2e {

namespace fs = std::filesystem;

/// A fresh folder under the system temp folder, removed at the end.
struct TempDir : testing::TempDir {
  TempDir() : testing::TempDir("fhirbridge-run") {}
};

/// `fhirbridge run --config FILE` as a child process; its stderr (logfmt) is drained by a thread.
class ServiceProcess {
 public:
  explicit ServiceProcess(const std::string& config);
  ~ServiceProcess();

  /// Waits (bounded) for "event=<event> ... port=N" and returns N; fails the test otherwise.
  int PortOf(const std::string& event);
  /// Waits (bounded) for `text` in the log; false when it did not appear in time.
  bool WaitForLog(const std::string& text, std::chrono::milliseconds timeout);
  std::string log();
  void Kill();      ///< SIGKILL
  int Terminate();  ///< SIGINT, then the exit status

 private:
  std::unique_ptr<Poco::ProcessHandle> handle_;
  std::thread reader_;
  std::mutex mutex_;
  std::string log_;
  bool exited_ = false;
};

/// The lines of a text file (none when it does not exist).
std::vector<std::string> Lines(const fs::path& path);
/// MSA-1 of an ACK.
std::string AckCode(const std::string& ack);
/// Sends messages[i] for every i in `indices` over `connections` MLLP connections; returns the
/// indices answered AA. Stops a connection at its first transport error.
std::set<std::size_t> SendAll(int port, const std::vector<std::string>& messages,
                              const std::vector<std::size_t>& indices, int connections,
                              std::atomic<int>* acked_counter);
/// GET http://127.0.0.1:port/path; `status` gets the HTTP status.
std::string HttpGet(int port, const std::string& path, int& status);
/// POST with an empty body.
std::string HttpPost(int port, const std::string& path, int& status);
/// POST `body` as `content_type`; returns the status and the answer's body.
std::pair<int, std::string> HttpPostBody(int port, const std::string& path,
                                         const std::string& content_type, const std::string& body);
/// A whole file as bytes ("" when it cannot be read).
std::string ReadAll(const fs::path& path);
/// The Bundle `fhirbridge convert` makes of each PCD-01 message with the settings of the first
/// source of the configuration at `config_path`: what a destination must receive for it.
std::vector<std::string> ExpectedBundles(const std::string& config_path,
                                         const std::vector<std::string>& messages);
/// Runs FHIRBRIDGE_BINARY with `args`; returns its exit status, stdout into `out`.
int RunFhirbridge(const std::vector<std::string>& args, std::string& out);

}  // namespace fhirbridge::app::e2e
