#include "fhir-profiles/fhirpath/quantity.h"

#include <boost/test/unit_test.hpp>

namespace fhirbridge::fhirpath {
namespace {

Quantity Q(const char* value, const char* unit, bool keyword = false) {
  Quantity q;
  q.value = *Decimal::Parse(value);
  q.unit = unit;
  q.calendar_keyword = keyword;
  return q;
}

BOOST_AUTO_TEST_SUITE(quantity)

BOOST_AUTO_TEST_CASE(builtin_catalogue_reduces_units_to_base_units) {
  const UnitCatalog& units = BuiltinUnitCatalog();
  BOOST_TEST(units.ToCanonical(4, "mg")->value == 0.004, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(units.ToCanonical(1, "m2")->dimension == "m2");
  BOOST_TEST(units.ToCanonical(1, "cm.m")->dimension == "m2");
  BOOST_TEST(units.ToCanonical(1, "g/m")->dimension == "m-1.g1");
  BOOST_TEST(units.ToCanonical(1, "m/m")->dimension == "");
  BOOST_TEST(units.ToCanonical(2, "mL")->value == 2e-6, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(units.ToCanonical(1, "/min")->dimension == "s-1");
  BOOST_TEST(!units.ToCanonical(1, "[s]").has_value());
  BOOST_TEST(!units.ToCanonical(1, "furlong").has_value());
  BOOST_TEST(!units.ToCanonical(1, "").has_value());
}

BOOST_AUTO_TEST_CASE(compares_commensurable_units_and_calendar_durations) {
  BOOST_TEST(*CompareQuantities(Q("4.0000", "g"), Q("4000.0", "mg")) == 0);
  BOOST_TEST(*CompareQuantities(Q("185", "[lb_av]"), Q("185", "kg")) == -1);
  BOOST_TEST(*CompareQuantities(Q("7", "days", true), Q("1", "week", true)) == 0);
  BOOST_TEST(*CompareQuantities(Q("7", "days", true), Q("1", "wk")) == 0);
  BOOST_TEST(!CompareQuantities(Q("1", "month", true), Q("1", "mo")).has_value());
  BOOST_TEST(!CompareQuantities(Q("1", "year", true), Q("1", "a")).has_value());
  BOOST_TEST(!CompareQuantities(Q("1", "cm"), Q("1", "s")).has_value());
  BOOST_TEST(*CompareQuantities(Q("2", "year", true), Q("2", "years", true)) == 0);
}

BOOST_AUTO_TEST_CASE(equivalence_rounds_to_the_lesser_precision) {
  BOOST_TEST(QuantitiesEquivalent(Q("4", "g"), Q("4040", "mg")));
  BOOST_TEST(QuantitiesEquivalent(Q("4.0", "g"), Q("4040", "mg")));
  BOOST_TEST(!QuantitiesEquivalent(Q("4.00", "g"), Q("4040", "mg")));
  BOOST_TEST(!QuantitiesEquivalent(Q("1", "cm"), Q("1", "g")));
}

BOOST_AUTO_TEST_CASE(multiplies_units_and_parses_quantity_strings) {
  Quantity area = *MultiplyQuantities(Q("2.0", "cm"), Q("2.0", "m"), false);
  BOOST_TEST(area.ToString() == "4.00 'cm.m'");
  BOOST_TEST(*CompareQuantities(area, Q("0.040", "m2")) == 0);
  BOOST_TEST(MultiplyQuantities(Q("1.0", "m"), Q("1.0", "m"), true)->unit == "1");
  BOOST_TEST(!MultiplyQuantities(Q("1", "m"), Q("0", "m"), true).has_value());
  BOOST_TEST(AddQuantities(Q("1", "kg"), Q("500", "g"), false)->ToString() == "1.5 'kg'");
  BOOST_TEST(ParseQuantity("1 'wk'")->ToString() == "1 'wk'");
  BOOST_TEST(ParseQuantity("1 day")->ToString() == "1 day");
  BOOST_TEST(ParseQuantity("1.5")->ToString() == "1.5 '1'");
  BOOST_TEST(!ParseQuantity("1 wk").has_value());
  BOOST_TEST(!ParseQuantity("1.a").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::fhirpath
