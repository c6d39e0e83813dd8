#include "connectors/ieee11073/phd/tcp_server.h"

#include <mutex>
#include <vector>

#include <Poco/Net/StreamSocket.h>

#include <boost/test/unit_test.hpp>

#include "connectors/ieee11073/phd/apdu_stream.h"
#include "connectors/ieee11073/phd/phd_test_util.h"

namespace fhirbridge::phd {
namespace {

using testing::Span;
using testing::Vector;

// An agent on a real socket: sends APDUs, reads whole APDUs back.
class Agent {
 public:
  explicit Agent(std::uint16_t port)
      : socket_(Poco::Net::SocketAddress("127.0.0.1", port)), framer_(65536) {
    socket_.setReceiveTimeout(Poco::Timespan(5, 0));
  }
  void Send(const std::string& apdu) {
    socket_.sendBytes(apdu.data(), static_cast<int>(apdu.size()));
  }
  // The next APDU from the manager; empty when the manager closed the connection.
  std::string Receive() {
    while (true) {
      Result<ApduFrame> f = framer_.Next();
      if (f.ok()) return f->bytes;
      char buf[1024];
      const int n = socket_.receiveBytes(buf, sizeof buf);
      if (n <= 0) return {};
      framer_.Append(Span(std::string(buf, static_cast<std::size_t>(n))));
    }
  }

 private:
  Poco::Net::StreamSocket socket_;
  ApduFramer framer_;
};

struct Collected {
  std::mutex mu;
  std::vector<MeasurementReport> reports;
  bool fail = false;
};

ReportSink SinkInto(Collected& c) {
  return [&c](const MeasurementReport& r, const std::string& peer) {
    std::lock_guard<std::mutex> lock(c.mu);
    BOOST_TEST(peer.rfind("127.0.0.1:", 0) == 0u);
    if (c.fail) return Status::Unavailable("store is down");
    c.reports.push_back(r);
    return Status::Ok();
  };
}

BOOST_AUTO_TEST_SUITE(phd_tcp_server)

BOOST_AUTO_TEST_CASE(pulse_oximeter_session_over_a_real_socket) {
  Collected c;
  PhdTcpServer server(TcpServerOptions{}, SinkInto(c));
  BOOST_REQUIRE(server.Start().ok());
  Agent agent(server.port());
  // Sent in two pieces: the framing must not depend on how bytes arrive.
  const std::string aarq = Vector("H211_ID_0190");
  agent.Send(aarq.substr(0, 7));
  agent.Send(aarq.substr(7));
  const std::string aare = agent.Receive();
  BOOST_REQUIRE(!aare.empty());
  BOOST_TEST(aare.substr(0, 6) == std::string("\xE3\x00\x00\x2C\x00\x00", 6));  // accepted
  BOOST_TEST(agent.Receive() == EncodeGetMdsAttributes(0));
  agent.Send(Vector("H241_ID_0190"));
  BOOST_TEST(agent.Receive() == EncodeEventReportResponse(0x1238, 0, event::kScanReportFixed));
  {
    std::lock_guard<std::mutex> lock(c.mu);
    BOOST_REQUIRE_EQUAL(c.reports.size(), 1u);
    BOOST_TEST(c.reports[0].scan.measurements.size() == 2u);
    BOOST_TEST(c.reports[0].received_at_us > 0);
  }
  agent.Send(Vector("rx_rlrq_normal"));
  BOOST_TEST(agent.Receive() == EncodeRlre(0));
  server.Stop();
  BOOST_TEST(server.stats().reports == 1u);
}

BOOST_AUTO_TEST_CASE(no_confirmation_when_the_sink_fails) {
  Collected c;
  c.fail = true;
  PhdTcpServer server(TcpServerOptions{}, SinkInto(c));
  BOOST_REQUIRE(server.Start().ok());
  Agent agent(server.port());
  agent.Send(Vector("H211_ID_0190"));
  agent.Receive();  // AARE
  agent.Receive();  // GET
  agent.Send(Vector("H241_ID_0190"));
  BOOST_TEST(agent.Receive() == EncodeAbrt(0));
  BOOST_TEST(agent.Receive().empty());  // closed
  BOOST_TEST(server.stats().sink_failures == 1u);
}

BOOST_AUTO_TEST_CASE(oversize_apdu_is_aborted_and_closed) {
  Collected c;
  TcpServerOptions options;
  options.session.limits.max_apdu_bytes = 64;
  PhdTcpServer server(options, SinkInto(c));
  BOOST_REQUIRE(server.Start().ok());
  Agent agent(server.port());
  agent.Send(Vector("H221"));  // 116 bytes
  BOOST_TEST(agent.Receive() == EncodeAbrt(1));
  BOOST_TEST(agent.Receive().empty());
}

BOOST_AUTO_TEST_CASE(idle_connection_is_closed) {
  Collected c;
  TcpServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  options.poll_interval = std::chrono::milliseconds(50);
  PhdTcpServer server(options, SinkInto(c));
  BOOST_REQUIRE(server.Start().ok());
  Agent agent(server.port());
  BOOST_TEST(agent.Receive().empty());  // closed by the server, not by our 5 s timeout
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::phd
