#include "engine/service/route_rules.h"

#include <boost/test/unit_test.hpp>

namespace fhirbridge::service {
namespace {

RouteFacts IcuHeartRate() {
  RouteFacts facts;
  facts.message_type = "ORU^R01";
  facts.codes = {"urn:iso:std:iso:11073:10101|147842", "http://loinc.org|8867-4"};
  facts.location = "ICU^BED12^1";
  facts.devices = {"urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680|0012345678ABCDEF"};
  return facts;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(route_rules)

BOOST_AUTO_TEST_CASE(a_route_without_conditions_takes_everything) {
  BOOST_CHECK(RouteCondition{}.Matches(IcuHeartRate()));
  BOOST_CHECK(RouteCondition{}.Matches(RouteFacts{}));
}

BOOST_AUTO_TEST_CASE(message_type_matches_exactly_or_by_type_alone) {
  RouteCondition c;
  c.message_types = {"ORU"};
  BOOST_CHECK(c.Matches(IcuHeartRate()));
  c.message_types = {"ORU^R01"};
  BOOST_CHECK(c.Matches(IcuHeartRate()));
  c.message_types = {"ORU^R40", "PHD"};
  BOOST_CHECK(!c.Matches(IcuHeartRate()));
  c.message_types = {"OR"};  // a prefix that is not the whole type does not match
  BOOST_CHECK(!c.Matches(IcuHeartRate()));
}

BOOST_AUTO_TEST_CASE(codes_match_with_or_without_their_system) {
  RouteCondition c;
  c.codes = {"http://loinc.org|8867-4"};
  BOOST_CHECK(c.Matches(IcuHeartRate()));
  c.codes = {"147842"};
  BOOST_CHECK(c.Matches(IcuHeartRate()));
  c.codes = {"http://loinc.org|147842"};  // the right code in the wrong system
  BOOST_CHECK(!c.Matches(IcuHeartRate()));
  c.codes = {"150456", "8310-5"};
  BOOST_CHECK(!c.Matches(IcuHeartRate()));
}

BOOST_AUTO_TEST_CASE(locations_match_whole_leading_components) {
  RouteCondition c;
  c.locations = {"ICU"};
  BOOST_CHECK(c.Matches(IcuHeartRate()));
  c.locations = {"ICU^BED12"};
  BOOST_CHECK(c.Matches(IcuHeartRate()));
  c.locations = {"ICU^BED1"};  // BED1 is not BED12
  BOOST_CHECK(!c.Matches(IcuHeartRate()));
  c.locations = {"IC"};
  BOOST_CHECK(!c.Matches(IcuHeartRate()));
  RouteFacts nowhere = IcuHeartRate();
  nowhere.location.clear();
  c.locations = {"ICU"};
  BOOST_CHECK(!c.Matches(nowhere));
}

BOOST_AUTO_TEST_CASE(every_condition_given_must_hold) {
  RouteCondition c;
  c.locations = {"ICU"};
  c.devices = {"0012345678ABCDEF"};
  BOOST_CHECK(c.Matches(IcuHeartRate()));
  c.devices = {"FFFFFFFFFFFFFFFF"};
  BOOST_CHECK(!c.Matches(IcuHeartRate()));
}

BOOST_AUTO_TEST_CASE(destinations_are_selected_once_in_configuration_order) {
  RouteCondition icu;
  icu.locations = {"ICU"};
  RouteCondition ward;
  ward.locations = {"WARD"};
  const std::vector<RouteTarget> targets = {
      {"archive", {}}, {"ehr", icu}, {"ward-ehr", ward}, {"archive", icu}};
  const std::vector<std::string> chosen = SelectDestinations(targets, IcuHeartRate());
  const std::vector<std::string> expected = {"archive", "ehr"};
  BOOST_CHECK_EQUAL_COLLECTIONS(chosen.begin(), chosen.end(), expected.begin(), expected.end());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::service
