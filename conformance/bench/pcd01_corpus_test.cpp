#include "conformance/bench/pcd01_corpus.h"

#include <rapidjson/document.h>

#include <set>
#include <string>
#include <string_view>

#include <boost/test/unit_test.hpp>

#include "connectors/hl7v2/er7.h"
#include "fhir-profiles/vital_signs_check.h"
#include "mappers/pcd01_mapper.h"

namespace fhirbridge::conformance {
namespace {

BOOST_AUTO_TEST_SUITE(pcd01_corpus)

// The benchmark measures real work only if its messages are valid PCD-01 that converts into
// profile-conformant Bundles.
BOOST_AUTO_TEST_CASE(benchmark_messages_convert_cleanly) {
  auto terms = mappers::Terminology::LoadBuiltin();
  BOOST_REQUIRE(terms.ok());
  const mappers::Pcd01Mapper mapper(*terms, mappers::Pcd01Options{});
  for (const std::string& message : MakePcd01Corpus(56, 5, 60)) {
    auto parsed = hl7v2::Parse(message);
    BOOST_REQUIRE(parsed.ok());
    std::size_t obx = 0;
    for (std::size_t i = 0; i < parsed->segment_count(); ++i)
      obx += parsed->segment(i).id() == "OBX";
    const mappers::Mapped mapped = mapper.Map(message);
    BOOST_REQUIRE_MESSAGE(mapped.ok(), "message with " << obx << " OBX failed");
    for (const DataIssue& issue : mapped.issues)
      BOOST_TEST((issue.severity == DataIssue::Severity::kInformation),
                 issue.location << " " << issue.text);
    rapidjson::Document doc;
    doc.Parse(mapped.bundle.c_str());
    BOOST_REQUIRE(!doc.HasParseError());
    BOOST_TEST(profiles::CheckTransactionBundle(doc).empty());
  }
}

BOOST_AUTO_TEST_CASE(thirty_obx_message_has_the_benchmark_shape) {
  const std::string m = MakePcd01Message(30, 7);
  auto parsed = hl7v2::Parse(m);
  BOOST_REQUIRE(parsed.ok());
  std::size_t obx = 0;
  for (std::size_t i = 0; i < parsed->segment_count(); ++i) obx += parsed->segment(i).id() == "OBX";
  BOOST_TEST(obx == 30u);
}

// The end-to-end bench counts Observations on the server: two messages of a run must never map
// to the same identifier, or the server's conditional create matches instead of creating. Seeds
// 1 and 3841 share the row times (seed % 60) and once shared the device (seed % 256).
BOOST_AUTO_TEST_CASE(messages_of_a_run_have_distinct_observation_identifiers) {
  auto terms = mappers::Terminology::LoadBuiltin();
  BOOST_REQUIRE(terms.ok());
  const mappers::Pcd01Mapper mapper(*terms, mappers::Pcd01Options{});
  std::set<std::string> seen;
  std::size_t observations = 0;
  for (int seed : {1, 257, 3841, 65537 - 60}) {
    const mappers::Mapped mapped = mapper.Map(MakePcd01Message(8, seed));
    BOOST_REQUIRE(mapped.ok());
    rapidjson::Document doc;
    doc.Parse(mapped.bundle.c_str());
    BOOST_REQUIRE(!doc.HasParseError());
    for (const auto& entry : doc["entry"].GetArray()) {
      const auto& resource = entry["resource"];
      if (std::string_view(resource["resourceType"].GetString()) != "Observation") continue;
      ++observations;
      for (const auto& id : resource["identifier"].GetArray())
        BOOST_TEST(seen.insert(std::string(id["value"].GetString())).second,
                   "seed " << seed << " repeats " << id["value"].GetString());
    }
  }
  BOOST_TEST(observations > 8u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::conformance
