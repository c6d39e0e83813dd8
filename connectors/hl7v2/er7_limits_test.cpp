// ER7 parser: every limit, control bytes, truncated and random inputs, block boundaries, and
// the allocation budget of Parse().

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/hl7v2/er7.h"
#include "connectors/hl7v2/er7_test_util.h"

// Counts heap allocations, to hold Parse() to its budget. Not under the sanitizers, which
// bring their own operator new.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FHIRBRIDGE_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FHIRBRIDGE_SANITIZED 1
#endif
#ifndef FHIRBRIDGE_SANITIZED
namespace {
thread_local std::size_t g_allocations = 0;
}  // namespace
void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// GCC sees malloc'ed memory reach free() through operator delete and thinks they mismatch.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

namespace fhirbridge::hl7v2 {

using testing::ErrorOf;
using testing::Join;
using testing::kMsh;

BOOST_AUTO_TEST_SUITE(er7_limits)

BOOST_AUTO_TEST_CASE(max_message_bytes) {
  const std::string bytes = Join({kMsh, "PID|1"});
  ParseLimits limits;
  limits.max_message_bytes = bytes.size();
  BOOST_TEST(Parse(bytes, limits).ok());
  limits.max_message_bytes = bytes.size() - 1;
  auto r = Parse(bytes, limits);
  BOOST_TEST(r.status().IsResourceExhausted());
  BOOST_TEST(r.status().message() == "message has " + std::to_string(bytes.size()) +
                                         " bytes, more than " + std::to_string(bytes.size() - 1) +
                                         " (limit max_message_bytes)");
  limits.max_message_bytes = ~std::size_t{0};  // clamped below 4 GiB, still fine here
  BOOST_TEST(Parse(bytes, limits).ok());
}

BOOST_AUTO_TEST_CASE(max_segments) {
  std::string bytes = Join({kMsh});
  for (int i = 0; i < 9; ++i) bytes += "OBX|1\r";
  ParseLimits limits;
  limits.max_segments = 10;
  BOOST_TEST(Parse(bytes, limits).ok());
  bytes += "\r\n\r";  // empty lines are not segments
  BOOST_TEST(Parse(bytes, limits).ok());
  bytes += "OBX|11";
  auto r = Parse(bytes, limits);
  BOOST_TEST(r.status().IsResourceExhausted());
  BOOST_TEST(r.status().message() == "message has more than 10 segments (limit max_segments)");
}

BOOST_AUTO_TEST_CASE(max_fields_per_segment) {
  ParseLimits limits;
  limits.max_fields_per_segment = 20;
  std::string obx = "OBX";
  for (int i = 0; i < 20; ++i) obx += "|f";
  BOOST_TEST(Parse(Join({kMsh, obx}), limits).ok());
  const std::string r_bytes = Join({kMsh, "PID|1", obx + "|"});
  auto r = Parse(r_bytes, limits);
  BOOST_TEST(r.status().IsResourceExhausted());
  BOOST_TEST(r.status().message() ==
             "OBX[1]: segment has more than 20 fields (limit max_fields_per_segment)");
  // MSH counts MSH-1: kMsh has 12 fields.
  limits.max_fields_per_segment = 12;
  BOOST_TEST(Parse(Join({kMsh}), limits).ok());
  limits.max_fields_per_segment = 11;
  BOOST_TEST(ErrorOf(Join({kMsh}), limits) ==
             "MSH: segment has more than 11 fields (limit max_fields_per_segment)");
  // Many separators in one 16-byte block, over the limit in its middle.
  limits.max_fields_per_segment = 7;
  BOOST_TEST(ErrorOf(Join({"MSH|^~\\&|A", "PID||||||||||||||||||||"}), limits) ==
             "PID[1]: segment has more than 7 fields (limit max_fields_per_segment)");
}

BOOST_AUTO_TEST_CASE(max_repetitions) {
  ParseLimits limits;
  limits.max_repetitions = 3;
  BOOST_TEST(Parse(Join({kMsh, "PID|||a~b~c|x~y~z"}), limits).ok());
  const std::string r_bytes = Join({kMsh, "PID|||a~b~c|x~y~z~w"});
  auto r = Parse(r_bytes, limits);
  BOOST_TEST(r.status().IsResourceExhausted());
  BOOST_TEST(r.status().message() ==
             "PID[1]-4: field has more than 3 repetitions (limit max_repetitions)");
  // MSH-2's own repetition character is not a repetition.
  limits.max_repetitions = 1;
  BOOST_TEST(Parse(Join({kMsh}), limits).ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(er7_robustness)

BOOST_AUTO_TEST_CASE(control_bytes_are_refused_with_their_location_but_tab_is_data) {
  using namespace std::string_literals;
  BOOST_TEST(ErrorOf(Join({kMsh, "PID|1||ab\0c"s})) ==
             "PID[1]-3: byte 0x00 is a control character, which is not allowed");
  BOOST_TEST(ErrorOf(Join({kMsh, "PID|1", "OBX|1|\x0B"})) ==
             "OBX[1]-2: byte 0x0B is a control character, which is not allowed");
  BOOST_TEST(ErrorOf("MSH|^~\\&|\x1C|") ==
             "MSH-3: byte 0x1C is a control character, which is not allowed");
  const std::string r_bytes = Join({kMsh, "NTE|1||a\tb"});
  auto r = Parse(r_bytes);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->segment(1).field(3).raw() == "a\tb");
}

BOOST_AUTO_TEST_CASE(truncated_and_garbage_inputs_fail_cleanly) {
  using namespace std::string_literals;
  for (std::string bytes :
       {""s, "M"s, "MSH"s, "MSH|"s, "MSH|^"s, "MSH|^~"s, "MSH|^~\\"s, "MSH|^~\\&|"s, "MSH|^~\\&\r"s,
        "MSH|^~\\&\rP"s, "MSH|^~\\&\r\r\r"s, "MSH|^~\\&|||||||||||||||||||||"s, "\0\0\0\0"s,
        "MSH\0"s, "MSH|^~\\&\0"s}) {
    auto r = Parse(bytes);  // must not crash, hang or read out of bounds (see the ASan build)
    if (r.ok()) {
      for (std::size_t s = 0; s < r->segment_count(); ++s) {
        for (std::size_t f = 0; f <= r->segment(s).field_count() + 1; ++f) {
          (void)r->segment(s).field(f).component(2).subcomponent(2).Text();
        }
      }
    }
  }
  BOOST_TEST(Parse("MSH|^~\\&|").ok());
  BOOST_TEST(Parse("MSH|^~\\&|")->segment(0).field_count() == 3u);
}

BOOST_AUTO_TEST_CASE(random_bytes_never_crash) {
  std::mt19937 rng(12345);
  const std::string alphabet = "MSH|^~\\&#\r\n\"AZ09 \x80\xC3\xA9\xFF\x00\t";
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = round % 2 == 0 ? "MSH|^~\\&|" : "";
    const int length = static_cast<int>(rng() % 200);
    for (int i = 0; i < length; ++i) bytes.push_back(alphabet[rng() % alphabet.size()]);
    auto r = Parse(bytes);
    if (!r.ok()) {
      BOOST_TEST(!r.status().message().empty());
      continue;
    }
    for (std::size_t s = 0; s < r->segment_count(); ++s) {
      const Segment seg = r->segment(s);
      for (std::size_t f = 0; f <= seg.field_count(); ++f) {
        const Element field = seg.field(f);
        for (std::size_t rep = 1; rep <= field.repetition_count(); ++rep) {
          for (std::size_t c = 1; c <= field.repetition(rep).component_count(); ++c) {
            (void)field.repetition(rep).component(c).Text();
          }
        }
      }
    }
  }
}

#ifndef FHIRBRIDGE_SANITIZED
BOOST_AUTO_TEST_CASE(parse_of_a_pcd01_message_allocates_twice) {
  std::string bytes = Join({kMsh, "PID|||HO2009001^^^^MR||Hon^Albert^^^^^L||19610101|M",
                            "OBR|1||1|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||20240101"});
  for (int i = 1; i <= 30; ++i) {
    bytes += "OBX|" + std::to_string(i) +
             "|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.5|117|266016^MDC_DIM_MMHG^MDC|90-160|||"
             "|R|||20240101115000\r";
  }
  BOOST_TEST(bytes.size() > 3000u);
  g_allocations = 0;
  auto r = Parse(bytes);
  const std::size_t allocations = g_allocations;
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->segment_count() == 33u);
  BOOST_TEST(allocations <= 2u);  // the segment index (the field index comes on first use)
  // The first field read sizes the whole field index at once; no later read allocates.
  g_allocations = 0;
  std::size_t fields = 0;
  for (std::size_t s = 0; s < r->segment_count(); ++s) {
    for (std::size_t f = 1; f <= r->segment(s).field_count(); ++f) {
      fields += r->segment(s).field_raw(f).size();
    }
  }
  BOOST_TEST(fields > 0u);
  BOOST_TEST(g_allocations == 1u);
}
#endif

namespace {

/// Fields 1..n of a segment split naively, as the lazy index must give them.
std::vector<std::string_view> SplitFields(std::string_view line, bool msh) {
  std::vector<std::string_view> out;
  if (msh) out.push_back(line.substr(3, 1));
  if (line.size() <= 3) return out;
  std::size_t begin = 4;
  while (true) {
    const std::size_t end = line.find('|', begin);
    out.push_back(line.substr(begin, end == std::string_view::npos ? end : end - begin));
    if (end == std::string_view::npos) return out;
    begin = end + 1;
  }
}

/// A message with short, long (past the scanner's 127-block counter) and empty segments,
/// CR/LF/CRLF terminators and blank lines.
std::string MixedMessage() {
  std::string big = "OBX";
  for (int i = 0; i < 5000; ++i) big += i % 7 == 0 ? "|" : "|v" + std::to_string(i);
  return std::string(kMsh) + "\r\nPID|1||ID^^^A||Doe^J\r\r\nOBR|1|||x|\n" + big +
         "\r   \rOBX\rNTE|||||\rZZ1|a|\r";
}

}  // namespace

BOOST_AUTO_TEST_CASE(lazy_field_index_gives_the_same_views_in_any_order) {
  const std::string bytes = MixedMessage();
  ParseLimits limits;
  limits.max_fields_per_segment = 6000;
  auto forward = Parse(bytes, limits);
  auto backward = Parse(bytes, limits);
  BOOST_REQUIRE_MESSAGE(forward.ok(), forward.status().ToString());
  BOOST_REQUIRE(backward.ok());
  const std::size_t count = forward->segment_count();
  BOOST_TEST(count == 7u);
  BOOST_TEST(forward->segment(3).field_count() == 5000u);
  BOOST_TEST(forward->segment(4).field_count() == 0u);  // "OBX" alone
  // Read one message's segments first to last, the other's last to first, each field twice.
  std::vector<std::vector<std::string_view>> seen_forward(count), seen_backward(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t j = count - 1 - i;
    for (std::size_t f = 0; f <= forward->segment(i).field_count() + 1; ++f)
      seen_forward[i].push_back(forward->segment(i).field(f).raw());
    for (std::size_t f = 0; f <= backward->segment(j).field_count() + 1; ++f)
      seen_backward[j].push_back(backward->segment(j).field_raw(f));
  }
  for (std::size_t i = 0; i < count; ++i) {
    const Segment seg = forward->segment(i);
    const std::vector<std::string_view> expected = SplitFields(seg.raw(), i == 0);
    BOOST_TEST_REQUIRE(seg.field_count() == expected.size());
    BOOST_TEST_REQUIRE(seen_forward[i].size() == expected.size() + 2);
    BOOST_TEST_REQUIRE(seen_backward[i].size() == expected.size() + 2);
    BOOST_TEST(seen_forward[i].front() == seg.id());
    BOOST_TEST(seen_forward[i].back().empty());
    for (std::size_t f = 1; f <= expected.size(); ++f) {
      // The same bytes of the caller's buffer, whatever the order of first access.
      BOOST_TEST(seen_forward[i][f].data() == expected[f - 1].data());
      BOOST_TEST(seen_forward[i][f] == expected[f - 1]);
      BOOST_TEST(seen_backward[i][f].data() == expected[f - 1].data());
      BOOST_TEST(seen_backward[i][f].size() == expected[f - 1].size());
      BOOST_TEST(seg.field_raw(f).data() == expected[f - 1].data());  // read again
    }
  }
}

