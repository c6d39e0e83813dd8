// The validator rule by rule: each test builds a resource that breaks one rule (or keeps it)
// and checks the issue it gets.

#include "fhir-profiles/validator/validator.h"

#include <boost/test/unit_test.hpp>
#include <thread>

#include "fhir-profiles/validator/validator_test_support.h"
#include "fhir-profiles/validator/xml_reader.h"

namespace fhirbridge::validator {

const Validator& SharedValidator() {
  static std::unique_ptr<Validator> v = [] {
    auto defs = Definitions::Embedded();
    BOOST_REQUIRE(defs.ok());
    auto val = Validator::Create(std::move(*defs));
    BOOST_REQUIRE(val.ok());
    return std::move(*val);
  }();
  return *v;
}

namespace {

constexpr const char* kVitalCategory =
    R"("category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}])";

// A heart rate as the PCD-01 mapper writes it (valid against heartrate and our own profile).
std::string HeartRate(const std::string& extra = "", const std::string& code_extra = "") {
  return std::string(R"({"resourceType":"Observation",)") + extra +
         R"("identifier":[{"system":"urn:fhirbridge:observation","value":"x"}],"status":"final",)" +
         kVitalCategory +
         R"(,"code":{"coding":[{"system":"urn:iso:std:iso:11073:10101","code":"147842"},)" +
         code_extra + R"({"system":"http://loinc.org","code":"8867-4"}]},)" +
         R"("subject":{"reference":"Patient/p1"},"effectiveDateTime":"2015-01-22T18:26:56+00:00",)" +
         R"("valueQuantity":{"value":80,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"},)" +
         R"("device":{"reference":"Device/d1"}})";
}

Outcome Check(const std::string& json, const ValidationOptions& options = {}) {
  return SharedValidator().ValidateJson(json, options);
}

// True when some error's text contains `needle` (and prints the outcome when not).
bool HasError(const Outcome& o, const std::string& needle) {
  for (const DataIssue& i : o.issues)
    if ((i.severity == DataIssue::Severity::kError || i.severity == DataIssue::Severity::kFatal) &&
        i.text.find(needle) != std::string::npos)
      return true;
  BOOST_TEST_MESSAGE("no error containing '" << needle << "' in " << o.ToJson());
  return false;
}

BOOST_AUTO_TEST_SUITE(validator)

BOOST_AUTO_TEST_CASE(minimal_observation_is_valid) {
  Outcome o = Check(R"({"resourceType":"Observation","status":"final","code":{"text":"x"}})");
  BOOST_TEST(o.ErrorCount() == 0u, o.ToJson());
  BOOST_TEST(Outcome{}.ToJson().find("All OK") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(device_heart_rate_is_valid) {
  Outcome o = Check(HeartRate());
  BOOST_TEST(o.ErrorCount() == 0u, o.ToJson());
}

BOOST_AUTO_TEST_CASE(json_syntax_error_is_fatal) {
  Outcome o = Check(R"({"resourceType":"Observation",)");
  BOOST_REQUIRE(o.issues.size() == 1u);
  BOOST_TEST((o.issues[0].severity == DataIssue::Severity::kFatal));
  BOOST_TEST(o.issues[0].text.find("line 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(resource_type_is_required_and_known) {
  BOOST_TEST(HasError(Check(R"({"status":"final"})"), "resourceType"));
  BOOST_TEST(HasError(Check(R"({"resourceType":"Observaton"})"), "Unknown resource type"));
  BOOST_TEST(HasError(Check(R"([1,2])"), "JSON object"));
}

BOOST_AUTO_TEST_CASE(unknown_elements_are_errors_with_their_location) {
  Outcome o = Check(
      R"({"resourceType":"Observation","status":"final","code":{"text":"x","colour":"red"}})");
  BOOST_TEST(HasError(o, "Unrecognized property 'colour'"));
  BOOST_TEST(o.issues[0].location == "Observation.code");
}

BOOST_AUTO_TEST_CASE(wrong_json_types) {
  BOOST_TEST(HasError(Check(R"({"resourceType":"Observation","status":5,"code":{"text":"x"}})"),
                      "must be a string"));
  BOOST_TEST(HasError(Check(R"({"resourceType":"Patient","active":"yes"})"), "boolean"));
  BOOST_TEST(HasError(Check(R"({"resourceType":"Observation","status":"final","code":"x"})"),
                      "must be an Object"));
}

BOOST_AUTO_TEST_CASE(arrays_and_single_values) {
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"category":{"text":"c"}})"),
      "must be a JSON Array"));
  BOOST_TEST(
      HasError(Check(R"({"resourceType":"Observation","status":["final"],"code":{"text":"x"}})"),
               "not an Array"));
  BOOST_TEST(HasError(Check(R"({"resourceType":"Patient","name":[]})"), "Array cannot be empty"));
}

