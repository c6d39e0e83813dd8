// Vendor JSON mapping: golden Bundles for the shipped CGM and wearable mappings (checked by the
// FHIR validator and the R4 vital-signs checks), documents that do not match their mapping,
// and the limits.

#include "mappers/json_mapper.h"

#include <algorithm>
#include <filesystem>

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>

#include "fhir-profiles/validator/validator.h"
#include "fhir-profiles/vital_signs_check.h"
#include "mappers/golden_test_support.h"
#include "mappers/json_time.h"

namespace fhirbridge::mappers::json {
namespace {

namespace fs = std::filesystem;

const fs::path kTestData = fs::path(FHIRBRIDGE_SOURCE_DIR) / "mappers" / "testdata" / "json";

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

Mapping LoadShipped(const std::string& name) {
  Result<Mapping> m = LoadMappingFile((kTestData / (name + ".mapping.json")).string(), Terms());
  BOOST_REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  return std::move(m).value();
}

JsonMapper MapperFor(const std::string& name, JsonOptions options = {}) {
  if (options.source_name == "default") options.source_name = "test";
  return JsonMapper(Terms(), LoadShipped(name), std::move(options));
}

// What `fhirbridge convert --format json` prints for one document: the Bundle with its warnings
// as '#' lines, or the OperationOutcome. Every Bundle must pass the validator and the checks.
std::string ConvertForGolden(const JsonMapped& mapped) {
  const MapOutput& out = mapped.output;
  if (out.result != MapOutput::Result::kMapped)
    return RenderOperationOutcome(out.issues, mapped.control_id) + "\n";
  std::string text = out.bundle + "\n";
  rapidjson::Document doc;
  doc.Parse(out.bundle.c_str());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError(), "invalid JSON: " << out.bundle.substr(0, 200));
  for (const profiles::ProfileIssue& issue : profiles::CheckTransactionBundle(doc))
    BOOST_ERROR("profile check: " << issue.path << ": " << issue.text);
  const validator::Outcome outcome = FhirValidator().Validate(doc, {});
  for (const DataIssue& issue : outcome.issues) {
    BOOST_CHECK_MESSAGE(issue.severity != DataIssue::Severity::kError &&
                            issue.severity != DataIssue::Severity::kFatal,
                        "validator: " << issue.location << ": " << issue.text);
  }
  for (const DataIssue& i : out.issues)
    text += std::string("#") + SeverityCode(i.severity) + " " + i.location + ": " + i.text + "\n";
  return text;
}

std::string ReadText(const fs::path& p) { return testing::ReadFile(p); }

BOOST_AUTO_TEST_SUITE(json_mapper)

// Input NAME_NN_what.json is mapped with NAME.mapping.json; the golden is NAME_NN_what.ndjson.
BOOST_AUTO_TEST_CASE(golden_files) {
  std::vector<fs::path> inputs;
  for (const auto& e : fs::directory_iterator(kTestData)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".json" && name.find(".mapping.") == std::string::npos)
      inputs.push_back(e.path());
  }
  std::sort(inputs.begin(), inputs.end());
  BOOST_REQUIRE(inputs.size() >= 10u);
  for (const fs::path& input : inputs) {
    BOOST_TEST_CONTEXT(input.filename()) {
      const std::string name = input.filename().string();
      const JsonMapper mapper = MapperFor(name.substr(0, name.find('_')));
      fs::path golden = input;
      golden.replace_extension(".ndjson");
      testing::ExpectGolden(golden, ConvertForGolden(mapper.MapDocument(ReadText(input))));
    }
  }
}

BOOST_AUTO_TEST_CASE(same_input_same_bytes_and_identifiers_survive_a_resend) {
  const JsonMapper mapper = MapperFor("wearable");
  const std::string doc = ReadText(kTestData / "wearable_01_vitals.json");
  const JsonMapped a = mapper.MapDocument(doc);
  const JsonMapped b = mapper.MapDocument(doc);
  BOOST_REQUIRE(a.output.result == MapOutput::Result::kMapped);
  BOOST_TEST(a.output.bundle == b.output.bundle);
  BOOST_TEST(a.control_id == "b-3f0c9e");
  BOOST_TEST(a.output.resource_count == 7);  // Patient, Device, 4 samples (steps left out), bp
}

