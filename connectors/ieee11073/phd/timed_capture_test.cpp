#include "connectors/ieee11073/phd/timed_capture.h"

#include <boost/test/unit_test.hpp>

#include "connectors/ieee11073/phd/phd_test_util.h"
#include "connectors/ieee11073/phd/tcp_server.h"

namespace fhirbridge::phd {
namespace {

using testing::Vector;

// A pulse oximeter association (H211/H233/H241 for 0x0190) with receive times 1 s apart.
std::string Capture() {
  std::string c;
  AppendTimedApdu(c, 1'000'000, Vector("H211_ID_0190"));
  AppendTimedApdu(c, 2'000'000, Vector("H233_ID_0190"));
  AppendTimedApdu(c, 3'000'000, Vector("H241_ID_0190"));
  return c;
}

BOOST_AUTO_TEST_SUITE(phd_timed_capture)

BOOST_AUTO_TEST_CASE(replays_to_the_report_with_its_receive_times) {
  const std::string c = Capture();
  BOOST_TEST(IsTimedCapture(c));
  BOOST_TEST(!IsTimedCapture(Vector("H211_ID_0190")));
  const Replay r = ReplayTimedCapture(c, {});
  BOOST_TEST(r.problems.empty());
  BOOST_REQUIRE_EQUAL(r.reports.size(), 1u);
  BOOST_TEST(r.reports[0].received_at_us == 3'000'000);
  BOOST_TEST(r.reports[0].device.clock_received_at_us == 2'000'000);
  BOOST_TEST(r.reports[0].scan.measurements.size() == 2u);
}

BOOST_AUTO_TEST_CASE(truncated_and_lying_records_are_located) {
  const std::string c = Capture();
  const Replay cut = ReplayTimedCapture(c.substr(0, c.size() - 3), {});
  BOOST_REQUIRE_EQUAL(cut.problems.size(), 1u);
  BOOST_TEST(cut.problems[0].message().find("the APDU header says") != std::string::npos);
  BOOST_TEST(cut.reports.empty());
  const Replay tail = ReplayTimedCapture(c + "\x01\x02", {});
  BOOST_REQUIRE_EQUAL(tail.problems.size(), 1u);
  BOOST_TEST(tail.problems[0].message().find("truncated record") != std::string::npos);
  SessionOptions small;
  small.limits.max_apdu_bytes = 16;
  BOOST_TEST(ReplayTimedCapture(c, small).problems.at(0).message().find("(limit 16)") !=
             std::string::npos);
  BOOST_TEST(ReplayTimedCapture("garbage", {}).problems.at(0).message() ==
             "byte 0: not a timed APDU capture");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::phd
