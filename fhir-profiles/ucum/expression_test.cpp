#include "expression.h"

#include <boost/test/unit_test.hpp>
#include <string>

namespace fhirbridge::ucum {
namespace {

const EssenceTable& Table() {
  static const EssenceTable table = EssenceTable::Parse(EssenceTable::EmbeddedText()).value();
  return table;
}

Result<Term> Parse(std::string_view text, const ExpressionLimits& limits = {}) {
  return ParseExpression(text, Table(), limits);
}

// The error message of parsing `text`, which must fail.
std::string ErrorOf(std::string_view text, const ExpressionLimits& limits = {}) {
  Result<Term> term = Parse(text, limits);
  BOOST_TEST_REQUIRE(!term.ok(), std::string(text) << " should be invalid");
  BOOST_TEST(term.status().IsInvalidArgument());
  return term.status().message();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string AtomCode(const Component& c) { return Table().atoms()[c.atom].code; }

BOOST_AUTO_TEST_SUITE(ucum_expression)

BOOST_AUTO_TEST_CASE(operators_associate_to_the_left) {
  Result<Term> t = Parse("s/m/g");
  BOOST_REQUIRE(t.ok());
  BOOST_REQUIRE(t->size() == 3u);
  BOOST_TEST(!(*t)[0].divide);
  BOOST_TEST((*t)[1].divide);
  BOOST_TEST((*t)[2].divide);  // (s/m)/g = s.m-1.g-1
  Result<Term> lead = Parse("/m");
  BOOST_REQUIRE(lead.ok());
  BOOST_TEST((*lead)[0].divide);
}

BOOST_AUTO_TEST_CASE(prefixes_exponents_and_powers_of_ten) {
  Result<Term> t = Parse("cm2.10*-3.dam.Pa");
  BOOST_REQUIRE(t.ok());
  const Component& cm = (*t)[0].component;
  BOOST_TEST(AtomCode(cm) == "m");
  BOOST_REQUIRE(cm.prefix.has_value());
  BOOST_TEST(Table().prefixes()[*cm.prefix].code == "c");
  BOOST_TEST(cm.exponent == 2);
  BOOST_TEST(AtomCode((*t)[1].component) == "10*");
  BOOST_TEST((*t)[1].component.exponent == -3);
  BOOST_TEST(Table().prefixes()[*(*t)[2].component.prefix].code == "da");
  BOOST_TEST(AtomCode((*t)[3].component) == "Pa");  // the atom, not peta-year
  BOOST_TEST(!(*t)[3].component.prefix.has_value());
}

BOOST_AUTO_TEST_CASE(factors_groups_annotations_and_brackets) {
  Result<Term> t = Parse("4.[pi].mmol/(8.h.kg){x}");
  BOOST_TEST(!t.ok());  // an annotation cannot follow a parenthesised term
  t = Parse("4.[pi].mmol/(8.h.kg{body_wt})");
  BOOST_REQUIRE(t.ok());
  BOOST_TEST(((*t)[0].component.kind == Component::Kind::kFactor));
  BOOST_TEST((*t)[0].component.factor == 4.0);
  BOOST_TEST(AtomCode((*t)[1].component) == "[pi]");
  const Component& group = (*t)[3].component;
  BOOST_REQUIRE((group.kind == Component::Kind::kGroup));
  BOOST_REQUIRE(group.group.size() == 3u);
  BOOST_TEST(*group.group[2].component.annotation == "body_wt");
  Result<Term> a = Parse("{cells}");
  BOOST_REQUIRE(a.ok());
  BOOST_TEST(((*a)[0].component.kind == Component::Kind::kAnnotation));
  BOOST_TEST(Parse("1{c}").ok());
  BOOST_TEST(Parse("B[10.nV]").ok());         // '.' inside brackets belongs to the atom
  BOOST_TEST(Parse("[m/s2/Hz^(1/2)]").ok());  // so do '/' and parentheses
  BOOST_TEST(Parse("").ok());
  BOOST_TEST(Parse("").value().empty());
}

BOOST_AUTO_TEST_CASE(errors_say_what_and_where) {
  BOOST_TEST(Contains(ErrorOf("m/"), "'/' is not followed by a unit at position 2"));
  BOOST_TEST(Contains(ErrorOf("10+3/ul"), "number '10' cannot take an exponent"));
  BOOST_TEST(Contains(ErrorOf("{a}rad2{b}"), "position 3"));
  BOOST_TEST(Contains(ErrorOf("{|}1"), "position 3"));
  std::string hours = ErrorOf("g/12h");
  BOOST_TEST(Contains(hours, "'12' must be followed by '.' or '/'"));
  BOOST_TEST(Contains(hours, "position 2"));
  BOOST_TEST(Contains(ErrorOf("iU"), "unknown unit 'iU' at position 0"));
  BOOST_TEST(Contains(ErrorOf("mmol/kg[H20]"), "unknown unit 'kg[H20]' at position 5"));
  BOOST_TEST(Contains(ErrorOf("k[in_i]"), "prefix 'k' cannot be used with non-metric unit"));
  BOOST_TEST(Contains(ErrorOf("m.[in_i"), "'[' is not closed at position 2"));
  BOOST_TEST(Contains(ErrorOf("m)"), "')' without a matching '('"));
  BOOST_TEST(Contains(ErrorOf("(m"), "'(' is not closed at position 0"));
  BOOST_TEST(Contains(ErrorOf("m{a"), "'{' is not closed at position 1"));
  BOOST_TEST(Contains(ErrorOf("m m"), "space not allowed at position 1"));
  BOOST_TEST(Contains(ErrorOf("rad2{\xe9\x8c\xa0}"), "position 5"));
  BOOST_TEST(Contains(ErrorOf("ug(8.h)"), "position 2"));
  BOOST_TEST(Contains(ErrorOf(".m"), "expected a unit, found '.' at position 0"));
}

BOOST_AUTO_TEST_CASE(length_limit) {
  ExpressionLimits limits;
  std::string ok = "m";
  while (ok.size() + 2 <= limits.max_length) ok += ".m";
  while (ok.size() < limits.max_length) ok += "2";  // m2 is fine
  BOOST_REQUIRE(ok.size() == limits.max_length);
  BOOST_TEST(Parse(ok, limits).ok());
  BOOST_TEST(Contains(ErrorOf(ok + "2", limits), "longer than"));
}

BOOST_AUTO_TEST_CASE(nesting_limit) {
  ExpressionLimits limits;
  auto nested = [](std::size_t depth) {
    return std::string(depth, '(') + "m" + std::string(depth, ')');
  };
  BOOST_TEST(Parse(nested(limits.max_depth), limits).ok());
  BOOST_TEST(Contains(ErrorOf(nested(limits.max_depth + 1), limits), "nested deeper"));
}

BOOST_AUTO_TEST_CASE(exponent_limit) {
  ExpressionLimits limits;
  std::string max = std::to_string(limits.max_exponent);
  std::string over = std::to_string(limits.max_exponent + 1);
  BOOST_TEST(Parse("m" + max, limits).ok());
  BOOST_TEST(Parse("m-" + max, limits).ok());
  BOOST_TEST(Contains(ErrorOf("m" + over, limits), "exponent beyond"));
  BOOST_TEST(Contains(ErrorOf("m-99999999999999999999999", limits), "exponent beyond"));
}

BOOST_AUTO_TEST_CASE(factor_digit_limit) {
  ExpressionLimits limits;
  BOOST_TEST(Parse(std::string(limits.max_factor_digits, '9') + ".m", limits).ok());
  BOOST_TEST(
      Contains(ErrorOf(std::string(limits.max_factor_digits + 1, '9'), limits), "more than"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::ucum
