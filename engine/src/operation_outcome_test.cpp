#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include "fhirbridge/issue.h"

namespace fhirbridge {
namespace {

BOOST_AUTO_TEST_SUITE(operation_outcome)

DataIssues Mixed() {
  const std::string dom6 = "Constraint failed: dom-6: 'A resource should have narrative'";
  return {DataIssue::Warning("invariant", "Bundle.entry[0].resource", dom6),
          DataIssue::Error("value", "OBX[2]-6", "unit \"mmHg2\" is not UCUM"),
          DataIssue::Warning("invariant", "Bundle.entry[1].resource", dom6),
          DataIssue::Error("value", "OBX[4]-6", "unit \"mmHg2\" is not UCUM"),
          DataIssue::Warning("invariant", "Bundle.entry[2].resource", dom6),
          // Same text and code, other severity: a separate issue.
          DataIssue::Error("invariant", "Bundle.entry[3].resource", dom6),
          DataIssue::Info("informational", "", "no PV1: no encounter")};
}

BOOST_AUTO_TEST_CASE(each_issue_is_its_own_entry_by_default) {
  rapidjson::Document doc;
  doc.Parse(RenderOperationOutcome(Mixed()).c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  BOOST_TEST(doc["issue"].Size() == 7u);
  BOOST_TEST(doc["issue"][6].HasMember("location") == false);
}

BOOST_AUTO_TEST_CASE(grouped_form_lists_every_location_of_a_repeated_issue_once) {
  const std::string text = RenderGroupedOperationOutcome(Mixed());
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  BOOST_TEST(doc["resourceType"].GetString() == std::string("OperationOutcome"));
  const rapidjson::Value& issues = doc["issue"];
  BOOST_REQUIRE(issues.Size() == 4u);
  // In order of each group's first issue, locations in their order.
  BOOST_TEST(issues[0]["severity"].GetString() == std::string("warning"));
  BOOST_REQUIRE(issues[0]["location"].Size() == 3u);
  BOOST_TEST(issues[0]["location"][0].GetString() == std::string("Bundle.entry[0].resource"));
  BOOST_TEST(issues[0]["location"][2].GetString() == std::string("Bundle.entry[2].resource"));
  BOOST_TEST(issues[1]["severity"].GetString() == std::string("error"));
  BOOST_TEST(issues[1]["code"].GetString() == std::string("value"));
  BOOST_REQUIRE(issues[1]["location"].Size() == 2u);
  BOOST_TEST(issues[1]["location"][1].GetString() == std::string("OBX[4]-6"));
  BOOST_TEST(issues[2]["severity"].GetString() == std::string("error"));
  BOOST_TEST(issues[2]["location"].Size() == 1u);
  BOOST_TEST(issues[3]["severity"].GetString() == std::string("information"));
  BOOST_TEST(issues[3].HasMember("location") == false);
  // Shorter than the one-entry-per-issue form, with nothing lost.
  BOOST_TEST(text.size() < RenderOperationOutcome(Mixed()).size());
}

BOOST_AUTO_TEST_CASE(grouped_form_of_no_issues_is_an_empty_outcome) {
  BOOST_TEST(RenderGroupedOperationOutcome({}) ==
             R"({"resourceType":"OperationOutcome","issue":[]})");
}

BOOST_AUTO_TEST_CASE(grouped_form_can_use_expression) {
  const std::string text = RenderGroupedOperationOutcome(
      {DataIssue::Warning("invariant", "Observation.code", "x")}, IssuePath::kExpression);
  BOOST_TEST(text.find(R"("expression":["Observation.code"])") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge
