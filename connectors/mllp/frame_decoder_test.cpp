// MllpFrameDecoder: frames, trailers, stray bytes, limits, and the same result for every way
// the bytes can be split into reads.

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "connectors/mllp/frame_decoder.h"

namespace fhirbridge::mllp {
namespace {

using Kind = MllpEvent::Kind;

std::string Frame(std::string_view content) { return "\x0B" + std::string(content) + "\x1C\r"; }

/// Events as comparable text: "F:<content>", "O:<size>:<head>", "A:<size>", "S:<size>".
std::vector<std::string> Describe(const std::vector<MllpEvent>& events) {
  std::vector<std::string> out;
  for (const MllpEvent& e : events) {
    switch (e.kind) {
      case Kind::kFrame:
        out.push_back("F:" + e.content);
        break;
      case Kind::kOversizedFrame:
        out.push_back("O:" + std::to_string(e.size) + ":" + e.content);
        break;
      case Kind::kAbandonedFrame:
        out.push_back("A:" + std::to_string(e.size));
        break;
      case Kind::kTooManyStrayBytes:
        out.push_back("S:" + std::to_string(e.size));
        break;
    }
  }
  return out;
}

std::vector<std::string> DecodeWhole(std::string_view input, MllpDecoderLimits limits = {}) {
  MllpFrameDecoder decoder(limits);
  std::vector<MllpEvent> events;
  decoder.Feed(input, events);
  return Describe(events);
}

/// Feeds `input` in reads cut at the given offsets (ascending).
std::vector<std::string> DecodeSplit(std::string_view input, const std::vector<std::size_t>& cuts,
                                     MllpDecoderLimits limits = {}) {
  MllpFrameDecoder decoder(limits);
  std::vector<MllpEvent> events;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    decoder.Feed(input.substr(from, cut - from), events);
    from = cut;
  }
  decoder.Feed(input.substr(from), events);
  return Describe(events);
}

/// Every split into two reads and every split into three reads gives `expected`.
void CheckAllSplits(std::string_view input, const std::vector<std::string>& expected,
                    MllpDecoderLimits limits = {}) {
  BOOST_TEST(DecodeWhole(input, limits) == expected, boost::test_tools::per_element());
  for (std::size_t i = 0; i <= input.size(); ++i) {
    BOOST_TEST_CONTEXT("split at " << i) {
      BOOST_TEST(DecodeSplit(input, {i}, limits) == expected, boost::test_tools::per_element());
    }
    // Three reads: every pair of cuts for short inputs (quadratic).
    for (std::size_t j = i; input.size() <= 200 && j <= input.size(); ++j) {
      if (DecodeSplit(input, {i, j}, limits) != expected) {
        BOOST_ERROR("splits at " << i << " and " << j << " differ");
      }
    }
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
  BOOST_TEST(DecodeSplit(input, every, limits) == expected, boost::test_tools::per_element());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mllp_frame_decoder)

BOOST_AUTO_TEST_CASE(one_frame) {
  CheckAllSplits(Frame("MSH|^~\\&|A\rPID|1\r"), {"F:MSH|^~\\&|A\rPID|1\r"});
}

BOOST_AUTO_TEST_CASE(several_frames_in_one_read_with_every_trailer) {
  // FS CR, FS CR LF, FS alone followed directly by VT, whitespace between frames.
  const std::string input = Frame("MSH|1") + "\x0BMSH|2\x1C\r\n" + "\x0BMSH|3\x1C" +
                            "\x0BMSH|4\x1C\r" + "\r\n \t" + Frame("MSH|5");
  CheckAllSplits(input, {"F:MSH|1", "F:MSH|2", "F:MSH|3", "F:MSH|4", "F:MSH|5"});
  MllpFrameDecoder decoder;
  std::vector<MllpEvent> events;
  decoder.Feed(input, events);
  BOOST_TEST(decoder.stray_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(a_frame_is_delivered_at_its_end_block_before_the_cr_arrives) {
  MllpFrameDecoder decoder;
  std::vector<MllpEvent> events;
  decoder.Feed("\x0BMSH|1\x1C", events);
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].content == "MSH|1");
  BOOST_TEST(!decoder.in_frame());
  decoder.Feed("\r", events);  // the trailer's CR: swallowed, not stray
  BOOST_TEST(events.size() == 1u);
  BOOST_TEST(decoder.stray_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(an_empty_frame_is_a_frame) { CheckAllSplits(Frame(""), {"F:"}); }

BOOST_AUTO_TEST_CASE(bytes_outside_frames_are_skipped_and_counted) {
  const std::string input = "garbage" + Frame("MSH|1") + "\x1C\x1C junk\n" + Frame("MSH|2") + "x";
  CheckAllSplits(input, {"F:MSH|1", "F:MSH|2"});
  MllpFrameDecoder decoder;
  std::vector<MllpEvent> events;
  decoder.Feed(input, events);
  BOOST_TEST(decoder.stray_bytes() == 7u + 2u + 4u + 1u);
  BOOST_TEST(!decoder.failed());
}

BOOST_AUTO_TEST_CASE(too_many_stray_bytes_in_a_row_gives_up_the_stream) {
  MllpDecoderLimits limits;
  limits.max_stray_bytes = 8;
  // 8 stray bytes before each frame are fine: the count starts again at every frame.
  CheckAllSplits("12345678" + Frame("A") + "12345678" + Frame("B"), {"F:A", "F:B"}, limits);
  // The 9th in a row is not; nothing after it is decoded.
  CheckAllSplits("123456789" + Frame("A"), {"S:9"}, limits);
  MllpFrameDecoder decoder(limits);
  std::vector<MllpEvent> events;
  decoder.Feed("1234 \r\n5678\x1C", events);  // whitespace is not stray
  BOOST_TEST(decoder.failed());
  decoder.Feed(Frame("A"), events);
  BOOST_TEST(Describe(events) == std::vector<std::string>{"S:9"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(frame_at_the_size_limit_is_accepted_and_one_byte_more_is_not) {
  MllpDecoderLimits limits;
  limits.max_frame_bytes = 10;
  limits.oversized_head_bytes = 4;
  CheckAllSplits(Frame("0123456789"), {"F:0123456789"}, limits);
  // Reported at once with its head; the rest up to the next VT is discarded, then decoding
  // goes on.
  CheckAllSplits(Frame("0123456789A") + Frame("ok"), {"O:11:0123", "F:ok"}, limits);
  // However it is read, an oversized frame reports limit + 1 bytes.
  CheckAllSplits(Frame(std::string(1000, 'x')) + "\r\n" + Frame("ok"), {"O:11:xxxx", "F:ok"},
                 limits);
}

BOOST_AUTO_TEST_CASE(an_oversized_frame_is_reported_before_its_end_arrives) {
  MllpDecoderLimits limits;
  limits.max_frame_bytes = 10;
  MllpFrameDecoder decoder(limits);
  std::vector<MllpEvent> events;
  decoder.Feed("\x0B" + std::string(11, 'y'), events);
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST((events[0].kind == Kind::kOversizedFrame));
  BOOST_TEST(events[0].content == std::string(10, 'y'));      // head capped at max_frame_bytes
  decoder.Feed(std::string(100000, 'y') + "\x1C\r", events);  // discarded, no memory kept
  BOOST_TEST(decoder.buffered_bytes() == 0u);
  BOOST_TEST(events.size() == 1u);
  BOOST_TEST(decoder.stray_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(a_start_block_inside_a_frame_abandons_it) {
  CheckAllSplits("\x0BMSH|cut\x0BMSH|2\x1C\r", {"A:7", "F:MSH|2"});
}

BOOST_AUTO_TEST_CASE(a_stream_ending_mid_frame_delivers_nothing) {
  const std::string input = Frame("MSH|1") + "\x0BMSH|2 never finished";
  MllpFrameDecoder decoder;
  std::vector<MllpEvent> events;
  decoder.Feed(input, events);
  BOOST_TEST(Describe(events) == std::vector<std::string>{"F:MSH|1"},
             boost::test_tools::per_element());
  BOOST_TEST(decoder.in_frame());
  BOOST_TEST(decoder.buffered_bytes() == 20u);
}

BOOST_AUTO_TEST_CASE(a_mixed_stream_decodes_the_same_for_every_split) {
  MllpDecoderLimits limits;
  limits.max_frame_bytes = 12;
  limits.oversized_head_bytes = 3;
  limits.max_stray_bytes = 5;
  const std::string input = "ab\r\n" + Frame("MSH|1") + "\n" + "\x0BMSH|too long!!\x1C\r" +
                            "\x0B"
                            "cut"
                            "\x0B" +
                            "MSH|2\x1C" + "xyz" + Frame("MSH|^~\\&|3") + "\x0B\x1C\r\n";
  CheckAllSplits(input, {"F:MSH|1", "O:13:MSH", "A:3", "F:MSH|2", "F:MSH|^~\\&|3", "F:"}, limits);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::mllp
