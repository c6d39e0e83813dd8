// The validator on real data: the official R4 vital-sign examples validate against their
// profiles, and every Bundle `fhirbridge convert` emits (the mappers' golden files) validates.

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "fhir-profiles/validator/validator.h"
#include "fhir-profiles/validator/validator_test_support.h"

namespace fhirbridge::validator {
namespace {

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string Errors(const Outcome& o) {
  std::string s;
  for (const DataIssue& i : o.issues)
    if (i.severity == DataIssue::Severity::kError || i.severity == DataIssue::Severity::kFatal)
      s += "\n  " + i.location + ": " + i.text;
  return s;
}

BOOST_AUTO_TEST_SUITE(examples)

BOOST_AUTO_TEST_CASE(official_vital_sign_examples_validate_against_their_profiles) {
  std::filesystem::path dir = std::string(FHIRBRIDGE_SHARED_DIR) + "/data/fhir/examples-r4";
  int vital = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("Observation-", 0) != 0) continue;
    std::string text = Slurp(entry.path());
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    BOOST_REQUIRE(!doc.HasParseError());
    // The vital-sign examples (category vital-signs), each against the profiles it claims.
    // Observation-f202 reports a body temperature without effective[x]: it does not claim
    // bodytemp, and would not meet it, so the by-code rule is off here.
    if (text.find("\"vital-signs\"") == std::string::npos) continue;
    ++vital;
    ValidationOptions options;
    options.vital_signs_by_code = false;
    Outcome o = SharedValidator().Validate(doc, options);
    BOOST_TEST(o.ErrorCount() == 0u, name << Errors(o));
  }
  BOOST_TEST(vital == 16);
}

BOOST_AUTO_TEST_CASE(every_bundle_convert_emits_validates) {
  std::filesystem::path dir = std::string(FHIRBRIDGE_SOURCE_DIR) + "/mappers/testdata/golden";
  int bundles = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(entry.path());
    std::string line;
    int n = 0;
    while (std::getline(f, line)) {
      ++n;
      if (line.empty() || line[0] == '#' ||
          line.find("\"resourceType\":\"Bundle\"") == std::string::npos)
        continue;
      ++bundles;
      Outcome o = SharedValidator().ValidateJson(line, {});
      BOOST_TEST(o.ErrorCount() == 0u, entry.path().filename().string() << ":" << n << Errors(o));
    }
  }
  BOOST_TEST(bundles >= 10);  // the golden files hold 13 Bundles today
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::validator
