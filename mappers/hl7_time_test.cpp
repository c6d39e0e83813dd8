#include "mappers/hl7_time.h"

#include <boost/test/unit_test.hpp>

#include <string>

namespace fhirbridge::mappers {
namespace {

using P = Hl7Time::Precision;

std::shared_ptr<const TimeZone> NewYork() {
  static const std::shared_ptr<const TimeZone> tz = [] {
    auto loaded = TimeZone::Load("America/New_York");
    BOOST_TEST_REQUIRE(loaded.ok(), loaded.status().ToString());
    return *loaded;
  }();
  return tz;
}

Hl7Time MustParse(std::string_view dtm) {
  auto t = ParseHl7Time(dtm);
  BOOST_TEST_REQUIRE(t.ok(), std::string(dtm) << ": " << t.status().ToString());
  return *t;
}

/// Parses and converts; on failure returns "<CODE>: message" in date_time to keep tests short.
FhirTime Convert(std::string_view dtm, const TimeZone* assume = nullptr,
                 DataIssues* issues = nullptr) {
  auto t = ParseHl7Time(dtm);
  if (!t.ok()) return {t.status().ToString(), "", 0};
  auto f = ToFhirDateTime(*t, assume, issues);
  if (!f.ok()) return {f.status().ToString(), "", 0};
  return *f;
}

std::string ParseError(std::string_view dtm) {
  auto t = ParseHl7Time(dtm);
  if (t.ok()) return "parsed";
  BOOST_TEST(t.status().IsInvalidArgument());
  return t.status().message();
}

BOOST_AUTO_TEST_SUITE(hl7_time)

BOOST_AUTO_TEST_CASE(every_precision) {
  Hl7Time t = MustParse("2015");
  BOOST_TEST((t.precision == P::kYear));
  BOOST_TEST(t.year == 2015);
  BOOST_TEST(t.month == 1);  // start of the period
  BOOST_TEST(!t.has_offset);
  BOOST_TEST((MustParse("201501").precision == P::kMonth));
  BOOST_TEST((MustParse("20150122").precision == P::kDay));
  BOOST_TEST((MustParse("2015012211").precision == P::kHour));
  BOOST_TEST((MustParse("201501221150").precision == P::kMinute));
  t = MustParse("20150122115059");
  BOOST_TEST((t.precision == P::kSecond));
  BOOST_TEST(t.day == 22);
  BOOST_TEST(t.hour == 11);
  BOOST_TEST(t.minute == 50);
  BOOST_TEST(t.second == 59);
  BOOST_TEST(t.fraction.empty());

  BOOST_TEST(Convert("2015").date_time == "2015");
  BOOST_TEST(Convert("201501").date_time == "2015-01");
  BOOST_TEST(Convert("20150122").date_time == "2015-01-22");
  BOOST_TEST(Convert("2015012211-0500").date_time == "2015-01-22T11:00:00-05:00");
  BOOST_TEST(Convert("201501221150-0500").date_time == "2015-01-22T11:50:00-05:00");
  BOOST_TEST(Convert("20150122115059-0500").date_time == "2015-01-22T11:50:59-05:00");
}

BOOST_AUTO_TEST_CASE(date_only_keys_and_seconds) {
  FhirTime f = Convert("2015");
  BOOST_TEST(f.utc_key == "2015");
  BOOST_TEST(f.utc_seconds == DaysFromCivil(2015, 1, 1) * 86400);
  BOOST_TEST(Convert("201502").utc_key == "201502");
  f = Convert("20150122");
  BOOST_TEST(f.utc_key == "20150122");
  BOOST_TEST(f.utc_seconds == DaysFromCivil(2015, 1, 22) * 86400);
  // Dates never need a zone, and an offset on a date is dropped (FHIR dates carry none).
  BOOST_TEST(Convert("20150122+0500").date_time == "2015-01-22");
}

BOOST_AUTO_TEST_CASE(fractions) {
  Hl7Time t = MustParse("20150122115000.1234");
  BOOST_TEST(t.fraction == "1234");
  BOOST_TEST(MustParse("20150122115000.1").fraction == "1");
  FhirTime f = Convert("20150122115000.123-0500");
  BOOST_TEST(f.date_time == "2015-01-22T11:50:00.123-05:00");
  BOOST_TEST(f.utc_key == "20150122T165000.123Z");
  BOOST_TEST(Convert("20150122115000.1+0000").date_time == "2015-01-22T11:50:00.1+00:00");
}

BOOST_AUTO_TEST_CASE(offsets) {
  FhirTime f = Convert("20150122115000+0530");
  BOOST_TEST(f.date_time == "2015-01-22T11:50:00+05:30");
  BOOST_TEST(f.utc_key == "20150122T062000Z");
  BOOST_TEST(f.utc_seconds == DaysFromCivil(2015, 1, 22) * 86400 + 6 * 3600 + 20 * 60);

  Hl7Time t = MustParse("20150122115000-0000");
  BOOST_TEST(t.minus_zero);
  BOOST_TEST(t.offset_minutes == 0);
  BOOST_TEST(Convert("20150122115000-0000").date_time == "2015-01-22T11:50:00Z");
  BOOST_TEST(!MustParse("20150122115000+0000").minus_zero);
  BOOST_TEST(Convert("20150122115000+0000").date_time == "2015-01-22T11:50:00+00:00");
  BOOST_TEST(Convert("20150122115000+0000").utc_key == "20150122T115000Z");

  f = Convert("20150122115000-0600");
  BOOST_TEST(f.date_time == "2015-01-22T11:50:00-06:00");
  BOOST_TEST(f.utc_key == "20150122T175000Z");
  BOOST_TEST(MustParse("20150122115000-0600").offset_minutes == -360);
  BOOST_TEST(Convert("20150122115000+1400").date_time == "2015-01-22T11:50:00+14:00");
  BOOST_TEST(Convert("20150122115000-1345").date_time == "2015-01-22T11:50:00-13:45");
  // An explicit offset wins over the source's zone.
  BOOST_TEST(Convert("20150722115000+0100", NewYork().get()).date_time ==
             "2015-07-22T11:50:00+01:00");
}

BOOST_AUTO_TEST_CASE(utc_key_crosses_day_and_year) {
  FhirTime f = Convert("20151231220000-0500");
  BOOST_TEST(f.utc_key == "20160101T030000Z");
  BOOST_TEST(f.date_time == "2015-12-31T22:00:00-05:00");
  BOOST_TEST(Convert("20160101013000+0200").utc_key == "20151231T233000Z");
  BOOST_TEST(Convert("20160229230000-0200").utc_key == "20160301T010000Z");
  BOOST_TEST(Convert("20150228230000-0200").utc_key == "20150301T010000Z");
  BOOST_TEST(Convert("20150301003000+0100").utc_key == "20150228T233000Z");
  BOOST_TEST(Convert("2015123122-0500").utc_key == "20160101T030000Z");
}

BOOST_AUTO_TEST_CASE(device_quirks) {
  Hl7Time t = MustParse("20150122115000123");  // 17 digits: milliseconds without the dot
  BOOST_TEST((t.precision == P::kSecond));
  BOOST_TEST(t.fraction == "123");
  BOOST_TEST(t.second == 0);
  BOOST_TEST(MustParse("201501221150001234").fraction == "1234");
  BOOST_TEST(Convert("20150122115000123-0500").date_time == "2015-01-22T11:50:00.123-05:00");
  BOOST_TEST(Convert("20150122115000 -0500").date_time == "2015-01-22T11:50:00-05:00");
  BOOST_TEST(Convert("20150122115000.5 +0530").date_time == "2015-01-22T11:50:00.5+05:30");
  BOOST_TEST(Convert("20150122115000-0500   ").date_time == "2015-01-22T11:50:00-05:00");
  BOOST_TEST(Convert("20150122  ").date_time == "2015-01-22");
}

BOOST_AUTO_TEST_CASE(invalid_inputs) {
  BOOST_TEST(ParseError("") == "HL7 DTM: value is empty");
  BOOST_TEST(ParseError("   ") == "HL7 DTM: value is empty");
  BOOST_TEST(ParseError("20150122T1150") == "HL7 DTM: expected digits at position 9");
  BOOST_TEST(ParseError("2015AB22") == "HL7 DTM: expected digits at position 5");
  BOOST_TEST(ParseError("abc") == "HL7 DTM: expected digits at position 1");
  BOOST_TEST(ParseError(" 2015") == "HL7 DTM: expected digits at position 1");
  BOOST_TEST(ParseError("2015130") ==
             "HL7 DTM: incomplete value: 7 digits (expected 4, 6, 8, "
             "10, 12 or 14)");
  BOOST_TEST(ParseError("15") != "parsed");
  BOOST_TEST(ParseError("201513") == "HL7 DTM: month 13 out of range");
  BOOST_TEST(ParseError("201500") == "HL7 DTM: month 0 out of range");
  BOOST_TEST(ParseError("00000101") == "HL7 DTM: year 0000 out of range");
  BOOST_TEST(ParseError("20150230") == "HL7 DTM: day 30 does not exist in February 2015");
  BOOST_TEST(ParseError("20150229") == "HL7 DTM: day 29 does not exist in February 2015");
  BOOST_TEST(ParseError("20160229") == "parsed");
  BOOST_TEST(ParseError("19000229") == "HL7 DTM: day 29 does not exist in February 1900");
  BOOST_TEST(ParseError("20000229") == "parsed");
  BOOST_TEST(ParseError("20150431") == "HL7 DTM: day 31 does not exist in April 2015");
  BOOST_TEST(ParseError("20150100") == "HL7 DTM: day 0 out of range");
  BOOST_TEST(ParseError("20150132") == "HL7 DTM: day 32 out of range");
  BOOST_TEST(ParseError("2015012224") == "HL7 DTM: hour 24 out of range");
  BOOST_TEST(ParseError("201501222360") == "HL7 DTM: minute 60 out of range");
  BOOST_TEST(ParseError("20151231235960") ==
             "HL7 DTM: second 60 out of range (leap seconds are not supported)");
  BOOST_TEST(ParseError("20150122115000+2500") == "HL7 DTM: offset +2500 out of range");
  BOOST_TEST(ParseError("20150122115000-0560") == "HL7 DTM: offset -0560 out of range");
  BOOST_TEST(ParseError("20150122115000+1401") == "HL7 DTM: offset +1401 out of range");
  BOOST_TEST(ParseError("20150122115000+05") == "HL7 DTM: expected 4 offset digits at position 18");
  BOOST_TEST(ParseError("20150122115000+05000") ==
             "HL7 DTM: unexpected character after the offset at position 20");
  BOOST_TEST(ParseError("20150122115000Z") ==
             "HL7 DTM: expected '+' or '-' (UTC offset) at position 15");
  BOOST_TEST(ParseError("20150122115000  -0500") ==
             "HL7 DTM: expected '+' or '-' (UTC offset) at position 15");
  BOOST_TEST(ParseError("20150122115000.") == "HL7 DTM: expected digits at position 16");
  BOOST_TEST(ParseError("20150122115000.12345") == "HL7 DTM: fraction has more than 4 digits");
  BOOST_TEST(ParseError("2015012211.5") == "HL7 DTM: a fraction needs seconds, at position 11");
  BOOST_TEST(ParseError("201501221150001") ==
             "HL7 DTM: 15 digits do not form a date/time (expected 4, 6, 8, 10, 12, 14, 17 or "
             "18)");
  BOOST_TEST(ParseError("2015012211500012345") == "HL7 DTM: too many digits (19, at most 18)");
  BOOST_TEST(ParseError("20150122115000123.4") == "HL7 DTM: unexpected '.' at position 18");
  BOOST_TEST(ParseError(std::string(40, '2')) ==
             "HL7 DTM: value is too long (40 characters, at most 25)");
  BOOST_TEST(ParseError("2015012211+0500x") ==
             "HL7 DTM: unexpected character after the offset at position 16");
  BOOST_TEST(ParseError(std::string_view("2015\0"
                                         "122",
                                         8)) == "HL7 DTM: expected digits at position 5");
}

BOOST_AUTO_TEST_CASE(errors_do_not_echo_the_value) {
  for (const char* bad : {"20150122T1150", "19871231xyz", "201513", "20150230"}) {
    const std::string message = ParseError(bad);
    BOOST_TEST(message.find(bad) == std::string::npos, message);
  }
}

BOOST_AUTO_TEST_CASE(assume_timezone) {
  DataIssues issues;
  FhirTime f = Convert("20150722115000", NewYork().get(), &issues);
  BOOST_TEST(f.date_time == "2015-07-22T11:50:00-04:00");
  BOOST_TEST(f.utc_key == "20150722T155000Z");
  f = Convert("20150122115000", NewYork().get(), &issues);
  BOOST_TEST(f.date_time == "2015-01-22T11:50:00-05:00");
  BOOST_TEST(f.utc_key == "20150122T165000Z");
  BOOST_TEST(Convert("2015012211", NewYork().get()).date_time == "2015-01-22T11:00:00-05:00");
  BOOST_TEST(Convert("20151231220000.25", NewYork().get()).utc_key == "20160101T030000.25Z");
  BOOST_TEST(issues.empty());
  // Dates never need a zone.
  BOOST_TEST(Convert("20150122").date_time == "2015-01-22");

  auto fixed = TimeZone::FixedOffset("+05:30", 5 * 3600 + 1800);
  BOOST_TEST(Convert("20150122115000", fixed.get()).date_time == "2015-01-22T11:50:00+05:30");
}

BOOST_AUTO_TEST_CASE(assume_timezone_gap_and_overlap) {
  auto gap = ToFhirDateTime(MustParse("20150308023000"), NewYork().get(), nullptr);
  BOOST_TEST(gap.status().IsInvalidArgument());
  BOOST_TEST(gap.status().message() ==
             "local time does not exist in America/New_York (daylight-saving gap)");

  DataIssues issues;
  auto overlap = ToFhirDateTime(MustParse("20151101013000"), NewYork().get(), &issues);
  BOOST_TEST_REQUIRE(overlap.ok());
  BOOST_TEST(overlap->date_time == "2015-11-01T01:30:00-04:00");  // the first occurrence
  BOOST_TEST(overlap->utc_key == "20151101T053000Z");
  BOOST_TEST_REQUIRE(issues.size() == 1u);
  BOOST_TEST((issues[0].severity == DataIssue::Severity::kWarning));
  BOOST_TEST(issues[0].location.empty());
  BOOST_TEST(issues[0].text.find("daylight-saving overlap") != std::string::npos);
  // Without an issues list the conversion still succeeds.
  BOOST_TEST(ToFhirDateTime(MustParse("20151101013000"), NewYork().get(), nullptr).ok());
}

BOOST_AUTO_TEST_CASE(no_offset_and_no_zone) {
  auto f = ToFhirDateTime(MustParse("20150122115000"), nullptr, nullptr);
  BOOST_TEST(CodeName(f.status().code()) == "FAILED_PRECONDITION");
  BOOST_TEST(f.status().message() ==
             "local time without UTC offset: set assume_timezone for this source (or "
             "--assume-timezone)");
  BOOST_TEST(CodeName(ToFhirDateTime(MustParse("2015012211"), nullptr, nullptr).status().code()) ==
             "FAILED_PRECONDITION");
}

BOOST_AUTO_TEST_CASE(local_mean_time_is_given_in_utc) {
  // New York kept -4:56:02 before 1883: no +hh:mm form, so the instant is written in UTC.
  DataIssues issues;
  FhirTime f = Convert("18500101120000", NewYork().get(), &issues);
  BOOST_TEST(f.date_time == "1850-01-01T16:56:02Z");
  BOOST_TEST(f.utc_key == "18500101T165602Z");
  BOOST_TEST(issues.size() == 1u);
}

BOOST_AUTO_TEST_CASE(instant) {
  auto f = ToFhirInstant(MustParse("201501221150-0500"), nullptr, nullptr);
  BOOST_TEST_REQUIRE(f.ok());
  BOOST_TEST(f->date_time == "2015-01-22T11:50:00-05:00");
  f = ToFhirInstant(MustParse("20150122115000.123"), NewYork().get(), nullptr);
  BOOST_TEST_REQUIRE(f.ok());
  BOOST_TEST(f->date_time == "2015-01-22T11:50:00.123-05:00");
  BOOST_TEST(
      ToFhirInstant(MustParse("20150122"), NewYork().get(), nullptr).status().IsInvalidArgument());
  BOOST_TEST(
      CodeName(ToFhirInstant(MustParse("20150122115000"), nullptr, nullptr).status().code()) ==
      "FAILED_PRECONDITION");
}

// ToFhirDateTimeNear must give what the full conversion gives, or nothing.
BOOST_AUTO_TEST_CASE(near_conversion_matches_the_full_one) {
  const std::string bases[] = {"20240315101400-0400", "20241231235900+0100",
                               "20000229000000-0000", "20240101000000 +1400",
                               "20240315101400+0000", "19991231235930-0130"};
  int derived = 0;
  for (const std::string& base : bases) {
    const FhirTime known = Convert(base, nullptr, nullptr);
    for (int s = 0; s < 100; ++s) {
      std::string dtm = base;
      dtm[12] = static_cast<char>('0' + s / 10);
      dtm[13] = static_cast<char>('0' + s % 10);
      const std::optional<FhirTime> near = ToFhirDateTimeNear(dtm, base, known);
      Result<Hl7Time> parsed = ParseHl7Time(dtm);
      if (!parsed.ok()) {
        BOOST_TEST(!near.has_value(), dtm);
        continue;
      }
      BOOST_TEST_REQUIRE(near.has_value(), dtm);
      const FhirTime full = Convert(dtm, nullptr, nullptr);
      BOOST_TEST(near->date_time == full.date_time, dtm);
      BOOST_TEST(near->utc_key == full.utc_key, dtm);
      BOOST_TEST(near->utc_seconds == full.utc_seconds, dtm);
      ++derived;
    }
  }
  BOOST_TEST(derived == 6 * 60);
}

// Another minute of the same hour: derived only under a whole-hour offset, and then equal to
// the full conversion.
BOOST_AUTO_TEST_CASE(near_conversion_of_another_minute_matches_the_full_one) {
  const std::string bases[] = {"20240315101400-0400", "20241231235959+0100",
                               "20000229000000-0000", "20240101000000 +1400",
                               "20240315101400+0000", "19991231235930-0130"};
  int derived = 0;
  for (const std::string& base : bases) {
    const FhirTime known = Convert(base, nullptr, nullptr);
    for (int m = 0; m < 100; m += 7) {
      for (int s = 0; s < 100; s += 13) {
        std::string dtm = base;
        dtm[10] = static_cast<char>('0' + m / 10);
        dtm[11] = static_cast<char>('0' + m % 10);
        dtm[12] = static_cast<char>('0' + s / 10);
        dtm[13] = static_cast<char>('0' + s % 10);
        const std::optional<FhirTime> near = ToFhirDateTimeNear(dtm, base, known);
        if (!near) continue;
        const FhirTime full = Convert(dtm, nullptr, nullptr);
        BOOST_TEST(near->date_time == full.date_time, dtm);
        BOOST_TEST(near->utc_key == full.utc_key, dtm);
        BOOST_TEST(near->utc_seconds == full.utc_seconds, dtm);
        ++derived;
      }
    }
  }
  // Minutes 0..56 (9 values) by seconds 0..52 (5 values) for the five whole-hour offsets; the
  // -0130 base only in its own minute (it is 23:59, so "59" is not in the grid of m).
  BOOST_TEST(derived == 5 * 9 * 5);
}

BOOST_AUTO_TEST_CASE(near_conversion_declines_other_shapes) {
  const FhirTime known = Convert("20240315101400-0400", nullptr, nullptr);
  // Another hour, another minute under a half-hour offset, another offset, a fraction, minute
  // precision, a local time.
  BOOST_TEST(!ToFhirDateTimeNear("20240315111400-0400", "20240315101400-0400", known));
  const FhirTime half = Convert("20240315101400+0530", nullptr, nullptr);
  BOOST_TEST(!ToFhirDateTimeNear("20240315101500+0530", "20240315101400+0530", half));
  BOOST_TEST(!ToFhirDateTimeNear("20240315101400-0500", "20240315101400-0400", known));
  BOOST_TEST(!ToFhirDateTimeNear("20240315101401.5-04", "20240315101400.5-04", known));
  BOOST_TEST(!ToFhirDateTimeNear("202403151014-0400", "202403151015-0400", known));
  const FhirTime local = Convert("20240315101400 ", NewYork().get(), nullptr);
  BOOST_TEST(!ToFhirDateTimeNear("20240315101401 ", "20240315101400 ", local));
  BOOST_TEST(!ToFhirDateTimeNear("20240315101401", "20240315101400", local));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::mappers
