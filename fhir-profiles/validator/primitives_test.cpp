#include "fhir-profiles/validator/primitives.h"

#include <boost/test/unit_test.hpp>

namespace fhirbridge::validator {
namespace {

BOOST_AUTO_TEST_SUITE(primitives)

BOOST_AUTO_TEST_CASE(date_time_grammar) {
  BOOST_TEST(IsFhirDateTime("2024"));
  BOOST_TEST(IsFhirDateTime("2024-02"));
  BOOST_TEST(IsFhirDateTime("2024-02-29"));
  BOOST_TEST(IsFhirDateTime("2024-02-29T10:11:12Z"));
  BOOST_TEST(IsFhirDateTime("2024-02-29T10:11:12.123+14:00"));
  BOOST_TEST(!IsFhirDateTime("2023-02-29"));           // not a leap year
  BOOST_TEST(!IsFhirDateTime("2024-02-28T10:11:12"));  // a time needs a zone
  BOOST_TEST(!IsFhirDateTime("2024-02-28T10:11Z"));    // seconds are required
  BOOST_TEST(!IsFhirDateTime("2024-13-01"));
  BOOST_TEST(!IsFhirDateTime("2024-01-01T24:00:00Z"));
  BOOST_TEST(!IsFhirDateTime("2024-01-01T10:00:00+14:30"));
  BOOST_TEST(!IsFhirDateTime("0000"));
}

BOOST_AUTO_TEST_CASE(instant_date_time) {
  BOOST_TEST(IsFhirInstant("2015-02-07T13:28:17.239+02:00"));
  BOOST_TEST(!IsFhirInstant("2015-02-07"));
  BOOST_TEST(IsFhirDate("2015-02-07"));
  BOOST_TEST(!IsFhirDate("2015-02-07T13:28:17Z"));
  BOOST_TEST(IsFhirTime("13:28:17"));
  BOOST_TEST(!IsFhirTime("13:28"));
}

BOOST_AUTO_TEST_CASE(ids_and_uris) {
  BOOST_TEST(IsFhirId("a-b.C1"));
  BOOST_TEST(!IsFhirId("bad_id"));
  BOOST_TEST(!IsFhirId(std::string(65, 'a')));
  BOOST_TEST(IsFhirId(std::string(64, 'a')));
  BOOST_TEST(IsAbsoluteUri("urn:uuid:1"));
  BOOST_TEST(IsAbsoluteUri("http://x"));
  BOOST_TEST(!IsAbsoluteUri("Patient/1"));
  BOOST_TEST(!IsAbsoluteUri("1abc:x"));
}

BOOST_AUTO_TEST_CASE(json_kinds_and_grammars) {
  rapidjson::Document d;
  d.Parse(R"([true, 1, -1, 0, 1.5, "", "a  b", "urn:oid:1.2.3", "urn:oid:1.02", "QUJD", "QUJ"])");
  BOOST_TEST(CheckPrimitive("boolean", d[0]).empty());
  BOOST_TEST(!CheckPrimitive("boolean", d[1]).empty());
  BOOST_TEST(CheckPrimitive("positiveInt", d[1]).empty());
  BOOST_TEST(!CheckPrimitive("positiveInt", d[3]).empty());
  BOOST_TEST(!CheckPrimitive("unsignedInt", d[2]).empty());
  BOOST_TEST(CheckPrimitive("unsignedInt", d[3]).empty());
  BOOST_TEST(!CheckPrimitive("integer", d[4]).empty());
  BOOST_TEST(CheckPrimitive("decimal", d[4]).empty());
  BOOST_TEST(!CheckPrimitive("string", d[5]).empty());  // empty strings are not values
  BOOST_TEST(!CheckPrimitive("code", d[6]).empty());    // double whitespace
  BOOST_TEST(CheckPrimitive("string", d[6]).empty());
  BOOST_TEST(CheckPrimitive("oid", d[7]).empty());
  BOOST_TEST(!CheckPrimitive("oid", d[8]).empty());
  BOOST_TEST(CheckPrimitive("base64Binary", d[9]).empty());
  BOOST_TEST(!CheckPrimitive("base64Binary", d[10]).empty());
  BOOST_TEST(!CheckPrimitive("string", d[1]).empty());  // a number is not a string
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::validator
