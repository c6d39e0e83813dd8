// Splitting files into messages: MLLP frames, blank lines, consecutive MSH, stray bytes.

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "connectors/hl7v2/er7.h"
#include "connectors/hl7v2/framing.h"

namespace fhirbridge::hl7v2 {
namespace {

constexpr std::string_view kA = "MSH|^~\\&|A\rPID|1\r";
constexpr std::string_view kB = "MSH|^~\\&|B\rPID|2\rOBX|1\r";

std::string Frame(std::string_view message) { return "\x0B" + std::string(message) + "\x1C\r"; }

bool IsViewInto(std::string_view view, std::string_view input) {
  return view.data() >= input.data() && view.data() + view.size() <= input.data() + input.size();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(framing)

BOOST_AUTO_TEST_CASE(empty_and_whitespace_inputs_have_no_messages) {
  for (std::string_view input : {"", " ", "\r\n\r\n", "\t \n"}) {
    const SplitResult r = SplitMessagesReporting(input);
    BOOST_TEST(r.messages.empty());
    BOOST_TEST(r.problems.empty());
  }
}

BOOST_AUTO_TEST_CASE(one_unframed_message) {
  const std::string input = std::string(kA);
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_REQUIRE(r.messages.size() == 1u);
  BOOST_TEST(r.messages[0] == kA);
  BOOST_TEST(IsViewInto(r.messages[0], input));
  BOOST_TEST(r.problems.empty());
  // No final terminator.
  BOOST_TEST(SplitMessages("MSH|^~\\&|A\rPID|1")[0] == "MSH|^~\\&|A\rPID|1");
}

BOOST_AUTO_TEST_CASE(consecutive_messages_split_at_msh_on_a_new_line) {
  for (std::string_view term : {"\r", "\n", "\r\n"}) {
    std::string a = "MSH|^~\\&|A" + std::string(term) + "PID|1" + std::string(term);
    std::string b = "MSH|^~\\&|B" + std::string(term) + "OBX|1|MSH" + std::string(term);
    const std::string input = a + b;
    const SplitResult r = SplitMessagesReporting(input);
    BOOST_REQUIRE(r.messages.size() == 2u);
    BOOST_TEST(r.messages[0] == a);
    BOOST_TEST(r.messages[1] == b);
    BOOST_TEST(r.problems.empty());
  }
}

BOOST_AUTO_TEST_CASE(messages_separated_by_blank_lines) {
  const std::string input = "\r\n" + std::string(kA) + "\r\n  \r\n\n" + std::string(kB) + "\n\n";
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_REQUIRE(r.messages.size() == 2u);
  BOOST_TEST(r.messages[0] == kA);  // trailing blank lines are not part of the message
  BOOST_TEST(r.messages[1] == std::string(kB) + "\n");  // its last CR LF is one terminator
  BOOST_TEST(r.problems.empty());
  // CRLF terminators: the message keeps its last CRLF.
  const std::string crlf = "MSH|^~\\&|A\r\nPID|1\r\n\r\nMSH|^~\\&|B\r\n";
  const auto messages = SplitMessages(crlf);
  BOOST_REQUIRE(messages.size() == 2u);
  BOOST_TEST(messages[0] == "MSH|^~\\&|A\r\nPID|1\r\n");
  BOOST_TEST(messages[1] == "MSH|^~\\&|B\r\n");
}

BOOST_AUTO_TEST_CASE(a_blank_line_inside_a_message_does_not_split_it) {
  const std::string input = "MSH|^~\\&|A\r\rPID|1\r";
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_REQUIRE(r.messages.size() == 1u);
  BOOST_TEST(r.messages[0] == input);
  BOOST_TEST(Parse(r.messages[0]).ok());
}

BOOST_AUTO_TEST_CASE(mllp_frames) {
  const std::string input = Frame(kA) + "\n" + Frame(kB) + Frame(kA);
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_REQUIRE(r.messages.size() == 3u);
  BOOST_TEST(r.messages[0] == kA);
  BOOST_TEST(r.messages[1] == kB);
  BOOST_TEST(r.messages[2] == kA);
  BOOST_TEST(r.problems.empty());
  for (auto m : r.messages) BOOST_TEST(IsViewInto(m, input));
}

BOOST_AUTO_TEST_CASE(framed_and_unframed_mixed) {
  const std::string input = std::string(kA) + Frame(kB) + "\r\n" + std::string(kA);
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_REQUIRE(r.messages.size() == 3u);
  BOOST_TEST(r.messages[0] == kA);
  BOOST_TEST(r.messages[1] == kB);
  BOOST_TEST(r.messages[2] == kA);
  BOOST_TEST(r.problems.empty());
}

BOOST_AUTO_TEST_CASE(frame_end_without_cr_is_reported_but_kept) {
  const std::string input = "\x0B" + std::string(kA) + "\x1C" + Frame(kB);
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_REQUIRE(r.messages.size() == 2u);
  BOOST_REQUIRE(r.problems.size() == 1u);
  BOOST_TEST(r.problems[0].offset == kA.size() + 1);
  BOOST_TEST(r.problems[0].reason == "MLLP end block 0x1C is not followed by 0x0D");
}

BOOST_AUTO_TEST_CASE(unterminated_frames_are_reported_and_not_returned) {
  const std::string at_end = Frame(kA) + "\x0B" + std::string(kB);
  SplitResult r = SplitMessagesReporting(at_end);
  BOOST_REQUIRE(r.messages.size() == 1u);
  BOOST_REQUIRE(r.problems.size() == 1u);
  BOOST_TEST(r.problems[0].offset == kA.size() + 3);
  BOOST_TEST(r.problems[0].length == kB.size() + 1);
  BOOST_TEST(r.problems[0].reason == "MLLP frame is not terminated (no 0x1C before the end)");

  const std::string restarted = "\x0BMSH|^~\\&|cut" + Frame(kB);
  r = SplitMessagesReporting(restarted);
  BOOST_REQUIRE(r.messages.size() == 1u);
  BOOST_TEST(r.messages[0] == kB);
  BOOST_REQUIRE(r.problems.size() == 1u);
  BOOST_TEST(r.problems[0].offset == 0u);
  BOOST_TEST(r.problems[0].reason ==
             "MLLP frame is not terminated (a new frame starts at offset 13)");
}

BOOST_AUTO_TEST_CASE(empty_frames_are_reported) {
  const std::string input = "\x0B\x1C\r\x0B\r\n\x1C\r";
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_TEST(r.messages.empty());
  BOOST_REQUIRE(r.problems.size() == 2u);
  BOOST_TEST(r.problems[0].reason == "empty MLLP frame");
  BOOST_TEST(r.problems[1].offset == 3u);
}

BOOST_AUTO_TEST_CASE(stray_bytes_are_reported_with_offset_and_length) {
  const std::string input =
      "garbage here\r\n" + std::string(kA) + Frame(kB) + "junk\n" + std::string(kA);
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_REQUIRE(r.messages.size() == 3u);
  BOOST_TEST(r.messages[0] == kA);
  BOOST_TEST(r.messages[1] == kB);
  BOOST_TEST(r.messages[2] == kA);
  BOOST_REQUIRE(r.problems.size() == 2u);
  BOOST_TEST(r.problems[0].offset == 0u);
  BOOST_TEST(r.problems[0].length == 12u);
  BOOST_TEST(r.problems[0].reason ==
             "bytes outside any message (not in an MLLP frame and not starting with MSH)");
  BOOST_TEST(r.problems[1].offset == 14 + kA.size() + kB.size() + 3);
  BOOST_TEST(r.problems[1].length == 4u);
  BOOST_TEST(r.problems[0].reason.find("garbage") == std::string::npos);  // never the bytes
  BOOST_TEST(SplitMessages(input).size() == 3u);
}

BOOST_AUTO_TEST_CASE(stray_end_block_is_reported) {
  const std::string input = std::string(kA) + "\x1C\r" + std::string(kB);
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_REQUIRE(r.messages.size() == 2u);
  BOOST_TEST(r.messages[0] == kA);
  BOOST_REQUIRE(r.problems.size() == 1u);
  BOOST_TEST(r.problems[0].offset == kA.size());
  BOOST_TEST(r.problems[0].reason == "MLLP end block 0x1C without a start block 0x0B");
}

BOOST_AUTO_TEST_CASE(start_block_ends_an_unframed_message) {
  const std::string input = "MSH|^~\\&|A\rPID|1" + Frame(kB);
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_REQUIRE(r.messages.size() == 2u);
  BOOST_TEST(r.messages[0] == "MSH|^~\\&|A\rPID|1");
  BOOST_TEST(r.messages[1] == kB);
}

BOOST_AUTO_TEST_CASE(byte_order_mark_is_skipped) {
  const std::string input = "\xEF\xBB\xBF" + std::string(kA);
  const SplitResult r = SplitMessagesReporting(input);
  BOOST_REQUIRE(r.messages.size() == 1u);
  BOOST_TEST(r.messages[0] == kA);
  BOOST_TEST(r.problems.empty());
}

BOOST_AUTO_TEST_CASE(shared_messages_concatenated_split_back) {
  const std::filesystem::path dir = FHIRBRIDGE_SHARED_DIR "/data/hl7v2";
  std::map<std::string, std::string> files;  // sorted by name
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".hl7") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    files[entry.path().filename().string()] = out.str();
  }
  BOOST_REQUIRE(files.size() >= 25u);
  std::string plain;
  std::string framed;
  for (const auto& [name, bytes] : files) {
    plain += bytes + "\n";  // some files have no final terminator
    framed += Frame(bytes) + "\n";
  }
  for (const std::string* input : {&plain, &framed}) {
    const SplitResult r = SplitMessagesReporting(*input);
    BOOST_TEST(r.problems.empty());
    BOOST_REQUIRE(r.messages.size() == files.size());
    std::size_t i = 0;
    for (const auto& [name, bytes] : files) {
      BOOST_TEST_CONTEXT(name) {
        auto parsed = Parse(r.messages[i]);
        BOOST_TEST(parsed.ok(), parsed.status().ToString());
        if (input == &framed) BOOST_TEST(r.messages[i] == bytes);
      }
      ++i;
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::hl7v2
