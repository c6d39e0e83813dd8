#include "fhir-profiles/fhirpath/expression.h"

#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "fhir-profiles/fhirpath/output.h"

namespace fhirbridge::fhirpath {
namespace {

rapidjson::Document Load(std::string_view json) {
  rapidjson::Document doc;
  BOOST_REQUIRE(ParseFhirJson(json, doc).ok());
  return doc;
}

const char* kObservation = R"({
  "resourceType": "Observation", "id": "bp", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
  "valueQuantity": {"value": 1.50, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
  "component": [
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
     "valueQuantity": {"value": 120, "code": "mm[Hg]"}},
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
     "valueQuantity": {"value": 80, "code": "mm[Hg]"}}],
  "_status": {"extension": [{"url": "http://example.org/x", "valueString": "note"}]}
})";

// The result of `expression` on `json` in the CLI's output form.
std::string Run(std::string_view expression, const char* json = kObservation) {
  rapidjson::Document doc = Load(json);
  Result<Expression> e = Expression::Parse(expression);
  BOOST_REQUIRE_MESSAGE(e.ok(), expression << ": " << e.status().ToString());
  Result<Collection> r = e->Evaluate(Subject{&doc});
  BOOST_REQUIRE_MESSAGE(r.ok(), expression << ": " << r.status().ToString());
  return CollectionToJson(*r);
}

Status EvalStatus(std::string_view expression, const char* json = kObservation) {
  rapidjson::Document doc = Load(json);
  Result<Expression> e = Expression::Parse(expression);
  if (!e.ok()) return e.status();
  return e->Evaluate(Subject{&doc}).status();
}

BOOST_AUTO_TEST_SUITE(expression)

BOOST_AUTO_TEST_CASE(navigates_choice_types_and_keeps_decimal_text) {
  BOOST_TEST(Run("Observation.value.value") == R"([{"type":"decimal","value":"1.50"}])");
  BOOST_TEST(Run("value.unit") == R"([{"type":"string","value":"kg"}])");
  BOOST_TEST(Run("component.value.count()") == R"([{"type":"integer","value":"2"}])");
  BOOST_TEST(Run("status") == R"([{"type":"code","value":"final"}])");
  BOOST_TEST(Run("status.extension.value") == R"([{"type":"string","value":"note"}])");
}

BOOST_AUTO_TEST_CASE(evaluates_the_observation_invariants) {
  // FHIR R4 obs-7 and vs-2 style invariants.
  BOOST_TEST(Run("value.empty() or component.code.where(coding.intersect(%resource.code.coding)"
                 ".exists()).empty()") == R"([{"type":"boolean","value":"true"}])");
  BOOST_TEST(Run("(component.empty() and hasMember.empty()) implies (dataAbsentReason.exists() or "
                 "value.exists())") == R"([{"type":"boolean","value":"true"}])");
}

BOOST_AUTO_TEST_CASE(evaluate_boolean_follows_the_callers_empty_rule) {
  rapidjson::Document doc = Load(kObservation);
  Expression e = *Expression::Parse("issued.exists().not().where(false)");
  BOOST_TEST(*e.EvaluateBoolean(Subject{&doc}, true));
  BOOST_TEST(!*e.EvaluateBoolean(Subject{&doc}, false));
  BOOST_TEST(!Expression::Parse("component")->EvaluateBoolean(Subject{&doc}, true).ok());
}

BOOST_AUTO_TEST_CASE(reports_syntax_and_evaluation_errors) {
  BOOST_TEST(!Expression::Parse("2 + 2 /").ok());
  BOOST_TEST(!Expression::Parse("2 + 2 /* open").ok());
  BOOST_TEST(!Expression::Parse("name.foo(").ok());
  BOOST_TEST(!Expression::Parse("nofunction()").ok());
  BOOST_TEST(!Expression::Parse("'abc'.substring()").ok());
  BOOST_TEST(!Expression::Parse("Observation.valueQuantity").ok());
  BOOST_TEST(!EvalStatus("component.single()").ok());
  BOOST_TEST(!EvalStatus("%unknown").ok());
  BOOST_TEST(!EvalStatus("1 < 'a'").ok());
}

BOOST_AUTO_TEST_CASE(limits_expression_size_and_nesting) {
  BOOST_TEST(Expression::Parse(std::string(70000, ' ') + "1").status().IsResourceExhausted());
  BOOST_TEST(Expression::Parse(std::string(500, '(') + "1" + std::string(500, ')'))
                 .status()
                 .IsResourceExhausted());
  rapidjson::Document doc;
  BOOST_TEST(
      ParseFhirJson(std::string(300, '[') + std::string(300, ']'), doc).IsResourceExhausted());
}

BOOST_AUTO_TEST_CASE(trace_reports_to_the_subject) {
  rapidjson::Document doc = Load(kObservation);
  std::string seen;
  Subject subject{&doc};
  subject.trace = [&](std::string_view name, const Collection& items) {
    seen = std::string(name) + ":" + std::to_string(items.size());
  };
  BOOST_TEST(Expression::Parse("component.trace('c').count()")->Evaluate(subject).ok());
  BOOST_TEST(seen == "c:2");
}

