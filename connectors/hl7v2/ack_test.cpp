// ACK building: modes, the sender's delimiters, version and charset, ERR in both layouts.

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "connectors/hl7v2/ack.h"
#include "connectors/hl7v2/er7.h"

namespace fhirbridge::hl7v2 {
namespace {

constexpr std::string_view kOru =
    "MSH|^~\\&|GW^0001^EUI-64|ICU|FHIRBRIDGE|HOSP|20240102030405||ORU^R01^ORU_R01|MSG00042|P|"
    "2.6||||||UNICODE UTF-8\rPID|||123^^^H^MR\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|\r";

AckHeader HeaderOf(std::string_view raw) {
  auto h = ReadAckHeader(raw);
  BOOST_REQUIRE_MESSAGE(h.ok(), h.status().ToString());
  return *h;
}

AckContent Content(AckCode code) {
  AckContent c;
  c.code = code;
  c.control_id = "ACK1";
  c.timestamp = "20261121081334.123+0000";
  return c;
}

/// The field `n` of the segment `index` of `ack`, read back with the real parser.
std::string AckField(const std::string& ack, std::size_t index, std::size_t n) {
  auto parsed = Parse(ack);
  BOOST_REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
  return std::string(parsed->segment(index).field(n).raw());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ack)

BOOST_AUTO_TEST_CASE(original_mode_accept_swaps_sender_and_receiver_and_echoes_msh10) {
  const std::string ack = BuildAck(HeaderOf(kOru), Content(AckCode::kAccept));
  BOOST_TEST(ack ==
             "MSH|^~\\&|FHIRBRIDGE|HOSP|GW^0001^EUI-64|ICU|20261121081334.123+0000||ACK^R01^ACK|"
             "ACK1|P|2.6||||||UNICODE UTF-8\rMSA|AA|MSG00042\r");
  BOOST_TEST(AckField(ack, 1, 2) == "MSG00042");
}

BOOST_AUTO_TEST_CASE(error_and_reject_codes_per_mode) {
  const AckHeader original = HeaderOf(kOru);
  BOOST_TEST(AckField(BuildAck(original, Content(AckCode::kError)), 1, 1) == "AE");
  BOOST_TEST(AckField(BuildAck(original, Content(AckCode::kReject)), 1, 1) == "AR");

  AckHeader enhanced = HeaderOf(
      "MSH|^~\\&|GW|ICU|FB|HOSP|20240102030405||ORU^R01^ORU_R01|77|P|2.6|||AL|NE\rPID|1\r");
  BOOST_TEST(enhanced.enhanced_mode());
  const std::string ca = BuildAck(enhanced, Content(AckCode::kAccept));
  BOOST_TEST(ca ==
             "MSH|^~\\&|FB|HOSP|GW|ICU|20261121081334.123+0000||ACK^R01^ACK|ACK1|P|2.6|||NE|NE\r"
             "MSA|CA|77\r");
  BOOST_TEST(AckField(BuildAck(enhanced, Content(AckCode::kError)), 1, 1) == "CE");
  BOOST_TEST(AckField(BuildAck(enhanced, Content(AckCode::kReject)), 1, 1) == "CR");
}

BOOST_AUTO_TEST_CASE(msh15_and_msh16_decide_which_acks_are_sent) {
  AckHeader h = HeaderOf(kOru);
  for (AckCode code : {AckCode::kAccept, AckCode::kError, AckCode::kReject}) {
    const AckPlan plan = PlanAcks(h, code);  // original mode: one ACK, AA/AE/AR
    BOOST_TEST(!plan.accept);
    BOOST_TEST(plan.application);
  }
  const auto plan = [&h](std::string msh15, std::string msh16, AckCode code) {
    h.accept_ack_type = std::move(msh15);
    h.application_ack_type = std::move(msh16);
    const AckPlan p = PlanAcks(h, code);
    return std::string(p.accept ? "C" : "-") + (p.application ? "A" : "-");
  };
  BOOST_TEST(plan("AL", "NE", AckCode::kAccept) == "C-");
  BOOST_TEST(plan("AL", "", AckCode::kReject) == "C-");    // MSH-16 empty: NE
  BOOST_TEST(plan("NE", "AL", AckCode::kAccept) == "-A");  // IHE PCD gateways
  BOOST_TEST(plan("NE", "NE", AckCode::kError) == "--");
  BOOST_TEST(plan("AL", "AL", AckCode::kAccept) == "CA");
  BOOST_TEST(plan("ER", "AL", AckCode::kAccept) == "-A");
  BOOST_TEST(plan("ER", "SU", AckCode::kError) == "C-");
  BOOST_TEST(plan("SU", "ER", AckCode::kAccept) == "C-");
  BOOST_TEST(plan("SU", "ER", AckCode::kReject) == "-A");
  BOOST_TEST(plan("", "AL", AckCode::kAccept) == "CA");  // MSH-15 empty: AL
  BOOST_TEST(plan("XX", "AL", AckCode::kAccept) == "-A");
}

BOOST_AUTO_TEST_CASE(an_application_ack_in_enhanced_mode_uses_aa_codes) {
  const AckHeader h = HeaderOf(
      "MSH|^~\\&|GW|ICU|FB|HOSP|20240102030405||ORU^R01^ORU_R01|77|P|2.6|||NE|AL\rPID|1\r");
  AckContent c = Content(AckCode::kAccept);
  c.application = true;
  const std::string aa = BuildAck(h, c);
  BOOST_TEST(AckField(aa, 1, 1) == "AA");
  BOOST_TEST(AckField(aa, 0, 15) == "NE");  // the ACK itself is not to be acknowledged
  c.code = AckCode::kReject;
  BOOST_TEST(AckField(BuildAck(h, c), 1, 1) == "AR");
}

BOOST_AUTO_TEST_CASE(uses_the_senders_delimiters_and_escape_character) {
  // Field '!', component '@', repetition '~', escape '$', subcomponent '%', v2.7 truncation '#'.
  const AckHeader h = HeaderOf("MSH!@~$%#!GW!ICU!FB!!20240102!!ORU@R01!X9!T!2.7\rPID!1\r");
  BOOST_TEST(h.delimiters.field == '!');
  BOOST_TEST(h.delimiters.escape == '$');
  BOOST_TEST(h.delimiters.truncation == '#');
  AckContent c = Content(AckCode::kError);
  c.error =
      AckError{"OBX", 2, 5, 0, ErrorCondition::kDataType, ErrorSeverity::kError, "a!b@c~d$e%f#g|h"};
  const std::string ack = BuildAck(h, c);
  BOOST_TEST(ack ==
             "MSH!@~$%#!FB!!GW!ICU!20261121081334.123+0000!!ACK@R01@ACK!ACK1!T!2.7\r"
             "MSA!AE!X9\r"
             "ERR!!OBX@2@5!102@Data type error@HL70357!E!!!!a$F$b$S$c$R$d$E$e$T$f$P$g|h\r");
  BOOST_TEST(AckField(ack, 2, 4) == "E");
}

BOOST_AUTO_TEST_CASE(err_segment_from_v25_on) {
  AckContent c = Content(AckCode::kReject);
  c.error = AckError{"MSH",
                     1,
                     9,
                     2,
                     ErrorCondition::kUnsupportedEventCode,
                     ErrorSeverity::kError,
                     "event A01 is not accepted"};
  const std::string ack = BuildAck(HeaderOf(kOru), c);
  auto parsed = Parse(ack);
  BOOST_REQUIRE(parsed.ok());
  const Segment err = parsed->segment(2);
  BOOST_TEST(err.id() == "ERR");
  BOOST_TEST(err.field(1).raw() == "");
  BOOST_TEST(err.field(2).raw() == "MSH^1^9^^2");
  BOOST_TEST(err.field(3).raw() == "201^Unsupported event code^HL70357");
  BOOST_TEST(err.field(4).raw() == "E");
  BOOST_TEST(*err.field(8).Text() == "event A01 is not accepted");
  BOOST_TEST(parsed->segment(1).field_count() == 2u);  // no MSA-3 from v2.5 on
}

BOOST_AUTO_TEST_CASE(err_without_a_location_leaves_err2_empty) {
  AckContent c = Content(AckCode::kError);
  c.error = AckError{};
  c.error->text = "not stored";
  const std::string ack = BuildAck(HeaderOf(kOru), c);
  BOOST_TEST(AckField(ack, 2, 2) == "");
  BOOST_TEST(AckField(ack, 2, 3) == "207^Application internal error^HL70357");
}

BOOST_AUTO_TEST_CASE(before_v25_err1_and_msa3_carry_the_error) {
  const AckHeader h = HeaderOf("MSH|^~\\&|GW|ICU|FB|HOSP|2024||ORU^R01|C1|P|2.3.1\rPID|1\r");
  AckContent c = Content(AckCode::kError);
  c.error = AckError{
      "PID", 1, 7, 0, ErrorCondition::kDataType, ErrorSeverity::kError, "PID[1]-7: bad date"};
  const std::string ack = BuildAck(h, c);
  BOOST_TEST(ack ==
             "MSH|^~\\&|FB|HOSP|GW|ICU|20261121081334.123+0000||ACK^R01^ACK|ACK1|P|2.3.1\r"
             "MSA|AE|C1|PID[1]-7: bad date\r"
             "ERR|PID^1^7^102&Data type error&HL70357\r");
}

BOOST_AUTO_TEST_CASE(unreadable_header_gives_a_default_ack) {
  for (std::string_view raw : {"", "garbage", "PID|1\r", "MSH", "MSHA^~\\&|", "MSH|^~\r",
                               "MSH|^~\\&^|A\r", "MSH|^~\\&!?|A\r"}) {
    BOOST_TEST(!ReadAckHeader(raw).ok(), raw);
  }
  const std::string ack = BuildAck(AckHeader{}, Content(AckCode::kReject));
  BOOST_TEST(ack == "MSH|^~\\&|||||20261121081334.123+0000||ACK|ACK1|P|2.5\rMSA|AR|\r");
  BOOST_TEST(Parse(ack).ok());
}

BOOST_AUTO_TEST_CASE(header_survives_a_broken_body_and_missing_fields) {
  // The body is garbage for the parser; the header is still readable.
  const AckHeader h = HeaderOf("MSH|^~\\&|A||||||ORU^R01|C7\rP\x01X|||\r");
  BOOST_TEST(h.control_id == "C7");
  BOOST_TEST(h.type_and_trigger() == "ORU^R01");
  BOOST_TEST(h.version == "");
  BOOST_TEST(h.charset == "");
  const std::string ack = BuildAck(h, AckContent{});
  BOOST_TEST(AckField(ack, 0, 12) == "2.5");  // no version sent: ours
  BOOST_TEST(AckField(ack, 0, 10) == "AC7");  // derived control id
  BOOST_TEST(AckField(ack, 1, 2) == "C7");
}

BOOST_AUTO_TEST_CASE(fields_with_control_bytes_or_too_long_are_not_echoed) {
  const std::string long_id(kMaxAckFieldBytes + 1, '7');
  const AckHeader h = HeaderOf("MSH|^~\\&|A\x0B|F|||||ORU^R01|" + long_id + "|P|2.5\r");
  BOOST_TEST(h.sending_application == "");
  BOOST_TEST(h.sending_facility == "F");
  BOOST_TEST(h.control_id == "");
  const std::string ok_id(kMaxAckFieldBytes, '7');
  BOOST_TEST(HeaderOf("MSH|^~\\&|||||||ORU^R01|" + ok_id + "|P|2.5\r").control_id == ok_id);
}

BOOST_AUTO_TEST_CASE(escape_text_replaces_non_printable_bytes) {
  BOOST_TEST(EscapeText("a\tb\xC3\xA9|", Delimiters{}) == "a?b??\\F\\");
  BOOST_TEST(EscapeText("x\\y", Delimiters{}) == "x\\E\\y");
}

BOOST_AUTO_TEST_CASE(parse_errors_become_err_locations) {
  const auto error_of = [](std::string_view raw) {
    auto r = Parse(raw);
    BOOST_REQUIRE(!r.ok());
    return AckErrorFromParseStatus(r.status());
  };
  const AckError charset = error_of("MSH|^~\\&|A||||||ORU^R01|1|P|2.6||||||KLINGON\r");
  BOOST_TEST(charset.segment == "MSH");
  BOOST_TEST(charset.field == 18u);
  BOOST_TEST(charset.sequence == 1u);
  BOOST_TEST((charset.condition == ErrorCondition::kDataType));
  BOOST_TEST(charset.text.rfind("MSH-18: ", 0) == 0u);

  const AckError control = error_of("MSH|^~\\&|A\rPID|1\rPID|2|x\x01y\r");
  BOOST_TEST(control.segment == "PID");
  BOOST_TEST(control.sequence == 2u);
  BOOST_TEST(control.field == 2u);

  const AckError sequence = error_of("MSH|^~\\&|A\rpid|1\r");
  BOOST_TEST(sequence.segment == "");
  BOOST_TEST((sequence.condition == ErrorCondition::kSegmentSequence));

  ParseLimits limits;
  limits.max_segments = 1;
  auto r = Parse("MSH|^~\\&|A\rPID|1\r", limits);
  BOOST_REQUIRE(!r.ok());
  const AckError limit = AckErrorFromParseStatus(r.status());
  BOOST_TEST(limit.segment == "");
  BOOST_TEST(limit.text == r.status().message());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::hl7v2
