// Mapping files: the shipped ones load; a bad one lists every problem with its key path.

#include "mappers/json_mapping.h"

#include <boost/test/unit_test.hpp>

namespace fhirbridge::mappers::json {
namespace {

const Terminology& Terms() {
  static const Terminology terms = std::move(Terminology::LoadBuiltin()).value();
  return terms;
}

std::string ProblemsOf(const std::string& text) {
  Result<Mapping> m = LoadMapping(text, Terms());
  BOOST_REQUIRE(!m.ok());
  BOOST_TEST(m.status().IsInvalidArgument());
  return m.status().message();
}

void ExpectProblem(const std::string& problems, const std::string& line) {
  BOOST_TEST(problems.find(line) != std::string::npos, "missing: " << line << "\nin:\n"
                                                                   << problems);
}

const std::string kMinimal = R"({
  "mapping_version": 1,
  "device": {"id": "/d", "system": "urn:x:d"},
  "patient": {"id": "/p", "system": "urn:x:p"},
  "measurements": [{"items": "/m", "time": "/t", "fixed_code": "hr", "value": "/v",
                    "fixed_unit": "bpm"}],
  "codes": {"hr": {"mdc": 147842}},
  "units": {"bpm": "/min"}
})";

BOOST_AUTO_TEST_SUITE(json_mapping)

BOOST_AUTO_TEST_CASE(shipped_mappings_load) {
  for (const char* name : {"cgm", "wearable"}) {
    const std::string path =
        std::string(FHIRBRIDGE_SOURCE_DIR) + "/mappers/testdata/json/" + name + ".mapping.json";
    Result<Mapping> m = LoadMappingFile(path, Terms());
    BOOST_TEST(m.ok(), m.status().ToString());
  }
}

BOOST_AUTO_TEST_CASE(minimal_mapping_resolves_codes_and_vital_signs) {
  Result<Mapping> m = LoadMapping(kMinimal, Terms());
  BOOST_REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  const CodeEntry& hr = m->codes.at("hr");
  BOOST_TEST(hr.mdc_display == "MDC_ECG_HEART_RATE");
  BOOST_REQUIRE(hr.vital != nullptr);
  BOOST_TEST(hr.vital->loinc == "8867-4");
  BOOST_TEST(m->groups.at(0).time.pointer.text == "/t");
}

BOOST_AUTO_TEST_CASE(every_problem_is_listed_with_its_key_path) {
  const std::string problems = ProblemsOf(R"({
    "mapping_version": 2,
    "colour": "blue",
    "device": {"id": "device/id", "system": "not a uri"},
    "patient": {"system": "urn:x:p"},
    "measurements": [
      {"items": "/m", "time": {"pointer": "/t", "format": "julian", "zone": "Mars/Olympus"},
       "code": "/c", "fixed_code": "hr", "value": "/v~2", "fixed_unit": "furlongs"},
      {"items": "/bp", "time": "/t", "fixed_code": "bp", "value": "/v",
       "components": [{"code": "hr", "value": "/s"}, {"code": "nope", "value": "/d"}]}
    ],
    "codes": {"hr": {"mdc": 147842, "loinc": "1234-5"}, "bp": {"mdc": 150020},
              "x": {"mdc": 4294967}, "y": {"loinc": "8867-4"}},
    "units": {"bpm": "beats per minute"},
    "unknown_codes": "sometimes",
    "limits": {"max_depth": 0}
  })");
  ExpectProblem(problems, "mapping_version: required: 1");
  ExpectProblem(problems, "colour: unknown key");
  ExpectProblem(problems, "device.id: not a JSON Pointer (RFC 6901: must start with '/')");
  ExpectProblem(problems, "device.system: not a URI");
  ExpectProblem(problems, "patient.id: required");
  ExpectProblem(problems, "measurements[0].time.format: must be iso8601, epoch-s or epoch-ms");
  ExpectProblem(problems, "measurements[0].time.zone: no time zone named \"Mars/Olympus\"");
  ExpectProblem(problems, "measurements[0].code: give either code (a pointer) or fixed_code");
  ExpectProblem(problems, "measurements[0].value: not a JSON Pointer (RFC 6901: '~'");
  ExpectProblem(problems, "measurements[0].fixed_unit: \"furlongs\" is not a key of units");
  ExpectProblem(problems, "measurements[1].value: a panel has components, not a value");
  ExpectProblem(problems,
                "measurements[1].components[0].code: MDC 147842 is not a component of the");
  ExpectProblem(problems, "measurements[1].components[1].code: \"nope\" is not a key of codes");
  ExpectProblem(problems, "codes[\"hr\"].loinc: MDC 147842 is the vital sign LOINC 8867-4");
  ExpectProblem(problems, "codes[\"x\"].mdc: 4294967 is not in the MDC tables");
  ExpectProblem(problems, "codes[\"y\"].mdc: required");
  ExpectProblem(problems, "units[\"bpm\"]: \"beats per minute\" is not a valid UCUM code");
  ExpectProblem(problems, "unknown_codes: must be error or ignore");
  ExpectProblem(problems, "limits.max_depth: must be an integer 1..256");
}

BOOST_AUTO_TEST_CASE(not_json_and_not_an_object) {
  BOOST_TEST(ProblemsOf("{").find("not valid JSON at byte 1") != std::string::npos);
  BOOST_TEST(ProblemsOf("[]").find("a mapping file is a JSON object") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_group_needs_a_time_somewhere) {
  std::string text = kMinimal;
  text.replace(text.find(R"("time": "/t", )"), 14, "");
  ExpectProblem(ProblemsOf(text), "measurements[0].time: required");
}

BOOST_AUTO_TEST_CASE(missing_file_is_not_found) {
  Result<Mapping> m = LoadMappingFile("/nonexistent/x.mapping.json", Terms());
  BOOST_TEST(m.status().IsNotFound());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::mappers::json