BOOST_AUTO_TEST_CASE(cardinality) {
  Outcome o = Check(R"({"resourceType":"Observation","code":{"text":"x"}})");
  BOOST_TEST(HasError(o, "Observation.status: minimum required = 1, but only found 0"));
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","valueBoolean":true})"),
      "max allowed = 1, but found 2"));
}

BOOST_AUTO_TEST_CASE(primitive_grammars) {
  BOOST_TEST(HasError(Check(R"({"resourceType":"Patient","birthDate":"1999-02-30"})"),
                      "Not a valid date"));
  BOOST_TEST(HasError(Check(R"({"resourceType":"Patient","id":"bad_id"})"), "Invalid Resource id"));
  BOOST_TEST(
      HasError(Check(R"({"resourceType":"Patient","gender":"male ","active":true})"), "code"));
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2020-01-01T10:00:00"})"),
      "date/time"));
  BOOST_TEST(Check(R"({"resourceType":"Patient","birthDate":"2000-02-29","_birthDate":{"id":"b"}})")
                 .ErrorCount() == 0u);
}

BOOST_AUTO_TEST_CASE(primitive_extensions) {
  // A primitive with only an extension is fine; with nothing at all it breaks ele-1.
  BOOST_TEST(
      Check(
          R"({"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}})")
          .ErrorCount() == 0u);
  BOOST_TEST(HasError(Check(R"({"resourceType":"Patient","_birthDate":{}})"), "ele-1"));
}

BOOST_AUTO_TEST_CASE(choice_types) {
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueAddress":{"city":"x"}})"),
      "valueAddress"));
  Outcome o = Check(
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"1"}})");
  BOOST_TEST(HasError(o, "number"));
  BOOST_TEST(o.issues[0].location == "Observation.value.ofType(Quantity).value");
}

BOOST_AUTO_TEST_CASE(required_bindings) {
  Outcome o = Check(R"({"resourceType":"Observation","status":"done","code":{"text":"x"}})");
  BOOST_TEST(HasError(o, "was not found in the value set"));
  BOOST_TEST(o.ErrorCount() == 2u);  // as the HL7 validator: no system, not in the set
  // UCUM units of a vital sign must come from the vital-signs units.
  std::string bad = HeartRate();
  bad.replace(bad.find(R"("code":"/min")"), 13, R"("code":"/s")");
  BOOST_TEST(HasError(Check(bad), "is fixed to '/min'"));  // heartrate fixes the unit
}

BOOST_AUTO_TEST_CASE(fixed_values_and_patterns) {
  // bp fixes the UCUM code of each component to mm[Hg].
  std::string bp =
      R"({"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/bp"]},"status":"final",)" +
      std::string(kVitalCategory) +
      R"(,"code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/p"},"effectiveDateTime":"2020-01-01",)"
      R"("component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},)"
      R"({"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":80,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"CODE"}}]})";
  BOOST_TEST(Check(bp.substr(0, bp.find("CODE")) + "mm[Hg]" + bp.substr(bp.find("CODE") + 4))
                 .ErrorCount() == 0u);
  std::string bad = bp.substr(0, bp.find("CODE")) + "kPa" + bp.substr(bp.find("CODE") + 4);
  BOOST_TEST(HasError(Check(bad), "is fixed to 'mm[Hg]'"));
}