BOOST_AUTO_TEST_CASE(a_moved_message_keeps_its_field_index) {
  const std::string bytes = Join({kMsh, "PID|1||ID", "OBX|1|NM|x||42"});
  auto r = Parse(bytes);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->segment(1).field(3).raw() == "ID");  // indexes PID only
  ParsedMessage moved = std::move(*r);
  BOOST_TEST(moved.segment(1).field(3).raw() == "ID");
  BOOST_TEST(moved.segment(2).field(5).raw() == "42");  // indexed after the move
  BOOST_TEST(moved.control_id() == "CTRL1");
  const ParsedMessage copy = moved;
  BOOST_TEST(copy.segment(2).field(3).raw() == "x");
  BOOST_TEST(copy.segment(0).field(12).raw() == "2.6");
}

BOOST_AUTO_TEST_CASE(limits_are_still_checked_by_parse_in_long_segments) {
  // Past the SSE2 loop's periodic count (127 blocks): the count must stay exact.
  std::string obx = "OBX";
  for (int i = 0; i < 3000; ++i) obx += "|ab";
  ParseLimits limits;
  limits.max_fields_per_segment = 3000;
  const std::string bytes = Join({kMsh, obx, "NTE|1"});  // outlives r's views
  auto r = Parse(bytes, limits);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->segment(1).field_count() == 3000u);
  BOOST_TEST(r->segment(1).field(3000).raw() == "ab");
  limits.max_fields_per_segment = 2999;
  BOOST_TEST(ErrorOf(bytes, limits) ==
             "OBX[1]: segment has more than 2999 fields (limit max_fields_per_segment)");
  // Without a terminator after it (the last segment), and over the limit by far.
  limits.max_fields_per_segment = 100;
  BOOST_TEST(ErrorOf(std::string(kMsh) + "\r" + obx, limits) ==
             "OBX[1]: segment has more than 100 fields (limit max_fields_per_segment)");
}

