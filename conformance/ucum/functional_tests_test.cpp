#include "conformance/ucum/functional_tests.h"

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <string>

namespace fhirbridge::conformance {
namespace {

const std::string kTestsFile =
    std::string(FHIRBRIDGE_SHARED_DIR) + "/data/fhir/ucum/UcumFunctionalTests.xml";

UcumCase Case(std::string group, std::map<std::string, std::string> attributes) {
  return UcumCase{std::move(group), "t", std::move(attributes)};
}

BOOST_AUTO_TEST_SUITE(ucum_functional_tests)

BOOST_AUTO_TEST_CASE(precision_is_the_written_precision) {
  BOOST_TEST(MatchesStatedPrecision(0.16002, "0.160"));
  BOOST_TEST(!MatchesStatedPrecision(0.1606, "0.160"));
  BOOST_TEST(MatchesStatedPrecision(25.2, "25"));
  BOOST_TEST(!MatchesStatedPrecision(25.6, "25"));
  BOOST_TEST(MatchesStatedPrecision(1e-7, "1e-7"));
  BOOST_TEST(MatchesStatedPrecision(1.1e-7, "1e-7"));  // one significant digit
  BOOST_TEST(!MatchesStatedPrecision(1.6e-7, "1e-7"));
  BOOST_TEST(MatchesStatedPrecision(1.0570008340246155e-18, "1.05700083402461546370946e-18"));
  BOOST_TEST(!MatchesStatedPrecision(1.0570008341e-18, "1.05700083402461546370946e-18"));
  BOOST_TEST(!MatchesStatedPrecision(1, "one"));
}

BOOST_AUTO_TEST_CASE(loads_every_group_of_the_official_file) {
  auto cases = LoadUcumFunctionalTests(kTestsFile);
  BOOST_REQUIRE_MESSAGE(cases.ok(), cases.status().ToString());
  std::vector<UcumCaseOutcome> none(cases->size());
  auto scores = ScoreByGroup(*cases, none);
  BOOST_REQUIRE(scores.size() == 5u);
  BOOST_TEST(scores[0].group == "validation");
  BOOST_TEST(scores[4].group == "division");
  for (const UcumGroupScore& s : scores) {
    BOOST_TEST(s.total > 0);
    BOOST_TEST(s.passed == 0);
  }
  BOOST_TEST(LoadUcumFunctionalTests(kTestsFile + ".missing").status().IsNotFound());
}

BOOST_AUTO_TEST_CASE(malformed_file_is_invalid_argument) {
  std::string path = "ucum_functional_tests_bad.xml";
  std::ofstream(path) << "<ucumTests><validation><case id='1' unit='m'";
  BOOST_TEST(LoadUcumFunctionalTests(path).status().IsInvalidArgument());
  std::ofstream(path) << "<other/>";
  BOOST_TEST(LoadUcumFunctionalTests(path).status().IsInvalidArgument());
  std::remove(path.c_str());
}

BOOST_AUTO_TEST_CASE(cases_pass_and_fail_for_the_right_reasons) {
  const auto& ucum = ucum::UnitSystem::Embedded();
  BOOST_TEST(RunUcumCase(ucum, Case("validation", {{"unit", "m"}, {"valid", "true"}})).passed);
  auto wrong = RunUcumCase(ucum, Case("validation", {{"unit", "m"}, {"valid", "false"}}));
  BOOST_TEST(!wrong.passed);
  BOOST_TEST(wrong.detail.find("accepted") == 0u);
  BOOST_TEST(
      RunUcumCase(
          ucum, Case("conversion",
                     {{"value", "6.3"}, {"srcUnit", "mm"}, {"dstUnit", "cm"}, {"outcome", "0.63"}}))
          .passed);
  auto off = RunUcumCase(
      ucum, Case("conversion",
                 {{"value", "6.3"}, {"srcUnit", "mm"}, {"dstUnit", "cm"}, {"outcome", "0.65"}}));
  BOOST_TEST(!off.passed);
  BOOST_TEST(off.detail.find("expected 0.65") == 0u);
  BOOST_TEST(RunUcumCase(ucum, Case("division", {{"v1", "3"},
                                                 {"u1", "m"},
                                                 {"v2", "2"},
                                                 {"u2", "s"},
                                                 {"vRes", "150"},
                                                 {"uRes", "cm/s"}}))
                 .passed);
  BOOST_TEST(
      RunUcumCase(
          ucum,
          Case(
              "multiplication",
              {{"v1", "2"}, {"u1", ""}, {"v2", "3"}, {"u2", "m"}, {"vRes", "600"}, {"uRes", "cm"}}))
          .passed);
  BOOST_TEST(!RunUcumCase(ucum, Case("bogus", {})).passed);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::conformance
