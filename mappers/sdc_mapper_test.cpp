#include "mappers/sdc_mapper.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include <rapidjson/document.h>
#include <pugixml.hpp>

#include <boost/test/unit_test.hpp>

#include "fhir-profiles/validator/validator.h"
#include "fhir-profiles/vital_signs_check.h"
#include "fhirbridge/timezone.h"
#include "mappers/golden_test_support.h"

namespace fhirbridge::mappers {
namespace {

namespace fs = std::filesystem;

const fs::path kTestData = fs::path(FHIRBRIDGE_SOURCE_DIR) / "mappers" / "testdata" / "sdc";
const fs::path kSharedMdibs = fs::path(FHIRBRIDGE_SHARED_DIR) / "data" / "ieee11073" / "sdc_mdib";

const Terminology& Terms() {
  static const Terminology terms = [] {
    Result<Terminology> t = Terminology::LoadBuiltin();
    BOOST_REQUIRE_MESSAGE(t.ok(), t.status().ToString());
    return std::move(t).value();
  }();
  return terms;
}

const validator::Validator& FhirValidator() {
  static const std::unique_ptr<validator::Validator> v = [] {
    auto defs = validator::Definitions::Embedded();
    BOOST_REQUIRE_MESSAGE(defs.ok(), defs.status().ToString());
    auto created = validator::Validator::Create(std::move(defs).value());
    BOOST_REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    return std::move(created).value();
  }();
  return *v;
}

SdcOptions TestOptions() {
  SdcOptions o;
  o.source_name = "test";
  return o;
}

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError(), "invalid JSON: " << text.substr(0, 200));
  return doc;
}

// "<!-- fhirbridge-test mdib: NAME -->" in a report names the MDIB (beside it) it refers to.
std::optional<sdc::SdcDocument> ContextOf(const std::string& xml) {
  const std::string tag = "<!-- fhirbridge-test mdib: ";
  const std::size_t at = xml.find(tag);
  if (at == std::string::npos) return std::nullopt;
  const std::size_t end = xml.find(" -->", at);
  const std::string name = xml.substr(at + tag.size(), end - at - tag.size());
  Result<sdc::SdcDocument> mdib = sdc::ReadSdcDocument(testing::ReadFile(kTestData / name));
  BOOST_REQUIRE_MESSAGE(mdib.ok(), mdib.status().ToString());
  return std::move(mdib).value();
}

MapOutput MapFile(const fs::path& path, const SdcOptions& options = TestOptions()) {
  const std::string xml = testing::ReadFile(path);
  const std::optional<sdc::SdcDocument> context = ContextOf(xml);
  return SdcMapper(Terms(), options).Map(xml, context ? &*context : nullptr);
}

// What `fhirbridge convert --format sdc` prints: the Bundle (checked by the R4 transaction and
// vital-signs rules and by the FHIR validator) with the issues as '#' lines, or an
// OperationOutcome.
std::string ConvertForGolden(const MapOutput& mapped) {
  if (mapped.result != MapOutput::Result::kMapped)
    return RenderOperationOutcome(mapped.issues, "SDC document") + "\n";
  std::string out = mapped.bundle + "\n";
  const rapidjson::Document doc = ParseJson(mapped.bundle);
  for (const profiles::ProfileIssue& issue : profiles::CheckTransactionBundle(doc))
    BOOST_ERROR("profile check: " << issue.path << ": " << issue.text);
  const validator::Outcome o = FhirValidator().ValidateJson(mapped.bundle, {});
  for (const DataIssue& i : o.issues) {
    if (i.severity == DataIssue::Severity::kError || i.severity == DataIssue::Severity::kFatal)
      BOOST_ERROR("validator: " << i.location << ": " << i.text);
  }
  for (const DataIssue& i : mapped.issues)
    out += std::string("#") + SeverityCode(i.severity) + " " + i.location + ": " + i.text + "\n";
  return out;
}