BOOST_AUTO_TEST_CASE(slicing_requires_the_vital_signs_category) {
  std::string hr = HeartRate();
  std::string no_category = hr;
  no_category.replace(no_category.find(kVitalCategory), std::string(kVitalCategory).size(),
                      R"("category":[{"text":"other"}])");
  BOOST_TEST(HasError(Check(no_category), "Slice 'Observation.category:VSCat'"));
  std::string wrong_loinc = hr;
  wrong_loinc.replace(wrong_loinc.find("8867-4"), 6, "8310-5");      // a body temperature in /min
  BOOST_TEST(HasError(Check(wrong_loinc), "BodyTemperatureUnits"));  // bodytemp applies by code
}

BOOST_AUTO_TEST_CASE(references) {
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient"}})"),
      "Relative URLs must be of the format"));
  ValidationOptions rest;
  rest.assume_valid_rest_references = true;
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Medication/1"}})",
          rest),
      "is not a valid Target"));
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"#p"}})"),
      "contained reference not found"));
  // In a Bundle, a reference that resolves to an entry of another type.
  std::string bundle =
      R"({"resourceType":"Bundle","type":"collection","entry":[)"
      R"({"fullUrl":"urn:uuid:11111111-1111-1111-1111-111111111111","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:22222222-2222-2222-2222-222222222222"}}},)"
      R"({"fullUrl":"urn:uuid:22222222-2222-2222-2222-222222222222","resource":{"resourceType":"Medication"}}]})";
  BOOST_TEST(HasError(Check(bundle), "is not a valid Target"));
}

BOOST_AUTO_TEST_CASE(bundle_rules) {
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"Patient/1","resource":{"resourceType":"Patient","id":"1"}}]})"),
      "fullUrl must be an absolute URL"));
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"}}]})"),
      "must have a fullUrl"));
  // Entries are validated as resources, with their location.
  Outcome o = Check(
      R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","gender":"x"},"request":{"method":"POST","url":"Patient"}}]})");
  BOOST_TEST(HasError(o, "was not found in the value set"));
  BOOST_TEST(o.issues[0].location == "Bundle.entry[0].resource.gender");
}

BOOST_AUTO_TEST_CASE(invariants) {
  if (SharedValidator().invariant_engine() == nullptr) return;  // built without FHIRPath
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"period":{"start":"2020-01-02","end":"2020-01-01"}})"),
      "per-1"));
  // obs-6: dataAbsentReason only when there is no value.
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","dataAbsentReason":{"text":"x"}})"),
      "obs-6"));
  // ext-1 is built in: an extension has a value or extensions, not both.
  BOOST_TEST(
      HasError(Check(R"({"resourceType":"Patient","extension":[{"url":"http://example.org/x"}]})"),
               "ext-1"));
}

