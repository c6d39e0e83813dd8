#include "connectors/ieee11073/phd/apdu_stream.h"

#include <boost/test/unit_test.hpp>

#include "connectors/ieee11073/phd/phd_test_util.h"

namespace fhirbridge::phd {
namespace {

using testing::Span;
using testing::Vector;

BOOST_AUTO_TEST_SUITE(phd_apdu_stream)

BOOST_AUTO_TEST_CASE(apdus_are_cut_by_their_headers_whatever_the_pieces) {
  const std::string stream = Vector("H211") + Vector("H221") + Vector("H241");
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{7}, stream.size()}) {
    ApduFramer framer(65536);
    std::vector<ApduFrame> frames;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
      framer.Append(Span(stream.substr(at, piece)));
      for (Result<ApduFrame> f = framer.Next(); f.ok(); f = framer.Next())
        frames.push_back(std::move(f).value());
    }
    BOOST_REQUIRE_EQUAL(frames.size(), 3u);
    BOOST_TEST(frames[0].bytes == Vector("H211"));
    BOOST_TEST(frames[1].offset == Vector("H211").size());
    BOOST_TEST(frames[2].bytes == Vector("H241"));
    BOOST_TEST(framer.pending() == 0u);
  }
}

BOOST_AUTO_TEST_CASE(truncated_stream_end_is_described) {
  const std::string stream = Vector("H211") + Vector("H221").substr(0, 20);
  ApduFramer framer(65536);
  framer.Append(Span(stream));
  BOOST_TEST(framer.Next().ok());
  BOOST_TEST(framer.Next().status().IsNotFound());
  BOOST_TEST(framer.pending() == 20u);
  BOOST_TEST(framer.DescribeTruncation() ==
             "truncated APDU at byte 54: header says 116 bytes, 20 present");
}

BOOST_AUTO_TEST_CASE(oversize_header_is_refused_before_buffering) {
  ApduFramer framer(100);
  framer.Append(Span(Vector("H221")));  // 116 bytes
  Result<ApduFrame> f = framer.Next();
  BOOST_TEST(f.status().IsResourceExhausted());
  BOOST_TEST(f.status().message() ==
             "byte 0: APDU header announces 116 bytes, over the limit of 100");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::phd
