// ER7 parser: structure, delimiters, terminators, segment ids, locations and the shared sample
// messages. Limits and robustness: er7_limits_test.cpp; text and charsets: er7_text_test.cpp.

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <optional>
#include <string>

#include "connectors/hl7v2/er7.h"
#include "connectors/hl7v2/er7_test_util.h"

BOOST_TEST_DONT_PRINT_LOG_VALUE(fhirbridge::hl7v2::Charset)

namespace fhirbridge::hl7v2 {

using testing::ErrorOf;
using testing::Join;
using testing::kMsh;
using testing::ReadFile;
using testing::SharedFile;

BOOST_AUTO_TEST_SUITE(er7_structure)

BOOST_AUTO_TEST_CASE(parses_segments_fields_and_msh_shortcuts) {
  const std::string bytes = Join({kMsh, "PID|||12345^^^HOSP^MR||Doe^John", "OBR|1",
                                  "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|98",
                                  "OBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.1.1.2|72"});
  auto r = Parse(bytes);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  const ParsedMessage& m = *r;
  BOOST_TEST(m.segment_count() == 5u);
  BOOST_TEST(m.segment(1).id() == "PID");
  BOOST_TEST(m.segment(4).occurrence() == 2u);
  BOOST_TEST(m.segment(4).field(5).raw() == "72");
  BOOST_TEST(m.segment(1).field(5).component(2).raw() == "John");
  BOOST_TEST(m.message_type() == "ORU");
  BOOST_TEST(m.trigger_event() == "R01");
  BOOST_TEST(m.control_id() == "CTRL1");
  BOOST_TEST(m.version() == "2.6");
  BOOST_TEST(m.charset() == Charset::kAscii);
  BOOST_TEST(m.raw() == bytes);
  BOOST_TEST(m.segment(2).raw() == "OBR|1");
}

BOOST_AUTO_TEST_CASE(msh_1_is_the_separator_and_msh_2_is_not_split) {
  const std::string r_bytes = Join({kMsh});
  auto r = Parse(r_bytes);
  BOOST_REQUIRE(r.ok());
  const Segment msh = r->segment(0);
  BOOST_TEST(msh.field(1).raw() == "|");
  BOOST_TEST(msh.field(2).raw() == "^~\\&");
  BOOST_TEST(msh.field(2).component_count() == 1u);
  BOOST_TEST(msh.field(2).repetition_count() == 1u);
  BOOST_TEST(msh.field(2).component(1).raw() == "^~\\&");
  BOOST_TEST(msh.field(2).Text().value() == "^~\\&");
  BOOST_TEST(msh.field(3).raw() == "MON");
  BOOST_TEST(msh.field(9).raw() == "ORU^R01^ORU_R01");
  BOOST_TEST(msh.field_count() == 12u);
  BOOST_TEST(msh.occurrence() == 1u);
}

BOOST_AUTO_TEST_CASE(other_segments_number_fields_after_the_id) {
  const std::string r_bytes = Join({kMsh, "NTE|1||note|", "ZZ9", "PV1"});
  auto r = Parse(r_bytes);
  BOOST_REQUIRE(r.ok());
  const Segment nte = r->segment(1);
  BOOST_TEST(nte.field(0).raw() == "NTE");
  BOOST_TEST(nte.field(1).raw() == "1");
  BOOST_TEST(nte.field(2).empty());
  BOOST_TEST(nte.field(3).raw() == "note");
  BOOST_TEST(nte.field_count() == 4u);  // the trailing separator opens an empty field 4
  BOOST_TEST(nte.field(4).empty());
  BOOST_TEST(nte.field(99).empty());
  BOOST_TEST(nte.field(99).location().ToString() == "NTE[1]-99");
  BOOST_TEST(r->segment(2).id() == "ZZ9");
  BOOST_TEST(r->segment(2).field_count() == 0u);
  BOOST_TEST(r->segment(3).field(1).empty());
}

BOOST_AUTO_TEST_CASE(out_of_range_segment_is_empty) {
  const std::string r_bytes = Join({kMsh});
  auto r = Parse(r_bytes);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->segment(7).id().empty());
  BOOST_TEST(r->segment(7).field_count() == 0u);
  BOOST_TEST(r->segment(7).field(3).empty());
}

