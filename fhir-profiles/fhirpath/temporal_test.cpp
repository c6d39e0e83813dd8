#include "fhir-profiles/fhirpath/temporal.h"

#include <boost/test/unit_test.hpp>

namespace fhirbridge::fhirpath {
namespace {

Temporal DT(const char* text) {
  std::optional<Temporal> t = Temporal::ParseDateTime(text);
  BOOST_REQUIRE_MESSAGE(t.has_value(), "cannot parse " << text);
  return *t;
}

BOOST_AUTO_TEST_SUITE(temporal)

BOOST_AUTO_TEST_CASE(parses_every_precision_and_prints_it_back) {
  for (const char* text :
       {"2015", "2015-02", "2015-02-04", "2015-02-04T14", "2015-02-04T14:34", "2015-02-04T14:34:28",
        "2015-02-04T14:34:28.123", "2015-02-04T14:34:28Z", "2015-02-04T14:34:28.1-05:30"}) {
    BOOST_TEST(DT(text).ToString() == text);
  }
  BOOST_TEST(Temporal::ParseTime("14:34:28.123")->ToLiteral() == "@T14:34:28.123");
}

BOOST_AUTO_TEST_CASE(rejects_invalid_dates) {
  for (const char* bad : {"2015-13", "2015-02-30", "2015-02-04T25", "2015-02-04T14:61", "15",
                          "2015-02-04T14:34:28+15:00", "2015-02-04X"}) {
    BOOST_TEST(!Temporal::ParseDateTime(bad).has_value(), bad);
  }
  BOOST_TEST(!Temporal::ParseTime("14:34:28Z").has_value());
}

BOOST_AUTO_TEST_CASE(compares_across_zones_and_precisions) {
  BOOST_TEST(*Temporal::Compare(DT("2017-11-05T01:30:00.0-04:00"),
                                DT("2017-11-05T01:15:00.0-05:00")) == -1);
  BOOST_TEST(*Temporal::Compare(DT("2012-04-15T15:00:00+02:00"), DT("2012-04-15T16:00:00+03:00")) ==
             0);
  BOOST_TEST(!Temporal::Compare(DT("2018-03"), DT("2018-03-01")).has_value());
  BOOST_TEST(*Temporal::Compare(DT("2018-03"), DT("2018-04-01")) == -1);
  BOOST_TEST(!Temporal::Compare(DT("2012-04-15T15:00:00Z"), DT("2012-04-15T10:00:00")).has_value());
  BOOST_TEST(*Temporal::Compare(DT("2012-04-15T15:30:31"), DT("2012-04-15T15:30:31.0")) == 0);
  BOOST_TEST(!Temporal::Equivalent(DT("2012-04-15"), DT("2012-04-15T10:00:00")));
}

BOOST_AUTO_TEST_CASE(adds_calendar_durations) {
  Temporal d = *Temporal::ParseDate("1973-12-25");
  BOOST_TEST(d.Add(7, CalendarUnit::kDay)->ToString() == "1974-01-01");
  BOOST_TEST(d.Add(1, CalendarUnit::kMonth)->ToString() == "1974-01-25");
  BOOST_TEST(Temporal::ParseDate("2016-01-31")->Add(1, CalendarUnit::kMonth)->ToString() ==
             "2016-02-29");
  BOOST_TEST(DT("1973-12-25T00:00:00.000+10:00").Add(-1, CalendarUnit::kMs)->ToString() ==
             "1973-12-24T23:59:59.999+10:00");
  BOOST_TEST(!Temporal::ParseTime("10:00")->Add(1, CalendarUnit::kDay).has_value());
  BOOST_TEST(Temporal::ParseTime("23:30")->Add(1, CalendarUnit::kHour)->ToString() == "00:30");
}

BOOST_AUTO_TEST_CASE(boundaries_and_precision) {
  BOOST_TEST(Temporal::ParseDate("2014")->Boundary(6, false)->ToString() == "2014-01");
  BOOST_TEST(Temporal::ParseDate("2014")->Boundary(8, true)->ToString() == "2014-12-31");
  BOOST_TEST(DT("2014-01-01T08").Boundary(17, false)->ToString() ==
             "2014-01-01T08:00:00.000+14:00");
  BOOST_TEST(DT("2014-01-01T08:05-05:00").Boundary(17, true)->ToString() ==
             "2014-01-01T08:05:59.999-05:00");
  BOOST_TEST(!DT("2014").Boundary(5, false).has_value());
  BOOST_TEST(DT("2014-01-05T10:30:00.000").PrecisionDigits() == 17);
  BOOST_TEST(Temporal::ParseTime("10:30")->PrecisionDigits() == 4);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::fhirpath