BOOST_AUTO_TEST_CASE(resolves_references_in_a_bundle_and_contained) {
  const char* bundle = R"({"resourceType": "Bundle", "type": "collection", "entry": [
    {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "id": "p1",
      "contained": [{"resourceType": "Organization", "id": "o1", "name": "Acme"}],
      "managingOrganization": {"reference": "#o1"}}},
    {"resource": {"resourceType": "Observation", "id": "x", "status": "final",
      "code": {"text": "t"}, "subject": {"reference": "Patient/p1"}}}]})";
  BOOST_TEST(Run("entry.resource.ofType(Observation).subject.resolve().id", bundle) ==
             R"([{"type":"id","value":"p1"}])");
  rapidjson::Document doc = Load(bundle);
  const rapidjson::Value& patient = doc["entry"][0]["resource"];
  Subject subject{&patient};
  subject.root_resource = &doc;
  auto r = Expression::Parse("managingOrganization.resolve().name")->Evaluate(subject);
  BOOST_TEST(CollectionToJson(*r) == R"([{"type":"string","value":"Acme"}])");
}

BOOST_AUTO_TEST_CASE(obs7_fails_when_a_component_repeats_the_main_code) {
  // The %resource.code.coding sub-expression is evaluated once and reused for each component:
  // the cached value must be the same one a fresh evaluation gives.
  const char* obs = R"({"resourceType": "Observation", "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "1"}]},
    "valueString": "x",
    "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "2"}]}},
                  {"code": {"coding": [{"system": "http://loinc.org", "code": "1"}]}}]})";
  BOOST_TEST(Run("component.code.where(coding.intersect(%resource.code.coding).exists()).count()",
                 obs) == R"([{"type":"integer","value":"1"}])");
  BOOST_TEST(Run("value.empty() or component.code.where(coding.intersect(%resource.code.coding)"
                 ".exists()).empty()",
                 obs) == R"([{"type":"boolean","value":"false"}])");
}

BOOST_AUTO_TEST_CASE(static_checks_follow_the_context_type) {
  ParseOptions observation;
  observation.context_type = "Observation";
  BOOST_TEST(!Expression::Parse("component.code.codingX", observation).ok());
  BOOST_TEST(!Expression::Parse("(value as Period).unit", observation).ok());
  BOOST_TEST(
      Expression::Parse("value.unit | value.start | component.value.code", observation).ok());
  BOOST_TEST(Expression::Parse("contained.name | %resource.foo", observation).ok());
  BOOST_TEST(Expression::Parse("codingX").ok());  // no context type: nothing to check against
  BOOST_TEST(!Expression::Parse("Encounter.name").ok());
  ParseOptions ordered = observation;
  ordered.check_ordered_functions = true;
  BOOST_TEST(!Expression::Parse("children().first()", ordered).ok());
  BOOST_TEST(!Expression::Parse("descendants().code[0]", ordered).ok());
  BOOST_TEST(Expression::Parse("children().count()", ordered).ok());
  BOOST_TEST(Expression::Parse("children().first()", observation).ok());
}

BOOST_AUTO_TEST_CASE(date_component_and_other_2_1_functions) {
  BOOST_TEST(Run("@2014-01-05T10:30:00+02:00.hourOf() | @2014-01.dayOf() | @2014-01.monthOf()") ==
             R"([{"type":"integer","value":"10"},{"type":"integer","value":"1"}])");
  BOOST_TEST(Run("@2014-01-05T10:30:00-05:30.timezoneOffsetOf()") ==
             R"([{"type":"decimal","value":"-5.5"}])");
  BOOST_TEST(Run("@2014-01-05T10:30.dateOf() | @2014-01-05T10:30.timeOf()") ==
             R"([{"type":"date","value":"@2014-01-05"},{"type":"time","value":"@T10:30"}])");
  BOOST_TEST(Run("'a.b.a'.lastIndexOf('a') | '12'.toLong()") ==
             R"([{"type":"integer","value":"4"},{"type":"integer","value":"12"}])");
  BOOST_TEST(Run("(1 | 2).repeatAll(iif($this < 3, $this + 2, {})).count()") ==
             R"([{"type":"integer","value":"2"}])");
}

BOOST_AUTO_TEST_CASE(primitive_extensions_without_values) {
  const char* patient = R"({"resourceType": "Patient",
    "name": [{"given": ["A", null], "_given": [null, {"extension": [{"url": "u", "valueCode": "x"}]}]}]})";
  BOOST_TEST(Run("name.given.count() | name.given.hasValue()", patient) ==
             R"([{"type":"integer","value":"2"},{"type":"boolean","value":"false"}])");
  BOOST_TEST(Run("name.given.select(hasValue())", patient) ==
             R"([{"type":"boolean","value":"true"},{"type":"boolean","value":"false"}])");
  BOOST_TEST(Run("name.given.extension('u').value", patient) == R"([{"type":"code","value":"x"}])");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::fhirpath