BOOST_AUTO_TEST_CASE(profiles_by_meta_and_by_option) {
  std::string unknown = HeartRate(R"("meta":{"profile":["http://example.org/nothing"]},)");
  Outcome o = Check(unknown);
  BOOST_TEST(o.ErrorCount() == 0u);
  BOOST_TEST(o.ToJson().find("has not been checked") != std::string::npos);
  ValidationOptions explicit_profile;
  explicit_profile.profiles.push_back("http://hl7.org/fhir/StructureDefinition/bodyweight");
  BOOST_TEST(HasError(Check(HeartRate(), explicit_profile), "BodyWeightCode"));
}

BOOST_AUTO_TEST_CASE(our_device_vital_sign_profile) {
  const std::string claim =
      R"("meta":{"profile":["http://fhirbridge.org/fhir/StructureDefinition/device-vital-sign"]},)";
  BOOST_TEST(Check(HeartRate(claim)).ErrorCount() == 0u, Check(HeartRate(claim)).ToJson());
  std::string no_device = HeartRate(claim);
  no_device.erase(no_device.find(R"(,"device")"),
                  std::string(R"(,"device":{"reference":"Device/d1"})").size());
  BOOST_TEST(HasError(Check(no_device), "Observation.device: minimum required = 1"));
  std::string no_mdc = HeartRate(claim);
  no_mdc.erase(no_mdc.find(R"({"system":"urn:iso)"),
               std::string(R"({"system":"urn:iso:std:iso:11073:10101","code":"147842"},)").size());
  BOOST_TEST(HasError(Check(no_mdc), "Observation.code.coding:MDC"));
  std::string no_identifier = HeartRate(claim);
  no_identifier.erase(
      no_identifier.find(R"("identifier")"),
      std::string(R"("identifier":[{"system":"urn:fhirbridge:observation","value":"x"}],)").size());
  BOOST_TEST(HasError(Check(no_identifier), "Observation.identifier: minimum required = 1"));
}

BOOST_AUTO_TEST_CASE(fhir_xml) {
  const Validator& v = SharedValidator();
  Outcome ok = v.ValidateXml(
      R"(<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><active value="true"/><name><given value="A"/><given value="B"/></name></Patient>)",
      {});
  BOOST_TEST(ok.ErrorCount() == 0u, ok.ToJson());
  BOOST_TEST(HasError(
      v.ValidateXml(R"(<Patient xmlns="http://hl7.org/fhir"><colour value="red"/></Patient>)", {}),
      "Undefined element 'colour'"));
  BOOST_TEST(
      HasError(v.ValidateXml(
                   R"(<Patient xmlns="http://hl7.org/fhir"><active value="maybe"/></Patient>)", {}),
               "boolean"));
  BOOST_TEST(HasError(v.ValidateXml(R"(<Patient xmlns="http://hl7.org/fhir">&reg;</Patient>)", {}),
                      "not declared"));
  BOOST_TEST(HasError(v.ValidateXml(R"(<Patient xmlns="urn:other"/>)", {}), "FHIR namespace"));
  BOOST_TEST(
      HasError(v.ValidateXml(R"(<Patient xmlns="http://hl7.org/fhir"><active value="true">)", {}),
               "XML error"));
}

BOOST_AUTO_TEST_CASE(narrative) {
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x</script></div>"}})"),
      "Invalid element name in the XHTML ('script')"));
  BOOST_TEST(HasError(
      Check(
          R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">&reg;</div>"}})"),
      "Invalid entity"));
}

// Limits on outside input: one test per limit.
BOOST_AUTO_TEST_CASE(limit_nesting_depth) {
  std::string deep = R"({"resourceType":"Patient","contained":[)";
  std::string tail = "]}";
  for (int i = 0; i < 10; ++i) {
    deep += R"({"resourceType":"Patient","contained":[)";
    tail += "]}";
  }
  deep += R"({"resourceType":"Patient"})" + tail;
  ValidationOptions shallow;
  shallow.max_depth = 4;
  BOOST_TEST(HasError(Check(deep, shallow), "nested deeper than 4"));
}

BOOST_AUTO_TEST_CASE(limit_issue_count) {
  std::string many = R"({"resourceType":"Patient")";
  for (int i = 0; i < 50; ++i) many += ",\"x" + std::to_string(i) + "\":1";
  many += "}";
  ValidationOptions few;
  few.max_issues = 10;
  BOOST_TEST(Check(many, few).issues.size() == 10u);
  BOOST_TEST(Check(many).issues.size() >= 50u);
}

