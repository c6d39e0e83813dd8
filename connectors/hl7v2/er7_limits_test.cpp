// ER7 parser: every limit, control bytes, truncated and random inputs, block boundaries, and
// the allocation budget of Parse().

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <new>
#include <random>
#include <string>

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
  BOOST_TEST(allocations <= 2u);  // the segment and separator indexes
}
#endif

BOOST_AUTO_TEST_CASE(every_field_separator_position_across_blocks) {
  // Field separators and terminators at every offset relative to the 16-byte blocks.
  for (std::size_t pad = 0; pad < 40; ++pad) {
    const std::string filler(pad, 'x');
    const std::string bytes =
        Join({std::string(kMsh) + "|" + filler, "OBX|1|" + filler + "|v|", "NTE|" + filler});
    auto r = Parse(bytes);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    BOOST_TEST(r->segment_count() == 3u);
    BOOST_TEST(r->segment(0).field(13).raw() == filler);
    BOOST_TEST(r->segment(1).field(2).raw() == filler);
    BOOST_TEST(r->segment(1).field(3).raw() == "v");
    BOOST_TEST(r->segment(1).field_count() == 4u);
    BOOST_TEST(r->segment(2).field(1).raw() == filler);
  }
}

BOOST_AUTO_TEST_CASE(many_distinct_segment_ids_keep_exact_occurrences) {
  // More distinct ids than the scanner's small table holds: it must switch tables seamlessly.
  std::string bytes = Join({kMsh});
  for (int round = 0; round < 3; ++round) {
    for (char a = 'A'; a <= 'Z'; ++a) {
      for (char b = '0'; b <= '3'; ++b) bytes += std::string("Z") + a + b + "|x\r";
    }
  }
  auto r = Parse(bytes);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->segment_count() == 1u + 3u * 26u * 4u);
  BOOST_TEST(r->segment(1).occurrence() == 1u);
  BOOST_TEST(r->segment(1 + 26 * 4).occurrence() == 2u);
  BOOST_TEST(r->segment(r->segment_count() - 1).occurrence() == 3u);
  BOOST_TEST(r->segment(r->segment_count() - 1).id() == "ZZ3");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::hl7v2