BOOST_AUTO_TEST_CASE(the_first_error_in_the_message_is_reported) {
  ParseLimits limits;
  limits.max_fields_per_segment = 12;  // kMsh has 12
  const std::string many = "|1|2|3|4|5|6|7|8|9|10|11|12|13";
  // The field limit is passed before the control byte, in the same segment ...
  BOOST_TEST(ErrorOf(Join({kMsh, "PID" + many + "|" + std::string(40, 'x') + "\x01"}), limits) ==
             "PID[1]: segment has more than 12 fields (limit max_fields_per_segment)");
  // ... or after it.
  BOOST_TEST(ErrorOf(Join({kMsh, "PID|1|\x01" + std::string(40, 'x') + many}), limits) ==
             "PID[1]-2: byte 0x01 is a control character, which is not allowed");
  // A bad byte in a later segment loses to a field limit in an earlier one.
  BOOST_TEST(ErrorOf(Join({kMsh, "PID" + many, "NTE|\xC3"}), limits) ==
             "PID[1]: segment has more than 12 fields (limit max_fields_per_segment)");
  BOOST_TEST(ErrorOf(Join({kMsh, "PID|1", "NTE|" + std::string(50, 'y') + "\xC3"})) ==
             "NTE[1]-1: byte 0xC3 is not valid ASCII (MSH-18 is empty, which means ASCII)");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::hl7v2
