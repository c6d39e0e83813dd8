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

BOOST_AUTO_TEST_SUITE(pcd01_text_paths)

// A message whose PID-3, PID-5, device identifier (OBX-18) and device type (a private OBX-3)
// each hold `j`: "A", or an HL7 escape that decodes to it.
std::string DeviceMessage(const std::string& j) {
  return "MSH|^~\\&|GW|ACME|||20240315101500-0400||ORU^R01|T1|P|2.6\r"
         "PID|||MRN" +
         j + "1^^^HOSP^MR||Smith" + j + "^Anna^M" + j +
         "rie^^^^L||19800215|F\r"
         "OBR|1|||182777000^monitoring of patient^SCT|||20240315101200-0400\r"
         "OBX|1||9" +
         j + "^Monitor " + j + "^99MNDRY|1.0.0.0|||||||X|||||||ACME^^00112233445566" + j + j +
         "^EUI-64\r"
         "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.0.1|95|262688^MDC_DIM_PERCENT^MDC|||||F|||"
         "20240315101000-0400\r";
}

// Texts without escapes are read straight from the message's bytes; with an escape they are
// decoded. Both must give the same Bundle.
BOOST_AUTO_TEST_CASE(escaped_texts_map_as_their_plain_text) {
  const Pcd01Mapper mapper(Terms(), TestOptions());
  const Mapped plain = mapper.Map(DeviceMessage("A"));
  const Mapped escaped = mapper.Map(DeviceMessage("\\X41\\"));
  BOOST_REQUIRE(plain.ok());
  BOOST_REQUIRE(escaped.ok());
  BOOST_TEST(plain.bundle.find(R"("family":"SmithA","given":["Anna","MArie"])") !=
             std::string::npos);
  BOOST_TEST(plain.bundle.find(R"("value":"MRNA1")") != std::string::npos);
  BOOST_TEST(plain.bundle.find(R"("value":"00112233445566AA")") != std::string::npos);
  BOOST_TEST(plain.bundle.find(R"("code":"9A","display":"Monitor A")") != std::string::npos);
  BOOST_TEST(escaped.bundle == plain.bundle);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::mappers
