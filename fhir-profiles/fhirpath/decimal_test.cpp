#include "fhir-profiles/fhirpath/decimal.h"

#include <boost/test/unit_test.hpp>

namespace fhirbridge::fhirpath {
namespace {

Decimal D(const char* text) {
  std::optional<Decimal> d = Decimal::Parse(text);
  BOOST_REQUIRE_MESSAGE(d.has_value(), "cannot parse " << text);
  return *d;
}

BOOST_AUTO_TEST_SUITE(decimal)

BOOST_AUTO_TEST_CASE(keeps_the_written_scale) {
  BOOST_TEST(D("1.50").ToString() == "1.50");
  BOOST_TEST(D("-0.0").ToString() == "0.0");
  BOOST_TEST(D("1234567890987654321.0").ToString() == "1234567890987654321.0");
  BOOST_TEST(D("1e-3").ToString() == "0.001");
  BOOST_TEST(D("12E2").ToString() == "1200");
}

BOOST_AUTO_TEST_CASE(rejects_malformed_numbers) {
  for (const char* bad : {"", "-", ".5", "1.", "1.2.3", "1e", "abc", "1x"}) {
    BOOST_TEST(!Decimal::Parse(bad).has_value(), bad);
  }
  BOOST_TEST(!Decimal::Parse("123456789012345678901234567890123456789").has_value());
}

BOOST_AUTO_TEST_CASE(arithmetic_is_exact) {
  BOOST_TEST(D("0.1").Add(D("0.2"))->Compare(D("0.3")) == 0);
  BOOST_TEST(D("1.8").Subtract(D("1.2"))->ToString() == "0.6");
  BOOST_TEST(D("1.2").Multiply(D("1.8"))->ToString() == "2.16");
  BOOST_TEST(D("1").Divide(D("2"))->ToString() == "0.5");
  BOOST_TEST(D("2").Divide(D("2"))->ToString() == "1");
  BOOST_TEST(D("1").Divide(D("3"))->ToString() == "0.33333333");
  BOOST_TEST(!D("1").Divide(D("0")).has_value());
  BOOST_TEST(D("2.2").Modulo(D("1.8"))->ToString() == "0.4");
  BOOST_TEST(D("5").IntegerDivide(D("2"))->ToString() == "2");
}

BOOST_AUTO_TEST_CASE(compares_by_value_and_equivalence_by_least_precision) {
  BOOST_TEST(D("1.10").Compare(D("1.1")) == 0);
  BOOST_TEST(D("-1.5").Compare(D("1")) == -1);
  BOOST_TEST(D("0.6666667").Equivalent(D("0.67")));
  BOOST_TEST(!D("0.6666667").Equivalent(D("0.6")));
}

BOOST_AUTO_TEST_CASE(rounds_as_asked) {
  using R = Decimal::Rounding;
  BOOST_TEST(D("3.14159").Rescale(3, R::kHalfAwayFromZero).ToString() == "3.142");
  BOOST_TEST(D("-2.5").Rescale(0, R::kHalfAwayFromZero).ToString() == "-3");
  BOOST_TEST(D("-2.1").Rescale(0, R::kFloor).ToString() == "-3");
  BOOST_TEST(D("-1.1").Rescale(0, R::kCeiling).ToString() == "-1");
  BOOST_TEST(D("-1.56").Rescale(0, R::kTowardZero).ToString() == "-1");
  BOOST_TEST(D("1.5").Rescale(3, R::kTowardZero).ToString() == "1.500");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::fhirpath
