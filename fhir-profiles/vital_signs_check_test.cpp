#include "fhir-profiles/vital_signs_check.h"

#include <fstream>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

namespace fhirbridge::profiles {
namespace {

rapidjson::Document ReadExample(const std::string& name) {
  std::ifstream in(std::string(FHIRBRIDGE_SHARED_DIR) + "/data/fhir/examples-r4/" + name);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << name);
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  return doc;
}

std::vector<ProfileIssue> Check(const rapidjson::Value& obs) {
  std::vector<ProfileIssue> issues;
  CheckVitalSignObservation(obs, "Observation", issues);
  return issues;
}

std::string Describe(const std::vector<ProfileIssue>& issues) {
  std::string out;
  for (const auto& i : issues) out += i.path + ": " + i.text + "\n";
  return out;
}

BOOST_AUTO_TEST_SUITE(vital_signs_check)

// The official R4 vital-sign examples meet their profiles.
BOOST_AUTO_TEST_CASE(official_examples_pass) {
  for (const char* name :
       {"Observation-heart-rate.json", "Observation-satO2.json",
        "Observation-respiratory-rate.json", "Observation-body-temperature.json",
        "Observation-body-height.json", "Observation-blood-pressure.json", "Observation-bmi.json",
        "Observation-head-circumference.json", "Observation-blood-pressure-dar.json"}) {
    rapidjson::Document doc = ReadExample(name);
    const auto issues = Check(doc);
    BOOST_TEST(issues.empty(), name << ":\n" << Describe(issues));
  }
}

BOOST_AUTO_TEST_CASE(missing_category_is_reported) {
  rapidjson::Document doc = ReadExample("Observation-heart-rate.json");
  doc.RemoveMember("category");
  const auto issues = Check(doc);
  BOOST_REQUIRE_EQUAL(issues.size(), 1u);
  BOOST_TEST(issues[0].path == "Observation.category");
}

BOOST_AUTO_TEST_CASE(wrong_unit_is_reported) {
  rapidjson::Document doc = ReadExample("Observation-heart-rate.json");
  doc["valueQuantity"]["code"].SetString("{beat}/min");
  const auto issues = Check(doc);
  BOOST_REQUIRE_EQUAL(issues.size(), 1u);
  BOOST_TEST(issues[0].path == "Observation.valueQuantity.code");
}

BOOST_AUTO_TEST_CASE(missing_value_and_absent_reason_break_vs2) {
  rapidjson::Document doc = ReadExample("Observation-satO2.json");
  doc.RemoveMember("valueQuantity");
  const auto issues = Check(doc);
  BOOST_REQUIRE_EQUAL(issues.size(), 1u);
  BOOST_TEST(issues[0].text.find("vs-2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bp_without_diastolic_is_reported) {
  rapidjson::Document doc = ReadExample("Observation-blood-pressure.json");
  auto& components = doc["component"];
  components.Erase(components.Begin() + 1);
  const auto issues = Check(doc);
  BOOST_REQUIRE_EQUAL(issues.size(), 1u);
  BOOST_TEST(issues[0].text.find("8462-4") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(local_time_without_offset_is_not_a_dateTime) {
  rapidjson::Document doc = ReadExample("Observation-heart-rate.json");
  doc["effectiveDateTime"].SetString("1999-07-02T10:00:00");
  const auto issues = Check(doc);
  BOOST_REQUIRE_EQUAL(issues.size(), 1u);
  BOOST_TEST(issues[0].path == "Observation.effective[x]");
}

BOOST_AUTO_TEST_CASE(bundle_rules) {
  rapidjson::Document doc;
  doc.Parse(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
    {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Observation","status":"final",
      "subject":{"reference":"urn:uuid:2"},"code":{"text":"x"},"valueString":"a"}}]})");
  BOOST_REQUIRE(!doc.HasParseError());
  const auto issues = CheckTransactionBundle(doc);
  const std::string all = Describe(issues);
  BOOST_TEST(all.find("bdl-7") != std::string::npos, all);
  BOOST_TEST(all.find("bdl-3") != std::string::npos, all);
  BOOST_TEST(all.find("does not resolve") != std::string::npos, all);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::profiles
