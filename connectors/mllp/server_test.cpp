// MllpServer over real sockets on 127.0.0.1 (port 0), with the HL7 v2 handler and a
// recording Intake: framing across reads, bad input, limits, timeouts, connection limits, Stop.

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connectors/mllp/hl7v2_handler.h"
#include "connectors/mllp/mllp_client.h"
#include "connectors/mllp/mllp_test_util.h"
#include "connectors/mllp/server.h"

namespace fhirbridge::mllp {
namespace {

using namespace std::chrono_literals;
using testing::AckField;
using testing::Oru;
using testing::RecordingIntake;
using testing::WaitFor;

/// A running server with the HL7 v2 handler in front of a RecordingIntake.
struct Fixture {
  explicit Fixture(MllpServerOptions o = Options()) : handler({}, intake), server(o, handler) {
    const Status started = server.Start();
    BOOST_REQUIRE_MESSAGE(started.ok(), started.ToString());
  }

  static MllpServerOptions Options() {
    MllpServerOptions o;
    o.port = 0;
    o.poll_interval = 50ms;
    return o;
  }

  std::unique_ptr<MllpClient> Connect() {
    MllpClientOptions o;
    o.port = server.port();
    o.timeout = 10s;
    auto client = MllpClient::Connect(o);
    BOOST_REQUIRE_MESSAGE(client.ok(), client.status().ToString());
    return std::move(*client);
  }

  std::string ReceiveAck(MllpClient& client) {
    auto reply = client.Receive();
    BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status().ToString());
    return *reply;
  }

  RecordingIntake intake;
  Hl7v2MllpHandler handler;
  MllpServer server;
};

std::string Frame(std::string_view content) { return "\x0B" + std::string(content) + "\x1C\r"; }

/// Answers every frame with its own content (the transport without HL7 v2).
class EchoHandler : public FrameHandler {
 public:
  std::vector<std::string> OnFrame(std::string content, const ConnectionInfo&) override {
    return {std::move(content)};
  }
  std::vector<std::string> OnOversizedFrame(std::string_view, const ConnectionInfo&) override {
    return {"too large"};
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(mllp_server)

BOOST_AUTO_TEST_CASE(a_message_is_acknowledged_after_it_is_stored) {
  Fixture f;
  auto client = f.Connect();
  auto ack = client->Exchange(Oru("S1"));
  BOOST_REQUIRE_MESSAGE(ack.ok(), ack.status().ToString());
  BOOST_TEST(AckField(*ack, 1, 1) == "AA");
  BOOST_TEST(AckField(*ack, 1, 2) == "S1");
  const auto stored = f.intake.accepted();
  BOOST_REQUIRE(stored.size() == 1u);
  BOOST_TEST(stored[0].raw == Oru("S1"));
  BOOST_TEST(stored[0].peer.rfind("127.0.0.1:", 0) == 0u);
  BOOST_TEST(stored[0].tls_identity == "");
}

BOOST_AUTO_TEST_CASE(several_frames_in_one_write_get_one_ack_each_in_order) {
  Fixture f;
  auto client = f.Connect();
  const std::string bytes =
      Frame(Oru("M1")) + "\x0B" + Oru("M2") + "\x1C\r\n" + Frame(Oru("M3")) + "\r\n";
  BOOST_REQUIRE(client->SendRaw(bytes).ok());
  for (std::string_view id : {"M1", "M2", "M3"}) {
    BOOST_TEST(AckField(f.ReceiveAck(*client), 1, 2) == id);
  }
  BOOST_TEST(f.intake.accepted().size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_frame_written_byte_by_byte_is_one_message) {
  Fixture f;
  auto client = f.Connect();
  const std::string bytes = "junk" + Frame(Oru("B1"));
  for (char c : bytes) {
    BOOST_REQUIRE(client->SendRaw(std::string_view(&c, 1)).ok());
    if (c == '\r') std::this_thread::sleep_for(1ms);  // let some bytes arrive alone
  }
  BOOST_TEST(AckField(f.ReceiveAck(*client), 1, 2) == "B1");
  BOOST_TEST(f.intake.accepted().size() == 1u);
  BOOST_TEST(WaitFor([&] { return f.server.stats().stray_bytes == 4u; }));
}

BOOST_AUTO_TEST_CASE(garbage_is_answered_and_the_connection_stays_up) {
  Fixture f;
  auto client = f.Connect();
  BOOST_REQUIRE(client->SendRaw("\x01\x02garbage before any frame\r\n").ok());
  const auto garbage_frame = client->Exchange("this is not HL7 \xFF\xFE");
  BOOST_REQUIRE(garbage_frame.ok());
  BOOST_TEST(AckField(*garbage_frame, 1, 1) == "AR");
  BOOST_TEST(f.intake.rejected().size() == 1u);
  const auto ack = client->Exchange(Oru("G2"));
  BOOST_REQUIRE(ack.ok());
  BOOST_TEST(AckField(*ack, 1, 1) == "AA");
}

BOOST_AUTO_TEST_CASE(a_store_that_cannot_commit_gets_ae_and_the_connection_stays) {
  testing::FailingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  MllpServer server(Fixture::Options(), handler);
  BOOST_REQUIRE(server.Start().ok());
  MllpClientOptions o;
  o.port = server.port();
  auto client = MllpClient::Connect(o);
  BOOST_REQUIRE(client.ok());
  for (std::string_view id : {"N1", "N2"}) {
    const auto ack = (*client)->Exchange(Oru(id));
    BOOST_REQUIRE_MESSAGE(ack.ok(), ack.status().ToString());
    BOOST_TEST(AckField(*ack, 1, 1) == "AE");
    BOOST_TEST(AckField(*ack, 1, 2) == id);
    BOOST_TEST(AckField(*ack, 2, 8).find("not stored") != std::string::npos);
  }
  BOOST_TEST(intake.accept_calls == 2);
  BOOST_TEST(handler.stats().acks_positive == 0u);
}

BOOST_AUTO_TEST_CASE(a_frame_over_the_limit_is_refused_and_decoding_resumes) {
  MllpServerOptions o = Fixture::Options();
  o.limits.max_frame_bytes = 1024;
  Fixture f(o);
  auto client = f.Connect();
  std::string big = Oru("BIG");
  big += std::string(4000, 'Z');
  const auto ar = client->Exchange(big);
  BOOST_REQUIRE_MESSAGE(ar.ok(), ar.status().ToString());
  BOOST_TEST(AckField(*ar, 1, 1) == "AR");
  BOOST_TEST(AckField(*ar, 1, 2) == "BIG");
  const auto aa = client->Exchange(Oru("SMALL"));
  BOOST_REQUIRE(aa.ok());
  BOOST_TEST(AckField(*aa, 1, 1) == "AA");
  BOOST_TEST(f.server.stats().oversized_frames == 1u);
  BOOST_REQUIRE(f.intake.rejected().size() == 1u);
  BOOST_TEST(f.intake.rejected()[0].first.raw.size() <= 1024u);
}

BOOST_AUTO_TEST_CASE(an_idle_connection_is_closed) {
  MllpServerOptions o = Fixture::Options();
  o.idle_timeout = 300ms;
  Fixture f(o);
  auto client = f.Connect();
  auto reply = client->Receive();  // nothing sent: the server closes after the idle timeout
  BOOST_TEST(reply.status().IsUnavailable(), reply.status().ToString());
  BOOST_TEST(WaitFor([&] { return f.server.stats().idle_timeouts == 1u; }));
  // A connection that keeps talking is not idle.
  auto busy = f.Connect();
  for (int i = 0; i < 4; ++i) {
    BOOST_TEST(busy->Exchange(Oru("K" + std::to_string(i))).ok());
    std::this_thread::sleep_for(150ms);
  }
}

BOOST_AUTO_TEST_CASE(a_peer_that_disconnects_mid_frame_stores_nothing) {
  Fixture f;
  {
    auto client = f.Connect();
    const std::string message = Oru("CUT");
    BOOST_REQUIRE(client->SendRaw("\x0B" + message.substr(0, message.size() / 2)).ok());
    std::this_thread::sleep_for(50ms);
  }  // closed
  BOOST_TEST(WaitFor([&] { return f.server.stats().truncated_frames == 1u; }));
  BOOST_TEST(WaitFor([&] { return f.server.stats().active_connections == 0; }));
  BOOST_TEST(f.intake.accepted().empty());
  BOOST_TEST(f.intake.rejected().empty());
}

BOOST_AUTO_TEST_CASE(too_many_stray_bytes_close_the_connection) {
  MllpServerOptions o = Fixture::Options();
  o.limits.max_stray_bytes = 100;
  Fixture f(o);
  auto client = f.Connect();
  BOOST_REQUIRE(client->SendRaw("GET / HTTP/1.1\r\nHost: x\r\n" + std::string(200, 'x')).ok());
  BOOST_TEST(client->Receive().status().IsUnavailable());
  BOOST_TEST(f.server.stats().stray_byte_closes == 1u);
}

BOOST_AUTO_TEST_CASE(max_connections_are_served_at_once_and_the_rest_wait) {
  MllpServerOptions o = Fixture::Options();
  o.max_connections = 20;
  o.max_queued = 300;
  Fixture f(o);
  constexpr int kClients = 300;
  std::vector<std::unique_ptr<MllpClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(f.Connect());
  for (int i = 0; i < kClients; ++i) {
    BOOST_REQUIRE(clients[i]->Send(Oru("C" + std::to_string(i))).ok());
  }
  BOOST_TEST(WaitFor([&] { return f.server.stats().active_connections == 20; }));
  // Served in arrival order: closing one lets the next waiting connection in.
  for (int i = 0; i < kClients; ++i) {
    BOOST_TEST(AckField(f.ReceiveAck(*clients[i]), 1, 2) == "C" + std::to_string(i));
    clients[i]->Close();
  }
  BOOST_TEST(f.intake.accepted().size() == static_cast<std::size_t>(kClients));
  BOOST_TEST(f.server.stats().peak_connections == 20);
  BOOST_TEST(f.server.stats().refused_connections == 0u);
}

BOOST_AUTO_TEST_CASE(connections_beyond_the_queue_are_refused) {
  MllpServerOptions o = Fixture::Options();
  o.max_connections = 2;
  o.max_queued = 2;
  Fixture f(o);
  std::vector<std::unique_ptr<MllpClient>> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(f.Connect());
    // A refused connection may already be closed: its write may fail, and that is fine.
    (void)clients.back()->Send(Oru("Q" + std::to_string(i)));
    std::this_thread::sleep_for(20ms);  // accepted and queued in this order
  }
  int acknowledged = 0;
  for (auto& client : clients) {
    acknowledged += client->Receive().ok() ? 1 : 0;
    client->Close();
  }
  BOOST_TEST(acknowledged >= 2);
  BOOST_TEST(acknowledged <= 4);
  BOOST_TEST(f.server.stats().refused_connections == static_cast<std::uint64_t>(10 - acknowledged));
  BOOST_TEST(f.intake.accepted().size() == static_cast<std::size_t>(acknowledged));
  BOOST_TEST(f.server.stats().peak_connections <= 2);
}

BOOST_AUTO_TEST_CASE(stop_lets_a_frame_in_progress_finish) {
  Fixture f;
  auto client = f.Connect();
  const std::string message = Oru("LAST");
  BOOST_REQUIRE(client->SendRaw("\x0B" + message.substr(0, 20)).ok());
  BOOST_TEST(WaitFor([&] { return f.server.stats().bytes_received == 21u; }));
  std::thread stopper([&] { f.server.Stop(); });
  std::this_thread::sleep_for(200ms);
  BOOST_REQUIRE(client->SendRaw(message.substr(20) + "\x1C\r").ok());
  auto ack = client->Receive();
  stopper.join();
  BOOST_REQUIRE_MESSAGE(ack.ok(), ack.status().ToString());
  BOOST_TEST(AckField(*ack, 1, 1) == "AA");
  BOOST_TEST(f.intake.accepted().size() == 1u);
  BOOST_TEST(!f.server.running());
  // No new connections after Stop.
  MllpClientOptions co;
  co.port = f.server.port();
  co.timeout = 2s;
  auto late = MllpClient::Connect(co);
  BOOST_TEST(!late.ok());
}

BOOST_AUTO_TEST_CASE(stop_cuts_a_frame_that_never_finishes) {
  MllpServerOptions o = Fixture::Options();
  o.drain_timeout = 200ms;
  Fixture f(o);
  auto idle = f.Connect();
  auto stuck = f.Connect();
  BOOST_REQUIRE(stuck->SendRaw("\x0BMSH|^~\\&|never ends").ok());
  BOOST_TEST(WaitFor([&] { return f.server.stats().active_connections == 2; }));
  BOOST_TEST(WaitFor([&] { return f.server.stats().bytes_received == 20u; }));
  f.server.Stop();  // returns: the drain time is bounded
  BOOST_TEST(f.server.stats().active_connections == 0);
  BOOST_TEST(f.server.stats().truncated_frames == 1u);
  BOOST_TEST(stuck->Receive().status().IsUnavailable());
  BOOST_TEST(f.intake.accepted().empty());
}

BOOST_AUTO_TEST_CASE(the_client_refuses_a_reply_over_its_limit) {
  EchoHandler echo;
  MllpServer server(Fixture::Options(), echo);
  BOOST_REQUIRE(server.Start().ok());
  MllpClientOptions o;
  o.port = server.port();
  o.max_reply_bytes = 100;
  auto client = MllpClient::Connect(o);
  BOOST_REQUIRE(client.ok());
  const auto small = (*client)->Exchange(std::string(100, 'a'));
  BOOST_REQUIRE(small.ok());
  BOOST_TEST(*small == std::string(100, 'a'));
  BOOST_TEST((*client)->Exchange(std::string(101, 'b')).status().IsInvalidArgument());
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused_by_start) {
  RecordingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  MllpServerOptions o = Fixture::Options();
  o.max_connections = 0;
  MllpServer zero(o, handler);
  BOOST_TEST((zero.Start().code() == Status::Code::kFailedPrecondition));
  o = Fixture::Options();
  o.tls.cert_file = "/nonexistent/cert.pem";
  o.tls.key_file = "/nonexistent/key.pem";
  MllpServer tls(o, handler);
  const Status s = tls.Start();
  BOOST_TEST((s.code() == Status::Code::kFailedPrecondition));
  BOOST_TEST(s.message().find("tls.cert") != std::string::npos);
  // A port in use.
  Fixture f;
  o = Fixture::Options();
  o.port = f.server.port();
  MllpServer second(o, handler);
  BOOST_TEST(second.Start().IsUnavailable());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::mllp
