#include "connectors/ieee11073/phd/mder.h"

#include <boost/test/unit_test.hpp>

#include "connectors/ieee11073/phd/phd_test_util.h"

namespace fhirbridge::phd {
namespace {

using testing::FromHex;
using testing::Span;

BOOST_AUTO_TEST_SUITE(phd_mder)

BOOST_AUTO_TEST_CASE(sfloat_values_keep_the_device_precision) {
  BOOST_TEST(DecodeSFloat(0x0062).ToDecimal() == "98");
  BOOST_TEST(DecodeSFloat(0xF3CF).ToDecimal() == "97.5");  // exponent -1, mantissa 975
  BOOST_TEST(DecodeSFloat(0xF258).ToDecimal() == "60.0");  // Annex H: pulse 60.0
  BOOST_TEST(DecodeSFloat(0xFFFF).ToDecimal() == "-0.1");  // mantissa -1, exponent -1
  BOOST_TEST(DecodeSFloat(0xE005).ToDecimal() == "0.05");
  BOOST_TEST(DecodeSFloat(0x2012).ToDecimal() == "1800");
  BOOST_TEST(DecodeSFloat(0x0800 | 0x0001).is_number() == false);  // 0x0801 reserved
}

BOOST_AUTO_TEST_CASE(sfloat_reserved_values) {
  BOOST_TEST(KindName(DecodeSFloat(0x07FF).kind) == "NaN");
  BOOST_TEST(KindName(DecodeSFloat(0x0800).kind) == "NRes");
  BOOST_TEST(KindName(DecodeSFloat(0x07FE).kind) == "+INF");
  BOOST_TEST(KindName(DecodeSFloat(0x0802).kind) == "-INF");
  BOOST_TEST(KindName(DecodeSFloat(0x0801).kind) == "reserved");
  // Only exponent 0 makes these mantissas reserved.
  BOOST_TEST(DecodeSFloat(0x17FF).ToDecimal() == "20470");
  BOOST_TEST(DecodeSFloat(0x07FF).ToDecimal().empty());
}

BOOST_AUTO_TEST_CASE(float_values_and_reserved_values) {
  BOOST_TEST(DecodeFloat(0xFF0002FA).ToDecimal() == "76.2");  // Annex H weight
  BOOST_TEST(DecodeFloat(0x030005EE).ToDecimal() == "1518000");
  BOOST_TEST(DecodeFloat(0xFE800000 | 0x7FFFFF).ToDecimal() == "-0.01");
  BOOST_TEST(DecodeFloat(0x00000000).ToDecimal() == "0");
  BOOST_TEST(DecodeFloat(0x05000000).ToDecimal() == "0");
  BOOST_TEST(KindName(DecodeFloat(0x007FFFFF).kind) == "NaN");   // 8388607
  BOOST_TEST(KindName(DecodeFloat(0x00800000).kind) == "NRes");  // 8388608
  BOOST_TEST(KindName(DecodeFloat(0x007FFFFE).kind) == "+INF");  // 8388606
  BOOST_TEST(KindName(DecodeFloat(0x00800002).kind) == "-INF");  // 8388610
  BOOST_TEST(KindName(DecodeFloat(0x00800001).kind) == "reserved");
}

BOOST_AUTO_TEST_CASE(absolute_time_is_bcd) {
  const std::string bytes = FromHex("20 07 12 06 12 10 00 00");
  DecodeError error;
  ApduReader r(Span(bytes), 0, &error, "");
  const AbsoluteTime t = ReadAbsoluteTime(r, "time");
  BOOST_TEST(r.ok());
  BOOST_TEST(t.valid());
  BOOST_TEST(t.year() == 2007);
  BOOST_TEST(t.month() == 12);
  BOOST_TEST(t.day() == 6);
  BOOST_TEST(t.hour() == 12);
  BOOST_TEST(t.minute() == 10);
  BOOST_TEST(t.second() == 0);
}

BOOST_AUTO_TEST_CASE(absolute_time_problems_are_named) {
  const auto problem = [](std::string_view hex) {
    AbsoluteTime t;
    const std::string b = FromHex(hex);
    for (std::size_t i = 0; i < 8; ++i) t.bcd[i] = static_cast<std::uint8_t>(b[i]);
    return t.Problem();
  };
  BOOST_TEST(problem("16 37 5F 5F 5F 5F 5F 00") == "month byte is not BCD");
  BOOST_TEST(problem("20 10 13 01 00 00 00 00") == "month 13 out of range");
  BOOST_TEST(problem("20 15 02 29 00 00 00 00") == "day 29 does not exist in that month");
  BOOST_TEST(problem("20 16 02 29 24 00 00 00") == "hour 24 out of range");
  BOOST_TEST(problem("20 16 02 29 23 59 59 99").empty());
}

BOOST_AUTO_TEST_CASE(reader_never_reads_past_its_span_and_names_the_place) {
  const std::string bytes = FromHex("00 01 02");
  DecodeError error;
  ApduReader r(Span(bytes), 100, &error, "PRST");
  BOOST_TEST(r.U16("first") == 1);
  BOOST_TEST(r.U16("second") == 0);
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.U8("third") == 0);  // sticky: later reads do nothing
  BOOST_TEST(error.ToStatus().message() == "byte 102 in PRST: needs 2 bytes for second, 1 left");
}

BOOST_AUTO_TEST_CASE(sub_reader_rejects_a_length_that_lies) {
  const std::string bytes = FromHex("00 08 AA BB");
  DecodeError error;
  ApduReader r(Span(bytes), 0, &error, "AARQ");
  ApduReader inner = r.LengthPrefixed("data-proto-info");
  BOOST_TEST(!r.ok());
  BOOST_TEST(inner.remaining() == 0u);
  BOOST_TEST(error.offset == 2u);
  BOOST_TEST(error.what.find("declared length 8") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(counted_list_checks_count_length_and_limit) {
  DecodeError error;
  // count 3 of 2-byte entries cannot fit 4 bytes.
  const std::string short_list = FromHex("0003 0004 0001 0002");
  ApduReader r(Span(short_list), 0, &error, "");
  ReadCountedList(r, "ids", 10, 2, [](ApduReader& l, std::size_t) { l.U16("id"); });
  BOOST_TEST(error.what == "ids count 3 does not fit its length 4");

  DecodeError limit_error;
  const std::string many = FromHex("0003 0006 0001 0002 0003");
  ApduReader r2(Span(many), 0, &limit_error, "");
  ReadCountedList(r2, "ids", 2, 2, [](ApduReader& l, std::size_t) { l.U16("id"); });
  BOOST_TEST(limit_error.limit);
  BOOST_TEST(limit_error.ToStatus().IsResourceExhausted());

  DecodeError left_over;
  const std::string extra = FromHex("0001 0004 0001 0002");
  ApduReader r3(Span(extra), 0, &left_over, "");
  ReadCountedList(r3, "ids", 10, 2, [](ApduReader& l, std::size_t) { l.U16("id"); });
  BOOST_TEST(left_over.what.find("2 bytes left over") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(writer_fills_lengths) {
  ApduWriter w;
  w.U16(0xE600);
  const std::size_t slot = w.BeginLength();
  w.U16(3);
  w.EndLength(slot);
  BOOST_TEST(w.bytes() == FromHex("E600 0002 0003"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::phd
