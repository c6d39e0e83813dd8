// `fhirbridge run` with a phd-tcp source, as a 20601 agent sees it: a real socket, the shared
// Annex H APDUs of a pulse oximeter, the confirmation (RORS) only after the report is committed,
// and the Bundle in the file destination. A second upload of the same measurements gives the
// same conditional creates (nothing would be created twice at the EHR).

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <rapidjson/document.h>

#include "connectors/ieee11073/phd/apdu.h"
#include "connectors/ieee11073/phd/apdu_stream.h"
#include "connectors/ieee11073/phd/mder.h"
#include "engine/app/e2e_support.h"

namespace fhirbridge::app {
namespace {

using namespace std::chrono_literals;
using namespace e2e;

std::string Vector(const std::string& name) {
  const fs::path p =
      fs::path(FHIRBRIDGE_SHARED_DIR) / "data" / "ieee11073" / "phd_20601_apdu" / (name + ".bin");
  std::ifstream in(p, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string WriteConfig(const fs::path& dir) {
  const std::string path = (dir / "config.json").string();
  std::ofstream(path) << R"({
  "store": {"path": ")"
                      << (dir / "var" / "store.db").string() << R"("},
  "admin": {"listen": "127.0.0.1:0"},
  "sources": [{"name": "home", "type": "phd-tcp", "listen": "127.0.0.1:0", "format": "phd",
               "assume_timezone": "UTC"}],
  "destinations": [{"name": "outbox", "type": "file", "path": ")"
                      << (dir / "outbox").string() << R"("}],
  "routes": [{"from": ["home"], "to": ["outbox"]}]
})";
  return path;
}

// One association of the 10404 pulse oximeter (standard configuration 0x0190): AARQ, the MDS
// attributes answer, a confirmed fixed scan report, release. Returns the manager's answer to
// the report.
std::string PulseOximeterSession(int port) {
  Poco::Net::StreamSocket socket(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  phd::ApduFramer framer(65536);
  const auto receive = [&]() -> std::string {
    while (true) {
      Result<phd::ApduFrame> f = framer.Next();
      if (f.ok()) return f->bytes;
      char buf[1024];
      const int n = socket.receiveBytes(buf, sizeof buf);
      if (n <= 0) return {};
      framer.Append(phd::AsBytes(std::string_view(buf, static_cast<std::size_t>(n))));
    }
  };
  const auto send = [&](const std::string& apdu) {
    socket.sendBytes(apdu.data(), static_cast<int>(apdu.size()));
  };
  send(Vector("H211_ID_0190"));
  BOOST_REQUIRE_EQUAL(receive().substr(0, 2), std::string("\xE3\x00", 2));  // AARE
  BOOST_REQUIRE_EQUAL(receive().substr(0, 2), std::string("\xE7\x00", 2));  // GET MDS
  send(Vector("H233_ID_0190"));
  send(Vector("H241_ID_0190"));
  const std::string confirmation = receive();
  send(Vector("rx_rlrq_normal"));
  BOOST_TEST(receive() == phd::EncodeRlre(0));
  return confirmation;
}

std::vector<std::string> Observations(const std::string& bundle, std::set<std::string>& codes) {
  rapidjson::Document doc;
  doc.Parse(bundle.c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  std::vector<std::string> queries;
  for (const auto& entry : doc["entry"].GetArray()) {
    const auto& r = entry["resource"];
    if (std::string_view(r["resourceType"].GetString()) != "Observation") continue;
    queries.push_back(entry["request"]["ifNoneExist"].GetString());
    std::ostringstream v;
    v << r["code"]["coding"][0]["code"].GetString() << "="
      << r["valueQuantity"]["value"].GetDouble() << " " << r["valueQuantity"]["code"].GetString()
      << " @" << r["effectiveDateTime"].GetString();
    codes.insert(v.str());
  }
  return queries;
}

BOOST_AUTO_TEST_CASE(phd_tcp_reports_reach_the_file_destination_and_re_uploads_dedup) {
  TempDir t;
  ServiceProcess service(WriteConfig(t.dir));
  const int port = service.PortOf("source.listening source=home");
  // The RORS of the confirmed report (invoke id 0x1238 of H241) comes after the commit.
  const std::string rors = PulseOximeterSession(port);
  BOOST_TEST(rors == phd::EncodeEventReportResponse(0x1238, 0, phd::event::kScanReportFixed));
  BOOST_TEST(PulseOximeterSession(port) == rors);  // the agent uploads the same data again

  const fs::path outbox = t.dir / "outbox" / "outbox.ndjson";
  for (int i = 0; i < 300 && Lines(outbox).size() < 2; ++i) std::this_thread::sleep_for(100ms);
  BOOST_CHECK_EQUAL(service.Terminate(), 0);
  const std::vector<std::string> lines = Lines(outbox);
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  std::set<std::string> first_values, second_values;
  const std::vector<std::string> first = Observations(lines[0], first_values);
  const std::vector<std::string> second = Observations(lines[1], second_values);
  // H241_ID_0190: SpO2 (MDC 150456) 98 % and pulse rate (149530) 72/min at 2007-12-06 12:10:00,
  // read in the source's zone (UTC).
  const std::set<std::string> expected = {"150456=98 % @2007-12-06T12:10:00+00:00",
                                          "149530=72 /min @2007-12-06T12:10:00+00:00"};
  for (const std::string& v : first_values) BOOST_TEST_MESSAGE("observed " << v);
  BOOST_TEST((first_values == expected));
  BOOST_TEST((second_values == expected));
  BOOST_TEST(first == second);  // same conditional creates: nothing is created twice
}

}  // namespace
}  // namespace fhirbridge::app
