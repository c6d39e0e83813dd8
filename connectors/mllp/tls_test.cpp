// TLS on the MLLP listener: TLS 1.2+ only, server certificate checked by the client, and with
// client_ca set, client certificates required and verified. Certificates are made per run.

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "connectors/mllp/hl7v2_handler.h"
#include "connectors/mllp/mllp_client.h"
#include "connectors/mllp/mllp_test_util.h"
#include "connectors/mllp/server.h"
#include "connectors/mllp/tls_test_util.h"

namespace fhirbridge::mllp {
namespace {

using namespace std::chrono_literals;
using testing::AckField;
using testing::Oru;
using testing::RecordingIntake;
using testing::TestPki;

const TestPki& Pki() {
  static const TestPki pki;
  return pki;
}

/// A TLS listener (mutual TLS when `mutual`) in front of a recording Intake.
struct TlsFixture {
  explicit TlsFixture(bool mutual) : handler({}, intake), server(Options(mutual), handler) {
    const Status started = server.Start();
    BOOST_REQUIRE_MESSAGE(started.ok(), started.ToString());
  }

  static MllpServerOptions Options(bool mutual) {
    MllpServerOptions o;
    o.port = 0;
    o.poll_interval = 50ms;
    o.drain_timeout = 500ms;
    o.tls.cert_file = Pki().server.cert_file;
    o.tls.key_file = Pki().server.key_file;
    if (mutual) o.tls.client_ca_file = Pki().ca.cert_file;
    return o;
  }

  MllpClientOptions Client(const testing::Credential* cert = nullptr) const {
    MllpClientOptions o;
    o.port = server.port();
    o.timeout = 5s;
    o.ca_file = Pki().ca.cert_file;
    if (cert != nullptr) {
      o.cert_file = cert->cert_file;
      o.key_file = cert->key_file;
    }
    return o;
  }

  /// True when a client with these options gets an AA for a message.
  bool Acknowledged(const MllpClientOptions& options, const std::string& id) {
    auto client = MllpClient::Connect(options);
    if (!client.ok()) return false;
    auto ack = (*client)->Exchange(Oru(id));
    return ack.ok() && AckField(*ack, 1, 1) == "AA";
  }

  RecordingIntake intake;
  Hl7v2MllpHandler handler;
  MllpServer server;
};

/// Whether a bare OpenSSL client limited to protocol versions [min, max] completes a
/// handshake; it offers every cipher (security level 0) so that only the version decides.
bool RawHandshake(std::uint16_t port, int min_version, int max_version) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(ctx, min_version);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    ok =
        SSL_connect(ssl) == 1 && SSL_version(ssl) >= min_version && SSL_version(ssl) <= max_version;
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return ok;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mllp_tls)

BOOST_AUTO_TEST_CASE(messages_are_acknowledged_over_tls) {
  TlsFixture f(false);
  BOOST_TEST(f.Acknowledged(f.Client(), "T1"));
  const auto stored = f.intake.accepted();
  BOOST_REQUIRE(stored.size() == 1u);
  BOOST_TEST(stored[0].tls_identity == "");
}

BOOST_AUTO_TEST_CASE(the_client_refuses_a_server_it_does_not_trust) {
  TlsFixture f(false);
  MllpClientOptions o = f.Client();
  o.ca_file = Pki().other_ca.cert_file;
  BOOST_TEST(!MllpClient::Connect(o).ok());
  BOOST_TEST(f.intake.accepted().empty());
}

BOOST_AUTO_TEST_CASE(tls_1_0_and_1_1_are_refused_and_1_2_and_1_3_accepted) {
  TlsFixture f(false);
  BOOST_TEST(!RawHandshake(f.server.port(), TLS1_VERSION, TLS1_VERSION));
  BOOST_TEST(!RawHandshake(f.server.port(), TLS1_1_VERSION, TLS1_1_VERSION));
  BOOST_TEST(!RawHandshake(f.server.port(), TLS1_VERSION, TLS1_1_VERSION));
  BOOST_TEST(RawHandshake(f.server.port(), TLS1_2_VERSION, TLS1_2_VERSION));
  BOOST_TEST(RawHandshake(f.server.port(), TLS1_3_VERSION, TLS1_3_VERSION));
  BOOST_TEST(testing::WaitFor([&] { return f.server.stats().tls_handshake_failures >= 3u; }));
}

BOOST_AUTO_TEST_CASE(plain_tcp_to_a_tls_listener_gets_no_ack) {
  TlsFixture f(false);
  MllpClientOptions o = f.Client();
  o.ca_file.clear();
  auto client = MllpClient::Connect(o);
  BOOST_REQUIRE(client.ok());
  BOOST_TEST(!(*client)->Exchange(Oru("P1")).ok());
  BOOST_TEST(f.intake.accepted().empty());
}

BOOST_AUTO_TEST_CASE(mutual_tls_passes_the_client_identity_on) {
  TlsFixture f(true);
  BOOST_TEST(f.Acknowledged(f.Client(&Pki().client), "M1"));
  const auto stored = f.intake.accepted();
  BOOST_REQUIRE(stored.size() == 1u);
  BOOST_TEST(stored[0].tls_identity.find("CN=device-7") != std::string::npos,
             stored[0].tls_identity);
}

BOOST_AUTO_TEST_CASE(mutual_tls_refuses_a_client_without_a_certificate) {
  TlsFixture f(true);
  BOOST_TEST(!f.Acknowledged(f.Client(), "M2"));
  BOOST_TEST(testing::WaitFor([&] { return f.server.stats().tls_handshake_failures == 1u; }));
  BOOST_TEST(f.intake.accepted().empty());
  BOOST_TEST(f.intake.rejected().empty());
}

BOOST_AUTO_TEST_CASE(mutual_tls_refuses_a_certificate_from_another_ca) {
  TlsFixture f(true);
  BOOST_TEST(!f.Acknowledged(f.Client(&Pki().stranger), "M3"));
  BOOST_TEST(testing::WaitFor([&] { return f.server.stats().tls_handshake_failures == 1u; }));
  BOOST_TEST(f.intake.accepted().empty());
}

BOOST_AUTO_TEST_CASE(stop_cuts_a_tls_connection_stuck_in_a_frame) {
  TlsFixture f(false);
  auto client = MllpClient::Connect(f.Client());
  BOOST_REQUIRE(client.ok());
  BOOST_REQUIRE((*client)->SendRaw("\x0BMSH|^~\\&|never ends").ok());
  BOOST_TEST(testing::WaitFor([&] { return f.server.stats().bytes_received == 20u; }));
  f.server.Stop();  // after drain_timeout the connection is cut
  BOOST_TEST(f.server.stats().active_connections == 0);
  BOOST_TEST(f.server.stats().truncated_frames == 1u);
  BOOST_TEST(f.intake.accepted().empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::mllp
