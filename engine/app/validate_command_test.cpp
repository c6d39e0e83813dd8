// fhirbridge validate, run in-process: exit status 0 / 1 / 2, the OperationOutcome on stdout,
// --load and --profile, JSON and XML input.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/app/commands.h"
#include "engine/testing/temp_dir.h"

namespace fhirbridge::app {
namespace {

struct Run {
  int status;
  std::string out;
  std::string err;
};

Run Validate(const std::vector<std::string>& args, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  int status = RunValidate(args, in, out, err);
  return {status, out.str(), err.str()};
}

std::string TempFile(const std::string& name, const std::string& text) {
  static const testing::TempDir dir("fhirbridge-validate");
  const std::string path = dir / name;
  std::ofstream(path) << text;
  return path;
}

BOOST_AUTO_TEST_SUITE(validate_command)

BOOST_AUTO_TEST_CASE(valid_and_invalid_resources) {
  Run ok = Validate({"-"}, R"({"resourceType":"Patient","active":true})");
  BOOST_TEST(ok.status == 0, ok.out << ok.err);
  BOOST_TEST(ok.out.rfind("{\"resourceType\":\"OperationOutcome\"", 0) == 0u);
  Run bad = Validate({"-"}, R"({"resourceType":"Patient","gender":"unknown-ish"})");
  BOOST_TEST(bad.status == 1);
  BOOST_TEST(bad.out.find("Patient.gender") != std::string::npos);
  Run xml = Validate({TempFile(
      "p.xml", R"(<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>)")});
  BOOST_TEST(xml.status == 0, xml.out);
  Run broken = Validate({"-"}, "{");
  BOOST_TEST(broken.status == 1);
  BOOST_TEST(broken.out.find("\"severity\":\"fatal\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(load_and_profile) {
  std::string profile = TempFile(
      "profile.json",
      R"({"resourceType":"StructureDefinition","url":"http://example.org/needs-name",)"
      R"("type":"Patient","baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient",)"
      R"("derivation":"constraint","differential":{"element":[{"id":"Patient.name","path":"Patient.name","min":1}]}})");
  std::string patient = TempFile("patient.json", R"({"resourceType":"Patient"})");
  BOOST_TEST(Validate({patient}).status == 0);
  Run r = Validate({"--load", profile, "--profile", "http://example.org/needs-name", patient});
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out.find("Patient.name: minimum required = 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(usage_problems_exit_2) {
  BOOST_TEST(Validate({}).status == 2);
  BOOST_TEST(Validate({"--bogus", "-"}).status == 2);
  BOOST_TEST(Validate({"--profile", "http://example.org/unknown", "-"}, "{}").status == 2);
  BOOST_TEST(Validate({"--load", "/nonexistent/file.json", "-"}, "{}").status == 2);
  BOOST_TEST(Validate({"/nonexistent/input.json"}).status == 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::app