BOOST_AUTO_TEST_CASE(find_returns_the_first_segment_with_an_id) {
  const std::string r_bytes = Join({kMsh, "OBX|1", "OBX|2"});
  auto r = Parse(r_bytes);
  BOOST_REQUIRE(r.ok());
  auto obx = r->Find("OBX");
  BOOST_REQUIRE(obx.has_value());
  BOOST_TEST(obx->field(1).raw() == "1");
  BOOST_TEST(!r->Find("PID").has_value());
}

BOOST_AUTO_TEST_CASE(four_and_five_encoding_characters) {
  const std::string four_bytes = Join({"MSH|^~\\&|A", "MSA|AA|1"});
  auto four = Parse(four_bytes);
  BOOST_REQUIRE(four.ok());
  BOOST_TEST(four->delimiters().truncation == '\0');
  const std::string five_bytes = SharedFile("17_");
  auto five = Parse(five_bytes);
  BOOST_REQUIRE_MESSAGE(five.ok(), five.status().ToString());
  BOOST_TEST(five->delimiters().truncation == '#');
  BOOST_TEST(five->delimiters().subcomponent == '&');
  BOOST_TEST(five->segment(0).field(2).raw() == "^~\\&#");
  BOOST_TEST(five->message_type() == "ACK");
  BOOST_TEST(five->trigger_event() == "R40");
  BOOST_TEST(five->version() == "2.7");
  BOOST_TEST(five->segment(1).field(2).raw() == "2df8823a-f8fb-44e0-a4ba-1d826e0809f1");
}

BOOST_AUTO_TEST_CASE(non_standard_delimiters) {
  const std::string r_bytes =
      Join({"MSH#$%*@#APP#FAC###20240101##ORU$R01#1#P#2.5", "PID###a@b$c%d$e"});
  auto r = Parse(r_bytes);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  const Delimiters& d = r->delimiters();
  BOOST_TEST(d.field == '#');
  BOOST_TEST(d.component == '$');
  BOOST_TEST(d.repetition == '%');
  BOOST_TEST(d.escape == '*');
  BOOST_TEST(d.subcomponent == '@');
  BOOST_TEST(r->message_type() == "ORU");
  BOOST_TEST(r->trigger_event() == "R01");
  const Element pid3 = r->segment(1).field(3);
  BOOST_TEST(pid3.repetition_count() == 2u);
  BOOST_TEST(pid3.component(1).subcomponent(2).raw() == "b");
  BOOST_TEST(pid3.component(2).raw() == "c");
  BOOST_TEST(pid3.repetition(2).component(2).raw() == "e");
}

BOOST_AUTO_TEST_CASE(msh_2_too_short_or_too_long) {
  BOOST_TEST(ErrorOf("MSH|^~|A\r").rfind("MSH-2: 2 encoding characters", 0) == 0u);
  BOOST_TEST(ErrorOf("MSH|^~\\\r").rfind("MSH-2: 3 encoding characters", 0) == 0u);
  BOOST_TEST(ErrorOf("MSH|").rfind("MSH-2: 0 encoding characters", 0) == 0u);
  BOOST_TEST(ErrorOf("MSH|^~").rfind("MSH-2: 2", 0) == 0u);
  BOOST_TEST(ErrorOf("MSH|^~\\&#!|A").rfind("MSH-2: more than 5", 0) == 0u);
  BOOST_TEST(Parse("MSH|^~\\&#|A").ok());
  BOOST_TEST(Parse("MSH|^~\\&").ok());
}