BOOST_AUTO_TEST_CASE(limit_definition_size_count_and_snapshot) {
  auto defs = Definitions::Embedded();
  BOOST_REQUIRE(defs.ok());
  DefinitionLimits tiny;
  tiny.max_bytes = 100;
  BOOST_TEST((*defs)->AddJson(std::string(200, ' '), "big.json", tiny).IsResourceExhausted());
  DefinitionLimits few;
  few.max_resources = 1;
  BOOST_TEST((*defs)
                 ->AddJson(R"({"resourceType":"Bundle","entry":[{"resource":{}},{"resource":{}}]})",
                           "b.json", few)
                 .IsResourceExhausted());
  DefinitionLimits small_snapshot;
  small_snapshot.max_snapshot_elements = 10;
  std::string profile =
      R"({"resourceType":"StructureDefinition","url":"http://example.org/p","type":"Patient",)"
      R"("baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","derivation":"constraint",)"
      R"("differential":{"element":[{"id":"Patient.identifier","path":"Patient.identifier","min":1}]}})";
  BOOST_TEST((*defs)->AddJson(profile, "p.json", small_snapshot).IsResourceExhausted());
  BOOST_TEST((*defs)->AddJson(profile, "p.json").ok());
}

BOOST_AUTO_TEST_CASE(limit_xml_size_and_depth) {
  rapidjson::Document doc;
  DataIssues issues;
  XmlLimits tiny;
  tiny.max_bytes = 10;
  BOOST_TEST(
      XmlToJson(R"(<Patient xmlns="http://hl7.org/fhir"/>)", SharedValidator(), doc, issues, tiny)
          .IsResourceExhausted());
  XmlLimits shallow;
  shallow.max_depth = 1;
  rapidjson::Document doc2;
  BOOST_TEST(
      XmlToJson(
          R"(<Patient xmlns="http://hl7.org/fhir"><name><period><start value="2020"/></period></name></Patient>)",
          SharedValidator(), doc2, issues, shallow)
          .ok());
  bool deep = false;
  for (const DataIssue& i : issues) deep |= i.text.find("nested deeper") != std::string::npos;
  BOOST_TEST(deep);
}

BOOST_AUTO_TEST_CASE(loaded_profile_gets_a_snapshot_and_applies) {
  auto defs = Definitions::Embedded();
  BOOST_REQUIRE(defs.ok());
  BOOST_REQUIRE(
      (*defs)
          ->AddJson(
              R"({"resourceType":"StructureDefinition","url":"http://example.org/p","type":"Patient",)"
              R"("baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","derivation":"constraint",)"
              R"("differential":{"element":[{"id":"Patient.name","path":"Patient.name","min":1},)"
              R"({"id":"Patient.name.family","path":"Patient.name.family","min":1}]}})",
              "p.json")
          .ok());
  auto v = Validator::Create(std::move(*defs));
  BOOST_REQUIRE(v.ok());
  ValidationOptions options;
  options.profiles.push_back("http://example.org/p");
  BOOST_TEST(HasError((*v)->ValidateJson(R"({"resourceType":"Patient"})", options),
                      "Patient.name: minimum required = 1"));
  BOOST_TEST(HasError(
      (*v)->ValidateJson(R"({"resourceType":"Patient","name":[{"given":["A"]}]})", options),
      "Patient.name.family: minimum required = 1"));
  BOOST_TEST((*v)->ValidateJson(R"({"resourceType":"Patient","name":[{"family":"B"}]})", options)
                 .ErrorCount() == 0u);
}

BOOST_AUTO_TEST_CASE(validate_is_thread_safe) {
  const std::string good = HeartRate();
  const std::string bad = R"({"resourceType":"Observation","status":"done","code":{"text":"x"}})";
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (Check(good).ErrorCount() != 0) ++failures[t];
        if (Check(bad).ErrorCount() != 2) ++failures[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int f : failures) BOOST_TEST(f == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::validator