std::vector<fs::path> Files(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// The numeric values of a document as a plain pugixml walk sees them, by local names only and
// without the reader: descriptor handle -> (Type code, Unit code), state handle -> (value, time).
struct IndependentDecode {
  std::map<std::string, std::pair<std::string, std::string>> descriptors;
  std::map<std::string, std::pair<std::string, std::string>> values;
};

std::string_view Local(const char* name) {
  const std::string_view n(name);
  const std::size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

IndependentDecode DecodeIndependently(const std::string& xml) {
  IndependentDecode d;
  pugi::xml_document doc;
  BOOST_REQUIRE(doc.load_string(xml.c_str()));
  for (pugi::xpath_node n : doc.select_nodes("//*[local-name()='Metric']")) {
    const pugi::xml_node m = n.node();
    const std::string type =
        m.find_child([](pugi::xml_node c) { return Local(c.name()) == "Type"; })
            .attribute("Code")
            .value();
    const std::string unit =
        m.find_child([](pugi::xml_node c) { return Local(c.name()) == "Unit"; })
            .attribute("Code")
            .value();
    d.descriptors[m.attribute("Handle").value()] = {type, unit};
  }
  for (pugi::xpath_node n : doc.select_nodes("//*[local-name()='MetricValue'][@Value]")) {
    const pugi::xml_node state = n.node().parent();
    std::string_view type;
    for (pugi::xml_attribute a = state.first_attribute(); a; a = a.next_attribute())
      if (Local(a.name()) == "type") type = a.value();
    if (type.find("NumericMetricState") == std::string_view::npos) continue;
    d.values[state.attribute("DescriptorHandle").value()] = {
        n.node().attribute("Value").value(), n.node().attribute("DeterminationTime").value()};
  }
  return d;
}

BOOST_AUTO_TEST_SUITE(sdc_mapper)

BOOST_AUTO_TEST_CASE(golden_files) {
  const std::vector<fs::path> inputs = Files(kTestData, ".xml");
  BOOST_REQUIRE(inputs.size() >= 4u);
  for (const fs::path& input : inputs) {
    BOOST_TEST_CONTEXT(input.filename()) {
      fs::path golden = input;
      golden.replace_extension(".ndjson");
      testing::ExpectGolden(golden, ConvertForGolden(MapFile(input)));
    }
  }
}

// Every shared MDIB (sdc11073 test and tutorial documents) maps; goldens shared__<name>.ndjson.
BOOST_AUTO_TEST_CASE(every_shared_mdib_maps) {
  const std::vector<fs::path> inputs = Files(kSharedMdibs, ".xml");
  BOOST_REQUIRE_EQUAL(inputs.size(), 7u);
  for (const fs::path& input : inputs) {
    BOOST_TEST_CONTEXT(input.filename()) {
      const MapOutput mapped = MapFile(input);
      BOOST_TEST((mapped.result == MapOutput::Result::kMapped));
      testing::ExpectGolden(kTestData / ("shared__" + input.stem().string() + ".ndjson"),
                            ConvertForGolden(mapped));
    }
  }
}

// The U+202C after Code="262108 in the tutorial MDIB is a located warning, not a crash.
BOOST_AUTO_TEST_CASE(invisible_character_is_a_located_issue) {
  const MapOutput mapped = MapFile(kSharedMdibs / "sdc11073__tutorial__provider__mdib.xml");
  BOOST_REQUIRE((mapped.result == MapOutput::Result::kMapped));
  const auto it = std::find_if(mapped.issues.begin(), mapped.issues.end(), [](const DataIssue& i) {
    return i.text.find("U+202C") != std::string::npos;
  });
  BOOST_REQUIRE(it != mapped.issues.end());
  BOOST_TEST(it->location.find("line 26:8 ") == 0u, it->location);
  BOOST_TEST(it->location.find("AlertCondition/Type/@Code") != std::string::npos, it->location);
}

// Values, units and codes of every Observation equal what an independent walk of the XML finds.
BOOST_AUTO_TEST_CASE(observations_match_an_independent_decode) {
  std::vector<fs::path> inputs = Files(kSharedMdibs, ".xml");
  inputs.push_back(kTestData / "01_vitals_mdib_soap.xml");
  std::size_t compared = 0;
  for (const fs::path& input : inputs) {
    BOOST_TEST_CONTEXT(input.filename()) {
      const IndependentDecode expected = DecodeIndependently(testing::ReadFile(input));
      SdcOptions options = TestOptions();
      options.deliver_test_data = true;
      const MapOutput mapped = MapFile(input, options);
      BOOST_REQUIRE((mapped.result == MapOutput::Result::kMapped));
      const rapidjson::Document doc = ParseJson(mapped.bundle);
      for (const auto& entry : doc["entry"].GetArray()) {
        const auto& r = entry["resource"];
        if (std::string_view(r["resourceType"].GetString()) != "Observation") continue;
        const std::string id = r["identifier"][0]["value"].GetString();
        if (r.HasMember("component")) {
          // A bp panel: each component's MDC code and value is one metric of the document.
          for (const auto& c : r["component"].GetArray()) {
            const auto& codings = c["code"]["coding"];
            const std::string code = codings[codings.Size() - 1]["code"].GetString();
            std::size_t found = 0;
            for (const auto& [h, d] : expected.descriptors) {
              if (d.first != code || expected.values.count(h) == 0) continue;
              ++found;
              BOOST_TEST(c["valueQuantity"]["value"].GetDouble() ==
                         std::stod(expected.values.at(h).first));
            }
            BOOST_TEST(found == 1u, code);
            ++compared;
          }
          continue;
        }
        const std::string handle = id.substr(id.rfind('/') + 1);
        BOOST_TEST_CONTEXT(handle) {
          BOOST_REQUIRE(expected.descriptors.count(handle) == 1u);
          const auto& [type, unit] = expected.descriptors.at(handle);
          BOOST_TEST(r["code"]["coding"][0]["code"].GetString() == type);
          if (!r.HasMember("valueQuantity")) continue;
          const auto& [value, time] = expected.values.at(handle);
          const double v = std::stod(value);
          BOOST_TEST(r["valueQuantity"]["value"].GetDouble() == v);
          const std::optional<std::string_view> ucum =
              Terms().UcumForMdcUnit(static_cast<std::uint32_t>(std::stoul(unit)));
          BOOST_REQUIRE(ucum.has_value());
          const std::string emitted = r["valueQuantity"]["code"].GetString();
          BOOST_TEST((emitted == *ucum || Terms().UcumEquivalent(*ucum) == emitted));
          // effectiveDateTime is DeterminationTime (ms since 1970) in UTC.
          const std::int64_t ms = std::stoll(time);
          const CivilDate day = CivilFromDays(ms / 86'400'000);
          char prefix[16];
          std::snprintf(prefix, sizeof prefix, "%04d-%02u-%02u", day.year, day.month, day.day);
          BOOST_TEST(std::string(r["effectiveDateTime"].GetString()).rfind(prefix, 0) == 0u);
          ++compared;
        }
      }
    }
  }
  BOOST_TEST(compared >= 10u);
}

std::vector<std::string> ObservationQueries(const MapOutput& mapped) {
  std::vector<std::string> ids;
  const rapidjson::Document doc = ParseJson(mapped.bundle);
  for (const auto& entry : doc["entry"].GetArray())
    ids.push_back(entry["request"]["ifNoneExist"].GetString());
  return ids;
}

// A re-upload (the same document again, or the same values in a later MDIB with another
// version) gives the same conditional creates: the server creates nothing twice.
BOOST_AUTO_TEST_CASE(re_upload_creates_nothing_twice) {
  const std::string xml = testing::ReadFile(kTestData / "01_vitals_mdib_soap.xml");
  const SdcMapper mapper(Terms(), TestOptions());
  const MapOutput first = mapper.Map(xml);
  std::string later = xml;
  for (std::size_t at; (at = later.find("MdibVersion=\"12\"")) != std::string::npos;)
    later.replace(at, 16, "MdibVersion=\"99\"");
  const MapOutput second = mapper.Map(later);
  BOOST_TEST(first.bundle == second.bundle);
  const std::vector<std::string> a = ObservationQueries(first);
  std::vector<std::string> unique = a;
  std::sort(unique.begin(), unique.end());
  BOOST_TEST((std::unique(unique.begin(), unique.end()) == unique.end()));
  // A new value at a new time is a new Observation; the devices and the patient stay.
  const std::optional<sdc::SdcDocument> context =
      ContextOf(testing::ReadFile(kTestData / "02_episodic_report_soap.xml"));
  const MapOutput report =
      mapper.Map(testing::ReadFile(kTestData / "02_episodic_report_soap.xml"), &*context);
  const std::vector<std::string> b = ObservationQueries(report);
  std::size_t shared = 0;
  for (const std::string& q : b) shared += std::count(a.begin(), a.end(), q);
  BOOST_TEST(shared == b.size() - 2);  // all but the two new Observations
}

BOOST_AUTO_TEST_CASE(route_facts_and_lane) {
  const MapOutput mapped = MapFile(kTestData / "01_vitals_mdib_soap.xml");
  BOOST_TEST(mapped.facts.message_type == "SDC");
  const auto has = [&](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  BOOST_TEST(has(mapped.facts.codes, "urn:iso:std:iso:11073:10101|150456"));
  BOOST_TEST(has(mapped.facts.codes, "http://loinc.org|2708-6"));
  BOOST_TEST(has(mapped.facts.devices, "urn:fhirbridge:source:test:sdc-handle|mds.monitor"));
  BOOST_TEST(mapped.lane.size() == 16u);
  BOOST_TEST(mapped.patient == "urn:oid:1.2.826.0.1.3680043.2.1125.1|MRN-77001");
  BOOST_TEST(mapped.bundle.find("Not") == std::string::npos);  // names are never mapped
}

BOOST_AUTO_TEST_CASE(report_without_its_mdib_is_a_clear_error) {
  const MapOutput mapped = SdcMapper(Terms(), TestOptions())
                               .Map(testing::ReadFile(kTestData / "02_episodic_report_soap.xml"));
  BOOST_TEST((mapped.result == MapOutput::Result::kFailed));
  BOOST_REQUIRE(!mapped.issues.empty());
  BOOST_TEST(mapped.issues.back().text.find("needs the provider's MDIB") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(status_for_valid_follows_the_setting) {
  SdcOptions options = TestOptions();
  options.status_for_valid = "final";
  const MapOutput mapped = MapFile(kTestData / "01_vitals_mdib_soap.xml", options);
  BOOST_TEST(mapped.bundle.find(R"("status":"preliminary","category")") != std::string::npos);
  const MapOutput by_default = MapFile(kTestData / "01_vitals_mdib_soap.xml");
  BOOST_TEST(by_default.bundle != mapped.bundle);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::mappers