BOOST_AUTO_TEST_CASE(delimiters_must_be_distinct_printable_and_not_alphanumeric) {
  BOOST_TEST(ErrorOf("MSH|^^\\&|A") ==
             "MSH-2: the repetition separator '^' is also the component separator");
  BOOST_TEST(ErrorOf("MSH|^~\\||A").rfind("MSH-2: ", 0) == 0u);  // '|' ends MSH-2: too short
  BOOST_TEST(ErrorOf("MSH|^~\\&^|A") ==
             "MSH-2: the truncation character '^' is also the component separator");
  BOOST_TEST(
      ErrorOf("MSH|^~\\A|A").rfind("MSH-2: byte 0x41 cannot be the subcomponent separator", 0) ==
      0u);
  BOOST_TEST(ErrorOf("MSH|^~ &|A").rfind("MSH-2: byte 0x20", 0) == 0u);
  BOOST_TEST(ErrorOf("MSHA^~\\&").rfind("MSH-1: byte 0x41 cannot be the field separator", 0) == 0u);
  BOOST_TEST(ErrorOf("MSH\r^~\\&").rfind("MSH-1: byte 0x0D", 0) == 0u);
  BOOST_TEST(ErrorOf("MSH\n").rfind("MSH-1: byte 0x0A", 0) == 0u);
  BOOST_TEST(ErrorOf("MSH\xE9^~\\&").rfind("MSH-1: byte 0xE9", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(message_must_start_with_msh) {
  BOOST_TEST(ErrorOf("") == "message: does not start with MSH");
  BOOST_TEST(ErrorOf("MS") == "message: does not start with MSH");
  BOOST_TEST(ErrorOf("msh|^~\\&") == "message: does not start with MSH");
  BOOST_TEST(ErrorOf("\rMSH|^~\\&") == "message: does not start with MSH");
  BOOST_TEST(ErrorOf("PID|1\r") == "message: does not start with MSH");
  BOOST_TEST(ErrorOf("MSH") == "MSH-1: missing, the message ends after 'MSH'");
}

BOOST_AUTO_TEST_CASE(cr_lf_crlf_and_mixed_terminators_give_the_same_segments) {
  const std::initializer_list<std::string_view> segments = {kMsh, "PID|1||X", "OBX|1|NM|a|b|5"};
  for (std::string_view term : {"\r", "\n", "\r\n", "\r\r", "\n\r\n"}) {
    const std::string r_bytes = Join(segments, term);
    auto r = Parse(r_bytes);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    BOOST_TEST(r->segment_count() == 3u);
    BOOST_TEST(r->segment(2).field(5).raw() == "5");
    BOOST_TEST(r->segment(2).raw() == "OBX|1|NM|a|b|5");
  }
  const std::string mixed_bytes = std::string(kMsh) + "\rPID|1\nPV1|2\r\nOBX|3";
  auto mixed = Parse(mixed_bytes);
  BOOST_REQUIRE(mixed.ok());
  BOOST_TEST(mixed->segment_count() == 4u);
  BOOST_TEST(mixed->segment(3).field(1).raw() == "3");  // no terminator after the last segment
}

BOOST_AUTO_TEST_CASE(empty_lines_and_trailing_whitespace_are_skipped) {
  const std::string bytes = std::string(kMsh) + "\r\r\n\rPID|1\r  \t\rOBX|1\r\n\r\n  \n\t";
  auto r = Parse(bytes);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  BOOST_TEST(r->segment_count() == 3u);
  BOOST_TEST(r->segment(2).id() == "OBX");
  BOOST_TEST(r->segment(2).raw() == "OBX|1");
}

BOOST_AUTO_TEST_CASE(segment_ids_are_checked_with_their_position) {
  BOOST_TEST(ErrorOf(Join({kMsh, "PID|1", "OBR|1", "Xy|1"})) ==
             "segment 4: 'Xy' is not a segment id (byte " + std::to_string(kMsh.size() + 13) + ")");
  BOOST_TEST(ErrorOf(Join({kMsh, "pid|1"})).rfind("segment 2: 'pid' is not a segment id", 0) == 0u);
  BOOST_TEST(ErrorOf(Join({kMsh, "1ID|1"})).rfind("segment 2: '1ID'", 0) == 0u);
  BOOST_TEST(ErrorOf(Join({kMsh, "PIDX|1"})).rfind("segment 2: 'PIDX' is not", 0) == 0u);
  BOOST_TEST(ErrorOf(Join({kMsh, "PI"})).rfind("segment 2: 'PI' is not", 0) == 0u);
  BOOST_TEST(ErrorOf(Join({kMsh, " PID|1"})).rfind("segment 2: ' PID' is not", 0) == 0u);
  BOOST_TEST(ErrorOf(Join({kMsh, "|PID"})).rfind("segment 2: '' is not", 0) == 0u);
  // A value broken by a line feed: at most 4 bytes of it are shown, never the rest.
  BOOST_TEST(ErrorOf(Join({kMsh, "OBX|1|TX|||first line", "second line of a note"}))
                 .rfind("segment 3: 'seco...' is not a segment id", 0) == 0u);
  // Blank lines do not count as segments.
  BOOST_TEST(ErrorOf(Join({kMsh, "", "  ", "X"})).rfind("segment 2: 'X'", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(a_second_msh_is_refused) {
  const std::string glued = Join({kMsh, "PID|1", kMsh, "PID|2"});
  BOOST_TEST(ErrorOf(glued).rfind("segment 3: a second MSH", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(repetitions_components_subcomponents) {
  const std::string r_bytes = Join({kMsh, "PID|||111^^^A&1.2.3&ISO^MR~222^^^B^PI||Doe^John^^^^^L"});
  auto r = Parse(r_bytes);
  BOOST_REQUIRE(r.ok());
  const Element pid3 = r->segment(1).field(3);
  BOOST_TEST(pid3.repetition_count() == 2u);
  BOOST_TEST(pid3.component_count() == 5u);  // of the first repetition
  BOOST_TEST(pid3.component(1).raw() == "111");
  BOOST_TEST(pid3.component(4).subcomponent_count() == 3u);
  BOOST_TEST(pid3.component(4).subcomponent(2).raw() == "1.2.3");
  BOOST_TEST(pid3.component(4).subcomponent(4).empty());
  BOOST_TEST(pid3.subcomponent(1).raw() == "111");
  BOOST_TEST(pid3.subcomponent_count() == 1u);
  const Element second = pid3.repetition(2);
  BOOST_TEST(second.raw() == "222^^^B^PI");
  BOOST_TEST(second.component(5).raw() == "PI");
  BOOST_TEST(second.repetition_count() == 1u);
  BOOST_TEST(second.repetition(1).raw() == second.raw());
  BOOST_TEST(pid3.repetition(3).empty());
  BOOST_TEST(pid3.repetition(0).empty());
  BOOST_TEST(pid3.component(0).empty());
  const Element name = r->segment(1).field(5);
  BOOST_TEST(name.repetition_count() == 1u);
  BOOST_TEST(name.repetition(1).raw() == name.raw());
  BOOST_TEST(name.component_count() == 7u);
  const Element given = name.component(2);
  BOOST_TEST(given.component_count() == 1u);
  BOOST_TEST(given.component(1).raw() == "John");
  BOOST_TEST(given.component(2).empty());
  BOOST_TEST(given.subcomponent(1).raw() == "John");
  BOOST_TEST(given.subcomponent(1).subcomponent(1).raw() == "John");
  BOOST_TEST(given.subcomponent(1).subcomponent(2).empty());
  BOOST_TEST(r->segment(1).field(1).component_count() == 0u);
  BOOST_TEST(r->segment(1).field(1).repetition_count() == 0u);
}

BOOST_AUTO_TEST_CASE(null_and_empty_differ) {
  const std::string r_bytes = Join({kMsh, "PID|\"\"||x^\"\"^"});
  auto r = Parse(r_bytes);
  BOOST_REQUIRE(r.ok());
  const Segment pid = r->segment(1);
  BOOST_TEST(pid.field(1).is_null());
  BOOST_TEST(!pid.field(1).empty());
  BOOST_TEST(!pid.field(1).has_value());
  BOOST_TEST(pid.field(2).empty());
  BOOST_TEST(!pid.field(2).is_null());
  BOOST_TEST(!pid.field(2).has_value());
  BOOST_TEST(pid.field(3).has_value());
  BOOST_TEST(pid.field(3).component(2).is_null());
  BOOST_TEST(pid.field(3).component(3).empty());
  BOOST_TEST(pid.field(1).Text().value() == "");
  BOOST_TEST(Element().empty());
  BOOST_TEST(Element().component(1).empty());
  BOOST_TEST(Element().Text().value() == "");
}

BOOST_AUTO_TEST_CASE(location_strings) {
  Location loc;
  BOOST_TEST(loc.ToString() == "message");
  loc.segment = "OBX";
  loc.occurrence = 3;
  BOOST_TEST(loc.ToString() == "OBX[3]");
  loc.field = 5;
  BOOST_TEST(loc.ToString() == "OBX[3]-5");
  loc.component = 1;
  BOOST_TEST(loc.ToString() == "OBX[3]-5.1");
  loc.subcomponent = 2;
  BOOST_TEST(loc.ToString() == "OBX[3]-5.1.2");
  loc.repetition = 1;
  BOOST_TEST(loc.ToString() == "OBX[3]-5.1.2");
  loc.repetition = 2;
  BOOST_TEST(loc.ToString() == "OBX[3]-5[2].1.2");
  Location msh;
  msh.segment = "MSH";
  msh.occurrence = 1;
  msh.field = 9;
  BOOST_TEST(msh.ToString() == "MSH-9");
}

BOOST_AUTO_TEST_CASE(elements_carry_their_location) {
  const std::string r_bytes =
      Join({kMsh, "PID|||1^^^A&B~2^^^C", "OBX|1", "OBX|2", "OBX|3|NM|x^y&z"});
  auto r = Parse(r_bytes);
  BOOST_REQUIRE(r.ok());
  const Segment pid = r->segment(1);
  BOOST_TEST(pid.field(0).location().ToString() == "PID[1]");
  BOOST_TEST(pid.field(3).location().ToString() == "PID[1]-3");
  BOOST_TEST(pid.field(3).repetition(2).location().ToString() == "PID[1]-3[2]");
  BOOST_TEST(pid.field(3).repetition(2).component(1).location().ToString() == "PID[1]-3[2].1");
  BOOST_TEST(pid.field(3).repetition(1).component(4).location().ToString() == "PID[1]-3.4");
  BOOST_TEST(pid.field(3).component(4).subcomponent(2).location().ToString() == "PID[1]-3.4.2");
  BOOST_TEST(pid.field(3).subcomponent(1).location().ToString() == "PID[1]-3.1.1");
  const Segment obx3 = r->segment(4);
  BOOST_TEST(obx3.field(3).component(2).subcomponent(2).location().ToString() == "OBX[3]-3.2.2");
  BOOST_TEST(obx3.field(3).component(2).subcomponent(2).raw() == "z");
  BOOST_TEST(r->segment(0).field(9).component(2).location().ToString() == "MSH-9.2");
  BOOST_TEST(r->segment(0).field(1).location().ToString() == "MSH-1");
  BOOST_TEST(obx3.field(5).location().ToString() == "OBX[3]-5");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(er7_shared_messages)

BOOST_AUTO_TEST_CASE(every_shared_message_parses) {
  const std::filesystem::path dir = FHIRBRIDGE_SHARED_DIR "/data/hl7v2";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".hl7") continue;
    ++files;
    const std::string bytes = ReadFile(entry.path());
    auto r = Parse(bytes);
    BOOST_TEST_CONTEXT(entry.path().filename().string()) {
      BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
      BOOST_TEST(r->segment(0).id() == "MSH");
      BOOST_TEST(r->segment_count() >= 2u);
      BOOST_TEST(!r->message_type().empty());
      for (std::size_t s = 0; s < r->segment_count(); ++s) {
        const Segment seg = r->segment(s);
        for (std::size_t f = 1; f <= seg.field_count(); ++f) {
          const Element field = seg.field(f);
          for (std::size_t rep = 1; rep <= field.repetition_count(); ++rep) {
            for (std::size_t c = 1; c <= field.repetition(rep).component_count(); ++c) {
              auto text = field.repetition(rep).component(c).Text();
              BOOST_TEST(text.ok(), field.repetition(rep).component(c).location().ToString()
                                        << ": " << text.status().ToString());
            }
          }
        }
      }
    }
  }
  BOOST_TEST(files >= 25);
}

BOOST_AUTO_TEST_CASE(known_values_of_shared_messages) {
  const std::string pcd01 = SharedFile("01_");
  auto r = Parse(pcd01);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  BOOST_TEST(r->control_id() == "HP0122182658686QQ000CND119C0WS61");
  BOOST_TEST(r->charset() == Charset::kLatin1);
  std::size_t obx_count = 0;
  std::optional<Segment> obx4;
  for (std::size_t i = 0; i < r->segment_count(); ++i) {
    if (r->segment(i).id() != "OBX") continue;
    ++obx_count;
    BOOST_TEST(r->segment(i).occurrence() == obx_count);
    if (obx_count == 4) obx4 = r->segment(i);
  }
  BOOST_TEST(obx_count == 17u);
  BOOST_REQUIRE(obx4.has_value());
  BOOST_TEST(obx4->field(5).raw() == "117");
  BOOST_TEST(obx4->field(6).component(1).raw() == "266016");
  BOOST_TEST(obx4->field(6).component(1).location().ToString() == "OBX[4]-6.1");

  const std::string sll = SharedFile("36_");
  auto t5 = Parse(sll);
  BOOST_REQUIRE_MESSAGE(t5.ok(), t5.status().ToString());
  BOOST_TEST(t5->Find("OBX")->field(3).component(4).raw() == "149530");
  BOOST_TEST(t5->Find("OBX")->field(3).component(4).location().ToString() == "OBX[1]-3.4");

  const std::string crlf = SharedFile("15_");  // CRLF terminators
  auto draeger = Parse(crlf);
  BOOST_REQUIRE_MESSAGE(draeger.ok(), draeger.status().ToString());
  for (std::size_t i = 0; i < draeger->segment_count(); ++i) {
    BOOST_TEST(draeger->segment(i).raw().find_first_of("\r\n") == std::string_view::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::hl7v2
