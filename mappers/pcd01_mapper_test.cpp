#include "mappers/pcd01_mapper.h"

#include <filesystem>
#include <string>

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>

#include "connectors/hl7v2/framing.h"
#include "fhir-profiles/vital_signs_check.h"
#include "mappers/golden_test_support.h"

namespace fhirbridge::mappers {
namespace {

namespace fs = std::filesystem;

const Terminology& Terms() {
  static const Terminology terms = [] {
    Result<Terminology> t = Terminology::LoadBuiltin();
    BOOST_REQUIRE_MESSAGE(t.ok(), t.status().ToString());
    return std::move(t).value();
  }();
  return terms;
}

std::shared_ptr<const TimeZone> Zone(const std::string& name) {
  Result<std::shared_ptr<const TimeZone>> z = TimeZone::Load(name);
  BOOST_REQUIRE_MESSAGE(z.ok(), z.status().ToString());
  return *z;
}

// The settings our own test messages are written for (mappers/testdata/pcd01/README.md).
Pcd01Options TestOptions() {
  Pcd01Options o;
  o.source_name = "test";
  o.assume_timezone = Zone("America/New_York");
  o.identifier_systems = {{"HOSP", "http://hospital.example/mrn"}};
  o.code_systems = {{"99MNDRY", "urn:oid:1.3.6.1.4.1.99999.1"}};
  return o;
}

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError(), "invalid JSON: " << text.substr(0, 200));
  return doc;
}

// What `fhirbridge convert` prints for each message (a Bundle or an OperationOutcome), with the
// warnings it sends to stderr as '#' lines below it. Every Bundle must also pass the R4 bundle
// and vital-signs profile checks.
std::string ConvertForGolden(const Pcd01Mapper& mapper, const std::string& input) {
  std::string out;
  const hl7v2::SplitResult split = hl7v2::SplitMessagesReporting(input);
  for (const hl7v2::FramingProblem& p : split.problems)
    out += "#framing byte " + std::to_string(p.offset) + ": " + p.reason + "\n";
  for (std::string_view message : split.messages) {
    const Mapped mapped = mapper.Map(message);
    if (mapped.ok()) {
      out += mapped.bundle + "\n";
      rapidjson::Document doc = ParseJson(mapped.bundle);
      for (const profiles::ProfileIssue& issue : profiles::CheckTransactionBundle(doc))
        BOOST_ERROR("profile check: " << issue.path << ": " << issue.text);
      for (const DataIssue& i : mapped.issues)
        out +=
            std::string("#") + SeverityCode(i.severity) + " " + i.location + ": " + i.text + "\n";
    } else {
      const std::string outcome = RenderOperationOutcome(mapped.issues);
      ParseJson(outcome);
      out += outcome + "\n";
    }
  }
  return out;
}

void RunGoldenFolder(const fs::path& inputs, const Pcd01Options& options) {
  const Pcd01Mapper mapper(Terms(), options);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(inputs))
    if (entry.path().extension() == ".hl7") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  BOOST_REQUIRE(!files.empty());
  for (const fs::path& file : files) {
    BOOST_TEST_CONTEXT(file.filename()) {
      const std::string output = ConvertForGolden(mapper, testing::ReadFile(file));
      testing::ExpectGolden(fs::path(FHIRBRIDGE_SOURCE_DIR) / "mappers/testdata/golden" /
                                (file.stem().string() + ".ndjson"),
                            output);
    }
  }
}

BOOST_AUTO_TEST_SUITE(pcd01_golden)

// The real device messages in ../shared/data/hl7v2 (IHE, Dräger, NIST/Karolinska). Their local
// times are read as UTC: the senders' zones are not known (MSH-7 of 01 says +0000).
BOOST_AUTO_TEST_CASE(shared_device_messages) {
  Pcd01Options options;
  options.source_name = "golden";
  options.assume_timezone = Zone("UTC");
  RunGoldenFolder(fs::path(FHIRBRIDGE_SHARED_DIR) / "data/hl7v2", options);
}

// Our own messages, one or more per mapping rule.
BOOST_AUTO_TEST_CASE(rule_messages) {
  RunGoldenFolder(fs::path(FHIRBRIDGE_SOURCE_DIR) / "mappers/testdata/pcd01", TestOptions());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::mappers
