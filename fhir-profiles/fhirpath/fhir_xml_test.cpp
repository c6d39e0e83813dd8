#include "fhir-profiles/fhirpath/fhir_xml.h"

#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "fhir-profiles/fhirpath/expression.h"

namespace fhirbridge::fhirpath {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kSuite = std::string(FHIRBRIDGE_SHARED_DIR) + "/data/fhir/fhirpath-r4/";

BOOST_AUTO_TEST_SUITE(fhir_xml)

BOOST_AUTO_TEST_CASE(reads_primitives_arrays_choices_and_extensions) {
  const char* xml = R"(<Patient xmlns="http://hl7.org/fhir"><id value="x"/>
    <active value="true"/><name><given value="A"/><given value="B"/></name>
    <birthDate value="1974-12-25"><extension url="http://e"><valueInteger value="7"/></extension></birthDate>
    <deceasedBoolean value="false"/></Patient>)";
  rapidjson::Document doc;
  BOOST_REQUIRE(FhirXmlToJson(xml, doc).ok());
  BOOST_TEST(doc["resourceType"].GetString() == std::string("Patient"));
  BOOST_TEST(doc["active"].GetBool());
  BOOST_TEST(doc["name"].IsArray());
  BOOST_TEST(doc["name"][0]["given"].Size() == 2u);
  BOOST_TEST(doc["_birthDate"]["extension"][0]["valueInteger"].GetString() == std::string("7"));
  BOOST_TEST(!doc["deceasedBoolean"].GetBool());
}

BOOST_AUTO_TEST_CASE(rejects_malformed_xml_and_applies_its_limits) {
  rapidjson::Document doc;
  BOOST_TEST(FhirXmlToJson("<Patient><id value='x'>", doc).IsInvalidArgument());
  BOOST_TEST(FhirXmlToJson("<NotAResource/>", doc).IsInvalidArgument());
  FhirXmlLimits small;
  small.max_bytes = 10;
  BOOST_TEST(
      FhirXmlToJson("<Patient xmlns='http://hl7.org/fhir'/>", doc, small).IsResourceExhausted());
  FhirXmlLimits shallow;
  shallow.max_depth = 2;
  BOOST_TEST(FhirXmlToJson("<Patient><contact><name><family value='x'/></name></contact></Patient>",
                           doc, shallow)
                 .IsResourceExhausted());
}

// Every XML input of the FHIRPath suite reads into the JSON form fhirpath.js was given (the
// suite's own JSON copies), compared through FHIRPath itself: same count of descendants and the
// same primitive values in the same order. Runs of white space compare equal: XML attribute
// normalisation (XML 1.0 §3.3.3) turns a newline inside value="" into a space, which the JSON
// copies (made by fhirpath.js) did not do.
BOOST_AUTO_TEST_CASE(suite_inputs_match_their_json_copies) {
  for (const char* name : {"patient-example", "observation-example", "questionnaire-example",
                           "valueset-example-expansion", "parameters-example-types",
                           "patient-example-period", "codesystem-example"}) {
    rapidjson::Document from_xml, from_json;
    BOOST_REQUIRE(FhirXmlToJson(ReadFile(kSuite + "input/" + name + ".xml"), from_xml).ok());
    BOOST_REQUIRE(
        ParseFhirJson(ReadFile(kSuite + "input-json-from-fhirpathjs/" + name + ".json"), from_json)
            .ok());
    Expression e = *Expression::Parse(
        "descendants().where($this is FHIR.string or $this is "
        "FHIR.decimal or $this is FHIR.boolean).select(toString().replaceMatches('\\\\s+', ' "
        "')).join('|')");
    auto a = e.Evaluate(Subject{&from_xml});
    auto b = e.Evaluate(Subject{&from_json});
    BOOST_REQUIRE_MESSAGE(a.ok(), a.status().ToString());
    BOOST_REQUIRE_MESSAGE(b.ok(), b.status().ToString());
    BOOST_TEST((*a)[0].string() == (*b)[0].string(), name);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::fhirpath
