#include "conformance/testing/fhir_server_process.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <sstream>
#include <thread>

extern char** environ;

namespace fhirbridge::testing {

namespace {

// Set by conformance/CMakeLists.txt for the library.
constexpr const char* kNode = FHIRBRIDGE_NODE;
constexpr const char* kServerDir = FHIRBRIDGE_FHIR_SERVER_DIR;

// Reads the child's stdout until "LISTENING <port>\n", the deadline, or the end of the stream.
Result<std::uint16_t> ReadPort(int fd, pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string text;
  while (true) {
    const std::size_t nl = text.find('\n');
    if (nl != std::string::npos) {
      const std::string line = text.substr(0, nl);
      if (line.rfind("LISTENING ", 0) == 0) {
        const int port = std::atoi(line.c_str() + 10);
        if (port > 0 && port < 65536) return static_cast<std::uint16_t>(port);
      }
      text.erase(0, nl + 1);  // another line: the server prints nothing else, but be tolerant
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status::DeadlineExceeded("the FHIR server printed no LISTENING line within " +
                                      std::to_string(timeout.count()) + " s");
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buffer[256];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      return Status::Unavailable("the FHIR server exited before listening (status " +
                                 std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                                 "); its stderr above says why");
    }
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > 65536) return Status::Internal("the FHIR server printed too much");
  }
}

std::string PercentEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '|' || c == ':' ||
        c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string FhirServerProblem() {
  if (std::string(kNode).empty() || !std::filesystem::exists(kNode)) {
    return "node was not found (Node 20.19+ or 22.12+): install it, run npm ci in "
           "conformance/fhir-server, then re-run cmake";
  }
  if (!std::filesystem::is_directory(std::string(kServerDir) + "/node_modules")) {
    return std::string(kServerDir) + "/node_modules is missing: run npm ci there";
  }
  return "";
}

Result<std::unique_ptr<FhirServerProcess>> FhirServerProcess::Start(
    const std::vector<std::string>& extra_args, std::chrono::seconds startup_timeout) {
  if (std::string problem = FhirServerProblem(); !problem.empty()) {
    return Status::FailedPrecondition(problem);
  }
  std::vector<std::string> args = {kNode,
                                   std::string(kServerDir) + "/server.mjs",
                                   "--port",
                                   "0",
                                   "--stop-on-stdin-eof",
                                   "--max-seconds",
                                   "600"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Status::Unavailable("pipe failed");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return Status::Unavailable("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, kNode, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    return Status::Unavailable(std::string("cannot start node: ") + std::strerror(rc));
  }
  std::unique_ptr<FhirServerProcess> server(new FhirServerProcess(pid, in[1], out[0]));
  Result<std::uint16_t> port = ReadPort(out[0], pid, startup_timeout);
  if (!port.ok()) return port.status();
  server->port_ = *port;
  return server;
}

FhirServerProcess::~FhirServerProcess() { Stop(); }

void FhirServerProcess::Stop() {
  if (pid_ <= 0) return;
  ::close(stdin_fd_);
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::close(stdout_fd_);
  pid_ = -1;
}

std::string FhirServerProcess::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

Result<ServerAnswer> FhirServerProcess::Send(const std::string& method, const std::string& path,
                                             const std::string& body,
                                             const std::string& content_type) const {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", port_);
    session.setTimeout(Poco::Timespan(60, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!body.empty() || method == "POST") {
      request.setContentType(content_type);
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    ServerAnswer answer;
    answer.status = static_cast<int>(response.getStatus());
    answer.retry_after = response.get("Retry-After", "");
    std::ostringstream text;
    Poco::StreamCopier::copyStream(in, text);
    answer.body = text.str();
    return answer;
  } catch (const Poco::Exception& e) {
    return Status::Unavailable(method + " " + path + ": " + e.displayText());
  }
}

Result<ServerAnswer> FhirServerProcess::Get(const std::string& path) const {
  return Send("GET", path, "", "");
}
Result<ServerAnswer> FhirServerProcess::Post(const std::string& path, const std::string& body,
                                             const std::string& content_type) const {
  return Send("POST", path, body, content_type);
}
Result<ServerAnswer> FhirServerProcess::Delete(const std::string& path) const {
  return Send("DELETE", path, "", "");
}

Result<int> FhirServerProcess::CountByIdentifier(const std::string& type, const std::string& system,
                                                 const std::string& value) const {
  Result<ServerAnswer> answer =
      Get("/" + type + "?identifier=" + PercentEncode(system + "|" + value));
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) {
    return Status::Unavailable("identifier search answered HTTP " + std::to_string(answer->status));
  }
  // A searchset with "total": n (the server's index answers exactly).
  const std::size_t at = answer->body.find("\"total\":");
  if (at == std::string::npos) return Status::Unavailable("identifier search: no total");
  return std::atoi(answer->body.c_str() + at + 8);
}

}  // namespace fhirbridge::testing
