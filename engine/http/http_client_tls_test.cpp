// TLS with a custom CA and client certificates (mutual TLS), against a real TLS server:
// `openssl s_server -www` with certificates made by the openssl command for this test.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>

#include "engine/http/http_client.h"
#include "engine/testing/temp_dir.h"

extern char** environ;

namespace fhirbridge::http {
namespace {

// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA.
struct Certificates {
  Certificates() {
    const std::string d = dir.string();
    const std::string script =
        "cd '" + d +
        "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
        "-subj /CN=fhirbridge-test-ca && "
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "
        "/CN=127.0.0.1 && printf 'subjectAltName=IP:127.0.0.1\\n' > san.cnf && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out "
        "server.pem -days 2 -extfile san.cnf && "
        "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "
        "/CN=fhirbridge && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out client.pem -days 2) > '" +
        d + "/openssl.log' 2>&1";
    BOOST_REQUIRE_MESSAGE(
        std::system(("(" + script).c_str()) == 0,
        "openssl could not make the test certificates; see " + d + "/openssl.log");
  }
  std::string operator()(const char* name) const { return (dir / name).string(); }
  testing::TempDir temp{"fhirbridge-tls"};
  const std::filesystem::path& dir = temp.dir;
};

// `openssl s_server -www` on 127.0.0.1 (any free port); `verify_clients` requires a client
// certificate chaining to the CA.
class TlsServer {
 public:
  TlsServer(const Certificates& certs, bool verify_clients) {
    // Under `timeout`, so that a server outlives a crashed test by two minutes at most.
    std::vector<std::string> args = {
        "timeout",          "120",         "openssl", "s_server",          "-www",
        "-accept",          "127.0.0.1:0", "-cert",   certs("server.pem"), "-key",
        certs("server.key")};
    if (verify_clients) args.insert(args.end(), {"-Verify", "1", "-CAfile", certs("ca.pem")});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    BOOST_REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);  // handshake noise
    const int rc = ::posix_spawnp(&pid_, "timeout", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    fd_ = out[0];
    if (rc != 0) pid_ = 0;
    port_ = ReadPort();
    if (port_ <= 0) Stop();  // a failed check below ends the test without the destructor
    BOOST_REQUIRE_MESSAGE(port_ > 0, "openssl s_server did not start");
  }
  ~TlsServer() { Stop(); }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  // "ACCEPT 127.0.0.1:<port>" on stdout; 0 when it does not come within 10 s.
  int ReadPort() {
    std::string text;
    // Other lines come first ("Using default temp DH parameters").
    while (pid_ > 0 && (text.find("ACCEPT ") == std::string::npos ||
                        text.find('\n', text.find("ACCEPT ")) == std::string::npos)) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) != 1) return 0;
      char buffer[128];
      const ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n <= 0) return 0;
      text.append(buffer, static_cast<std::size_t>(n));
    }
    const std::size_t accept = text.find("ACCEPT ");
    return accept == std::string::npos ? 0 : std::atoi(text.c_str() + text.rfind(':') + 1);
  }
  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);  // timeout passes it on to openssl
      ::waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  pid_t pid_ = 0;
  int fd_ = -1;
  int port_ = 0;
};

Result<HttpResponse> Get(HttpClientOptions options, const std::string& url) {
  auto client = HttpClient::Create(std::move(options));
  BOOST_REQUIRE_MESSAGE(client.ok(), client.status().ToString());
  HttpRequest request;
  request.url = url;
  return (*client)->Perform(request);
}

BOOST_AUTO_TEST_SUITE(http_client_tls)

BOOST_AUTO_TEST_CASE(trusts_a_server_through_the_configured_ca_only) {
  Certificates certs;
  TlsServer server(certs, false);
  HttpClientOptions with_ca;
  with_ca.ca_file = certs("ca.pem");
  Result<HttpResponse> ok = Get(with_ca, server.url());
  BOOST_REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  BOOST_TEST(ok->status == 200);
  // The system store does not know the test CA.
  Result<HttpResponse> refused = Get({}, server.url());
  BOOST_TEST(refused.status().IsUnavailable());
  BOOST_TEST(refused.status().message() == "TLS: server certificate not trusted");
}

BOOST_AUTO_TEST_CASE(presents_a_client_certificate_for_mutual_tls) {
  Certificates certs;
  TlsServer server(certs, true);
  HttpClientOptions without_cert;
  without_cert.ca_file = certs("ca.pem");
  BOOST_TEST(!Get(without_cert, server.url()).ok());
  HttpClientOptions with_cert = without_cert;
  with_cert.cert_file = certs("client.pem");
  with_cert.key_file = certs("client.key");
  Result<HttpResponse> ok = Get(with_cert, server.url());
  BOOST_REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  BOOST_TEST(ok->status == 200);
  HttpClientOptions cert_without_key = without_cert;
  cert_without_key.cert_file = certs("client.pem");
  BOOST_TEST(HttpClient::Create(cert_without_key).status().IsInvalidArgument());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::http
