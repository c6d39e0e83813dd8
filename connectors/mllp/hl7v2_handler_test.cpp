// Hl7v2MllpHandler: what is stored, kept as refused, and acknowledged, called directly.

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include "connectors/mllp/hl7v2_handler.h"
#include "connectors/mllp/mllp_test_util.h"
#include "fhirbridge/log.h"

namespace fhirbridge::mllp {
namespace {

using testing::AckField;
using testing::FailingIntake;
using testing::Oru;
using testing::RecordingIntake;

/// The one reply of a frame.
std::string One(const std::vector<std::string>& replies) {
  BOOST_REQUIRE_EQUAL(replies.size(), 1u);
  return replies[0];
}

ConnectionInfo Peer() {
  ConnectionInfo c;
  c.id = 7;
  c.peer = "127.0.0.1:40000";
  c.tls_identity = "/CN=gateway-1";
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hl7v2_mllp_handler)

BOOST_AUTO_TEST_CASE(a_message_is_stored_then_acknowledged_aa) {
  RecordingIntake intake;
  Hl7v2MllpHandlerOptions options;
  options.source = "icu";
  Hl7v2MllpHandler handler(options, intake);
  const std::string message = Oru("MSG1");
  const std::string ack = One(handler.OnFrame(message, Peer()));
  BOOST_TEST(AckField(ack, 1, 1) == "AA");
  BOOST_TEST(AckField(ack, 1, 2) == "MSG1");
  BOOST_TEST(AckField(ack, 0, 9) == "ACK^R01^ACK");
  BOOST_TEST(AckField(ack, 0, 3) == "FHIRBRIDGE");
  BOOST_TEST(AckField(ack, 0, 10).rfind("FB", 0) == 0u);
  const auto stored = intake.accepted();
  BOOST_REQUIRE(stored.size() == 1u);
  BOOST_TEST(stored[0].source == "icu");
  BOOST_TEST(stored[0].format == "hl7v2");
  BOOST_TEST(stored[0].raw == message);
  BOOST_TEST(stored[0].control_id == "MSG1");
  BOOST_TEST(stored[0].peer == "127.0.0.1:40000");
  BOOST_TEST(stored[0].tls_identity == "/CN=gateway-1");
  BOOST_TEST(stored[0].received_at_us > 1'700'000'000'000'000);
  // Every ACK gets its own control id.
  BOOST_TEST(AckField(One(handler.OnFrame(Oru("MSG2"), Peer())), 0, 10) != AckField(ack, 0, 10));
}

BOOST_AUTO_TEST_CASE(a_resend_is_acknowledged_again_without_a_second_copy) {
  RecordingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  BOOST_TEST(AckField(One(handler.OnFrame(Oru("R1"), Peer())), 1, 1) == "AA");
  BOOST_TEST(AckField(One(handler.OnFrame(Oru("R1"), Peer())), 1, 1) == "AA");
  BOOST_TEST(intake.accepted().size() == 1u);
  BOOST_TEST(handler.stats().stored == 1u);
  BOOST_TEST(handler.stats().duplicates == 1u);
  BOOST_TEST(handler.stats().acks_positive == 2u);
}

BOOST_AUTO_TEST_CASE(enhanced_mode_answers_by_msh15_and_msh16) {
  RecordingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  const std::string ca = One(handler.OnFrame(Oru("E1", "|AL|NE"), Peer()));
  BOOST_TEST(AckField(ca, 1, 1) == "CA");
  BOOST_TEST(AckField(ca, 0, 15) == "NE");
  // NE/AL (IHE PCD gateways): no accept ACK, the application ACK right after the commit.
  BOOST_TEST(AckField(One(handler.OnFrame(Oru("E2", "|NE|AL"), Peer())), 1, 1) == "AA");
  // AL/AL: both, accept ACK first.
  const auto both = handler.OnFrame(Oru("E3", "|AL|AL"), Peer());
  BOOST_REQUIRE(both.size() == 2u);
  BOOST_TEST(AckField(both[0], 1, 1) == "CA");
  BOOST_TEST(AckField(both[1], 1, 1) == "AA");
  BOOST_TEST(AckField(both[0], 0, 10) != AckField(both[1], 0, 10));
  // NE/NE: stored, nothing sent. ER/NE: only a refusal is answered (CR).
  BOOST_TEST(handler.OnFrame(Oru("E4", "|NE|NE"), Peer()).empty());
  BOOST_TEST(handler.OnFrame(Oru("E5", "|ER|NE"), Peer()).empty());
  const std::string cr = One(handler.OnFrame(Oru("E6", "|ER|NE", "ADT^A01"), Peer()));
  BOOST_TEST(AckField(cr, 1, 1) == "CR");
  BOOST_TEST(intake.accepted().size() == 5u);
  BOOST_TEST(handler.stats().acks_suppressed == 2u);
}

BOOST_AUTO_TEST_CASE(the_application_ack_at_commit_can_be_turned_off) {
  RecordingIntake intake;
  Hl7v2MllpHandlerOptions options;
  options.application_ack_at_commit = false;
  Hl7v2MllpHandler handler(options, intake);
  BOOST_TEST(handler.OnFrame(Oru("N1", "|NE|AL"), Peer()).empty());
  BOOST_TEST(AckField(One(handler.OnFrame(Oru("N2", "|AL|AL"), Peer())), 1, 1) == "CA");
  BOOST_TEST(AckField(One(handler.OnFrame(Oru("N3"), Peer())), 1, 1) == "AA");  // original mode
}

BOOST_AUTO_TEST_CASE(unsupported_types_and_events_are_refused_ar) {
  RecordingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  const std::string type = One(handler.OnFrame(Oru("T1", "", "ADT^A01"), Peer()));
  BOOST_TEST(AckField(type, 1, 1) == "AR");
  BOOST_TEST(AckField(type, 1, 2) == "T1");
  BOOST_TEST(AckField(type, 2, 2) == "MSH^1^9^^1");
  BOOST_TEST(AckField(type, 2, 3) == "200^Unsupported message type^HL70357");
  const std::string event = One(handler.OnFrame(Oru("T2", "", "ORU^R30"), Peer()));
  BOOST_TEST(AckField(event, 1, 1) == "AR");
  BOOST_TEST(AckField(event, 2, 2) == "MSH^1^9^^2");
  BOOST_TEST(AckField(event, 2, 3) == "201^Unsupported event code^HL70357");
  BOOST_TEST(intake.accepted().empty());
  const auto rejected = intake.rejected();
  BOOST_REQUIRE(rejected.size() == 2u);
  BOOST_TEST(rejected[0].first.control_id == "T1");
  BOOST_TEST(rejected[0].second == "message type ADT is not accepted by this source");
  BOOST_TEST(rejected[1].first.raw == Oru("T2", "", "ORU^R30"));
}

BOOST_AUTO_TEST_CASE(the_type_is_checked_before_the_body) {
  RecordingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  const std::string ack =
      One(handler.OnFrame(Oru("T3", "", "ADT^A01") + "OBX|2|NM|x\x01y\r", Peer()));
  BOOST_TEST(AckField(ack, 1, 1) == "AR");
  BOOST_TEST(AckField(ack, 2, 3) == "200^Unsupported message type^HL70357");
}

BOOST_AUTO_TEST_CASE(accepted_types_are_configurable) {
  RecordingIntake intake;
  Hl7v2MllpHandlerOptions options;
  options.accepted_types = {"ADT", "ORU^R40"};  // any ADT event; ORU only R40
  Hl7v2MllpHandler handler(options, intake);
  BOOST_TEST(AckField(One(handler.OnFrame(Oru("1", "", "ADT^A08"), Peer())), 1, 1) == "AA");
  BOOST_TEST(AckField(One(handler.OnFrame(Oru("2", "", "ORU^R40"), Peer())), 1, 1) == "AA");
  BOOST_TEST(AckField(One(handler.OnFrame(Oru("3", "", "ORU^R01"), Peer())), 1, 1) == "AR");
}

BOOST_AUTO_TEST_CASE(a_malformed_body_is_kept_and_answered_ae_with_its_location) {
  RecordingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  const std::string bad = Oru("B1") + "OBX|2|NM|x\x01y\r";
  const std::string ack = One(handler.OnFrame(bad, Peer()));
  BOOST_TEST(AckField(ack, 1, 1) == "AE");
  BOOST_TEST(AckField(ack, 1, 2) == "B1");
  BOOST_TEST(AckField(ack, 2, 2) == "OBX^2^3");
  BOOST_TEST(AckField(ack, 2, 3) == "102^Data type error^HL70357");
  BOOST_TEST(AckField(ack, 2, 4) == "E");
  BOOST_TEST(intake.accepted().empty());
  BOOST_REQUIRE(intake.rejected().size() == 1u);
  BOOST_TEST(intake.rejected()[0].first.raw == bad);
}

BOOST_AUTO_TEST_CASE(a_bad_header_or_a_limit_is_answered_ar) {
  RecordingIntake intake;
  Hl7v2MllpHandlerOptions options;
  options.limits.max_segments = 3;
  Hl7v2MllpHandler handler(options, intake);
  const std::string limit = One(handler.OnFrame(Oru("L1"), Peer()));  // 4 segments
  BOOST_TEST(AckField(limit, 1, 1) == "AR");
  BOOST_TEST(AckField(limit, 2, 8).find("max_segments") != std::string::npos);
  // MSH-7 holds a control byte: the header is readable, MSH is not well-formed.
  std::string control = Oru("C1");
  control.replace(control.find("20240102030405"), 14, "2024\x01");
  const std::string ack = One(handler.OnFrame(control, Peer()));
  BOOST_TEST(AckField(ack, 1, 1) == "AR");
  BOOST_TEST(AckField(ack, 1, 2) == "C1");
  BOOST_TEST(AckField(ack, 2, 2) == "MSH^1^7");
  // A character set we cannot read: refused, and echoed in MSH-18 as the sender named it.
  std::string charset = Oru("C2");
  charset.replace(charset.find("|P|2.6||"), 8, "|P|2.6||||||KLINGON");
  const std::string ar = One(handler.OnFrame(charset, Peer()));
  BOOST_TEST(ar.find("|2.6||||||KLINGON\rMSA|AR|C2\rERR||MSH^1^18|") != std::string::npos, ar);
  BOOST_TEST(intake.rejected().size() == 3u);
}

BOOST_AUTO_TEST_CASE(garbage_is_kept_and_answered_ar_with_default_delimiters) {
  RecordingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  const std::string ack = One(handler.OnFrame("\x01\x02 not hl7 at all", Peer()));
  BOOST_TEST(ack.rfind("MSH|^~\\&|", 0) == 0u);
  BOOST_TEST(AckField(ack, 1, 1) == "AR");
  BOOST_TEST(AckField(ack, 1, 2) == "");
  BOOST_TEST(AckField(ack, 2, 3) == "100^Segment sequence error^HL70357");
  BOOST_REQUIRE(intake.rejected().size() == 1u);
  BOOST_TEST(intake.rejected()[0].first.raw == "\x01\x02 not hl7 at all");
}

BOOST_AUTO_TEST_CASE(never_a_positive_ack_when_the_store_fails) {
  FailingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  const std::string ae = One(handler.OnFrame(Oru("F1"), Peer()));
  BOOST_TEST(AckField(ae, 1, 1) == "AE");
  BOOST_TEST(AckField(ae, 1, 2) == "F1");
  BOOST_TEST(AckField(ae, 2, 3) == "207^Application internal error^HL70357");
  BOOST_TEST(AckField(ae, 2, 8) ==
             "the message was not stored (RESOURCE_EXHAUSTED); send it again later");
  const std::string ce = One(handler.OnFrame(Oru("F2", "|AL|NE"), Peer()));
  BOOST_TEST(AckField(ce, 1, 1) == "CE");
  BOOST_TEST(intake.accept_calls == 2);
  BOOST_TEST(handler.stats().not_stored == 2u);
  BOOST_TEST(handler.stats().acks_positive == 0u);
  // A refusal that cannot be kept is still answered, and counted.
  BOOST_TEST(AckField(One(handler.OnFrame(Oru("F3", "", "ADT^A01"), Peer())), 1, 1) == "AR");
  BOOST_TEST(handler.stats().reject_failures == 1u);
}

BOOST_AUTO_TEST_CASE(an_oversized_frame_is_answered_from_its_head) {
  RecordingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  const std::string head = Oru("BIG1").substr(0, 120);
  const std::string ack = One(handler.OnOversizedFrame(head, Peer()));
  BOOST_TEST(AckField(ack, 1, 1) == "AR");
  BOOST_TEST(AckField(ack, 1, 2) == "BIG1");
  BOOST_REQUIRE(intake.rejected().size() == 1u);
  BOOST_TEST(intake.rejected()[0].first.raw == head);
  BOOST_TEST(intake.rejected()[0].second.find("frame size limit") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_ack_observer_sees_every_decision) {
  RecordingIntake intake;
  std::atomic<int> accepts{0};
  std::atomic<int> rejects{0};
  Hl7v2MllpHandlerOptions options;
  options.on_ack = [&](hl7v2::AckCode code, std::chrono::microseconds latency) {
    BOOST_TEST(latency.count() >= 0);
    (code == hl7v2::AckCode::kAccept ? accepts : rejects)++;
  };
  Hl7v2MllpHandler handler(options, intake);
  (void)handler.OnFrame(Oru("O1"), Peer());
  (void)handler.OnFrame("junk", Peer());
  BOOST_TEST(accepts == 1);
  BOOST_TEST(rejects == 1);
  BOOST_TEST(handler.stats().received == 2u);
}

BOOST_AUTO_TEST_CASE(logs_carry_no_patient_data) {
  auto sink = std::make_shared<CapturingLogSink>();
  ScopedLogSink scoped(sink);
  FailingIntake intake;
  Hl7v2MllpHandler handler({}, intake);
  (void)handler.OnFrame(Oru("P1"), Peer());
  (void)handler.OnFrame(Oru("P2", "", "ADT^A01"), Peer());
  (void)handler.OnFrame(Oru("P3") + "OBX|2|NM|x\x01y\r", Peer());
  BOOST_TEST(!sink->lines().empty());
  for (const std::string& line : sink->lines()) {
    BOOST_TEST(line.find("DOE") == std::string::npos, line);
    BOOST_TEST(line.find("12345") == std::string::npos, line);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::mllp