BOOST_AUTO_TEST_CASE(facts_and_lane_are_filled) {
  const JsonMapped m =
      MapperFor("wearable").MapDocument(ReadText(kTestData / "wearable_01_vitals.json"));
  BOOST_REQUIRE(m.output.result == MapOutput::Result::kMapped);
  const RouteFacts& f = m.output.facts;
  BOOST_TEST(f.message_type == "WEARABLE");
  BOOST_TEST(f.devices ==
             std::vector<std::string>{"urn:fhirbridge:vendor:acme-wearable:device|W-00A1-7731"});
  for (const char* code : {"urn:iso:std:iso:11073:10101|147842", "http://loinc.org|8867-4",
                           "http://loinc.org|2708-6", "http://loinc.org|85354-9"})
    BOOST_TEST((std::find(f.codes.begin(), f.codes.end(), code) != f.codes.end()), code);
  BOOST_TEST(m.output.lane.size() == 16u);
  BOOST_TEST(m.output.lane.find("mbr") == std::string::npos);  // a hash, no PHI
}

BOOST_AUTO_TEST_CASE(a_different_value_at_another_time_is_another_observation) {
  const JsonMapper mapper = MapperFor("cgm");
  std::string doc = ReadText(kTestData / "cgm_01_egvs.json");
  const std::string before = mapper.MapDocument(doc).output.bundle;
  doc.replace(doc.find("07:05:12"), 8, "07:05:13");
  const std::string after = mapper.MapDocument(doc).output.bundle;
  BOOST_TEST(before != after);
  BOOST_TEST(after.find("test/SM71234567/160020/20240301T070513Z") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unknown_code_fails_by_default_naming_the_pointer) {
  Mapping m = LoadShipped("wearable");
  m.ignore_unknown_codes = false;
  const JsonMapper mapper(Terms(), std::move(m), {});
  const MapOutput out = mapper.Map(ReadText(kTestData / "wearable_01_vitals.json"));
  BOOST_REQUIRE(out.result == MapOutput::Result::kFailed);
  BOOST_REQUIRE_EQUAL(out.issues.size(), 1u);
  BOOST_TEST(out.issues[0].location == "/samples/3/type");
  BOOST_TEST(out.issues[0].text.find("\"steps\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(local_times_need_a_zone) {
  Mapping m = LoadShipped("cgm");
  m.groups[0].time.zone = nullptr;  // as if the mapping named none
  const std::string doc = ReadText(kTestData / "cgm_01_egvs.json");
  const MapOutput without = JsonMapper(Terms(), m, {}).Map(doc);
  BOOST_REQUIRE(without.result == MapOutput::Result::kFailed);
  BOOST_TEST(without.issues[0].location == "/egvs/0/systemTime");
  BOOST_TEST(without.issues[0].text.find("assume_timezone") != std::string::npos);
  JsonOptions o;
  o.assume_timezone = TimeZone::FixedOffset("+01:00", 3600);
  const MapOutput with = JsonMapper(Terms(), m, o).Map(doc);
  BOOST_REQUIRE(with.result == MapOutput::Result::kMapped);
  BOOST_TEST(with.bundle.find("\"2024-03-01T07:05:12+01:00\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(limit_max_items) {
  Mapping m = LoadShipped("cgm");
  m.limits.max_items = 3;
  const MapOutput out = JsonMapper(Terms(), m, {}).Map(ReadText(kTestData / "cgm_01_egvs.json"));
  BOOST_REQUIRE(out.result == MapOutput::Result::kFailed);
  BOOST_TEST(out.issues.back().code == "too-costly");
  BOOST_TEST(out.issues.back().location == "/egvs");
}

BOOST_AUTO_TEST_CASE(limit_max_depth) {
  Mapping m = LoadShipped("cgm");
  m.limits.max_depth = 2;  // the egvs objects sit at depth 3
  const MapOutput out = JsonMapper(Terms(), m, {}).Map(ReadText(kTestData / "cgm_01_egvs.json"));
  BOOST_REQUIRE(out.result == MapOutput::Result::kFailed);
  BOOST_TEST(out.issues[0].text.find("deeper than 2") != std::string::npos);
  BOOST_TEST(out.issues[0].location.rfind("byte ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(limit_max_document_bytes) {
  Mapping m = LoadShipped("cgm");
  m.limits.max_document_bytes = 100;
  const MapOutput out = JsonMapper(Terms(), m, {}).Map(ReadText(kTestData / "cgm_01_egvs.json"));
  BOOST_REQUIRE(out.result == MapOutput::Result::kFailed);
  BOOST_TEST(out.issues[0].code == "too-long");
}

BOOST_AUTO_TEST_CASE(limit_max_abs_value) {
  Mapping m = LoadShipped("cgm");
  m.limits.max_abs_value = 100;  // 112 and 118 mg/dL are over it
  const MapOutput out = JsonMapper(Terms(), m, {}).Map(ReadText(kTestData / "cgm_01_egvs.json"));
  BOOST_REQUIRE(out.result == MapOutput::Result::kFailed);
  BOOST_TEST(out.issues[0].location == "/egvs/0/value");
}

BOOST_AUTO_TEST_CASE(iso_times) {
  struct Case {
    const char* in;
    const char* out;  // FHIR dateTime, or the start of the error message
  };
  const Case cases[] = {
      {"2024-03-01", "2024-03-01"},
      {"2024-03", "2024-03"},
      {"2024-03-01T07:05:12Z", "2024-03-01T07:05:12Z"},
      {"2024-03-01T07:05:12.123456789+05:30", "2024-03-01T07:05:12.123456789+05:30"},
      {"2024-03-01 07:05:12-0800", "2024-03-01T07:05:12-08:00"},
      {"2024-03-01T07:05Z", "2024-03-01T07:05:00Z"},
      {"2024-03-01T07:05:12-00:00", "2024-03-01T07:05:12Z"},
      {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
      {"2023-02-29T00:00:00Z", "not an ISO 8601 time: day 29"},
      {"2024-03-01T07Z", "not an ISO 8601 time: expected hh:mm"},
      {"2024-03-01T07:05:12.Z", "not an ISO 8601 time: expected fraction"},
      {"2024-03-01T07:05:12.1234567890Z", "not an ISO 8601 time: more than 9"},
      {"2024-03-01T07:05:12+25:00", "not an ISO 8601 time: offset out of range"},
      {"2024-03-01Z", "not an ISO 8601 time: unexpected character"},
      {"24-03-01", "not an ISO 8601 time: expected a four-digit year"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.in) {
      rapidjson::Value v(rapidjson::StringRef(c.in));
      Result<FhirTime> t = ReadTime(v, TimeSpec{}, nullptr, nullptr);
      const std::string got = t.ok() ? t->date_time : t.status().message();
      BOOST_TEST(got.rfind(c.out, 0) == 0u, got);
    }
  }
}

BOOST_AUTO_TEST_CASE(epoch_times) {
  TimeSpec ms;
  ms.format = TimeFormat::kEpochMilliseconds;
  TimeSpec s;
  s.format = TimeFormat::kEpochSeconds;
  auto read = [](const rapidjson::Value& v, const TimeSpec& spec) {
    Result<FhirTime> t = ReadTime(v, spec, nullptr, nullptr);
    return t.ok() ? t->date_time : t.status().message();
  };
  BOOST_TEST(read(rapidjson::Value(int64_t{1709280061250}), ms) == "2024-03-01T08:01:01.250Z");
  BOOST_TEST(read(rapidjson::Value(int64_t{1709280000000}), ms) == "2024-03-01T08:00:00Z");
  BOOST_TEST(read(rapidjson::Value(1709280300), s) == "2024-03-01T08:05:00Z");
  BOOST_TEST(read(rapidjson::Value(-86400), s) == "1969-12-31T00:00:00Z");
  BOOST_TEST(read(rapidjson::Value(rapidjson::StringRef("1709280300")), s) ==
             "2024-03-01T08:05:00Z");
  BOOST_TEST(read(rapidjson::Value(1e300), s).rfind("epoch time outside", 0) == 0u);
  BOOST_TEST(read(rapidjson::Value(rapidjson::StringRef("soon")), s).rfind("expected epoch", 0) ==
             0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::mappers::json
