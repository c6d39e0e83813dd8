#include "mappers/phd_mapper.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>

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

// "2007-12-06T17:12:00Z" -> microseconds since the epoch.
std::int64_t ParseUtc(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  BOOST_REQUIRE(std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &se) == 6);
  const std::int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 86400) + h * 3600 + mi * 60 + se) * 1000000;
}

// An input file of mappers/testdata/phd: hex APDUs (one or more lines, '#' comments) and
// "#! zone NAME" / "#! received UTC" / "#! deliver_test_data" settings.
struct Input {
  std::string bytes;
  PhdOptions options;
  std::int64_t received_at_us = 0;
};

Input ReadInput(const fs::path& path) {
  Input in;
  in.options.source_name = "test";
  std::istringstream lines(testing::ReadFile(path));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("#! zone ", 0) == 0) {
      Result<std::shared_ptr<const TimeZone>> zone = TimeZone::Load(line.substr(8));
      BOOST_REQUIRE_MESSAGE(zone.ok(), zone.status().ToString());
      in.options.assume_timezone = *zone;
    } else if (line.rfind("#! received ", 0) == 0) {
      in.received_at_us = ParseUtc(line.substr(12));
    } else if (line == "#! deliver_test_data") {
      in.options.deliver_test_data = true;
    } else if (!line.empty() && line[0] != '#') {
      for (std::size_t i = 0; i + 1 < line.size();) {
        if (line[i] == ' ') {
          ++i;
          continue;
        }
        in.bytes.push_back(static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16)));
        i += 2;
      }
    }
  }
  return in;
}

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError(), "invalid JSON: " << text.substr(0, 200));
  return doc;
}

// What `fhirbridge convert --format phd` prints: a Bundle or an OperationOutcome per report,
// with the warnings as '#' lines. Every Bundle must pass the R4 bundle and vital-signs checks.
std::string ConvertForGolden(const std::vector<Mapped>& results) {
  std::string out;
  for (const Mapped& mapped : results) {
    if (mapped.ok()) {
      out += mapped.bundle + "\n";
      rapidjson::Document doc = ParseJson(mapped.bundle);
      for (const profiles::ProfileIssue& issue : profiles::CheckTransactionBundle(doc))
        BOOST_ERROR("profile check: " << issue.path << ": " << issue.text);
      for (const DataIssue& i : mapped.issues)
        out +=
            std::string("#") + SeverityCode(i.severity) + " " + i.location + ": " + i.text + "\n";
    } else {
      const std::string outcome = RenderOperationOutcome(mapped.issues, mapped.control_id);
      ParseJson(outcome);
      out += outcome + "\n";
    }
  }
  return out;
}

std::vector<Mapped> MapFile(const fs::path& path) {
  const Input in = ReadInput(path);
  const PhdMapper mapper(Terms(), in.options);
  return mapper.MapStream(in.bytes, in.received_at_us);
}

const fs::path kTestData = fs::path(FHIRBRIDGE_SOURCE_DIR) / "mappers" / "testdata" / "phd";

BOOST_AUTO_TEST_SUITE(phd_mapper)

BOOST_AUTO_TEST_CASE(golden_files) {
  std::vector<fs::path> inputs;
  for (const auto& e : fs::directory_iterator(kTestData))
    if (e.path().extension() == ".apdus") inputs.push_back(e.path());
  std::sort(inputs.begin(), inputs.end());
  BOOST_REQUIRE(inputs.size() >= 10u);
  for (const fs::path& input : inputs) {
    BOOST_TEST_CONTEXT(input.filename()) {
      fs::path golden = input;
      golden.replace_extension(".ndjson");
      testing::ExpectGolden(golden, ConvertForGolden(MapFile(input)));
    }
  }
}

BOOST_AUTO_TEST_CASE(same_input_same_bytes) {
  const fs::path input = kTestData / "02_blood_pressure_standard_02bc.apdus";
  BOOST_TEST(ConvertForGolden(MapFile(input)) == ConvertForGolden(MapFile(input)));
}

std::vector<std::string> ObservationIdentifiers(const std::vector<Mapped>& results) {
  std::vector<std::string> ids;
  for (const Mapped& m : results) {
    if (!m.ok()) continue;
    rapidjson::Document doc = ParseJson(m.bundle);
    for (const auto& entry : doc["entry"].GetArray()) {
      if (std::string(entry["resource"]["resourceType"].GetString()) == "Observation")
        ids.push_back(entry["request"]["ifNoneExist"].GetString());
    }
  }
  return ids;
}

// PHD IG dedup: stored measurements sent again in a later association (another receive time,
// another invoke id, read with the coincident time stamp rather than a zone) get the same
// identifiers, so the conditional creates make nothing twice.
BOOST_AUTO_TEST_CASE(re_upload_of_stored_measurements_has_the_same_identifiers) {
  Input first = ReadInput(kTestData / "04_extended_configuration_annex_h.apdus");
  Input later = ReadInput(kTestData / "05_coincident_time_stamp.apdus");
  const std::vector<std::string> a =
      ObservationIdentifiers(PhdMapper(Terms(), first.options).MapStream(first.bytes, 1));
  const std::vector<std::string> b =
      ObservationIdentifiers(PhdMapper(Terms(), later.options)
                                 .MapStream(later.bytes, later.received_at_us + 86'400'000'000));
  BOOST_REQUIRE_EQUAL(a.size(), 2u);
  BOOST_TEST(a == b);
}

// A different value at the same reported time is a different measurement.
BOOST_AUTO_TEST_CASE(different_values_at_one_time_have_different_identifiers) {
  Input in = ReadInput(kTestData / "01_pulse_oximeter_standard_0190.apdus");
  const std::vector<std::string> a =
      ObservationIdentifiers(PhdMapper(Terms(), in.options).MapStream(in.bytes, in.received_at_us));
  // The SpO2 value 0x0062 of the fixed report (H241_ID_0190) -> 0x0061.
  const std::size_t at = in.bytes.find(std::string("\x00\x62\x20\x07", 4));
  BOOST_REQUIRE(at != std::string::npos);
  in.bytes[at + 1] = 0x61;
  const std::vector<std::string> b =
      ObservationIdentifiers(PhdMapper(Terms(), in.options).MapStream(in.bytes, in.received_at_us));
  BOOST_REQUIRE_EQUAL(a.size(), 2u);
  BOOST_REQUIRE_EQUAL(b.size(), 2u);
  BOOST_TEST(a[0] != b[0]);
  BOOST_TEST(a[1] == b[1]);
}

BOOST_AUTO_TEST_CASE(patient_from_the_source_settings) {
  Input in = ReadInput(kTestData / "01_pulse_oximeter_standard_0190.apdus");
  in.options.patient_system = "http://hospital.example/mrn";
  in.options.patient_value = "12345";
  const std::vector<Mapped> r = PhdMapper(Terms(), in.options).MapStream(in.bytes, 0);
  BOOST_REQUIRE_EQUAL(r.size(), 1u);
  BOOST_TEST(r[0].bundle.find(R"("system":"http://hospital.example/mrn","value":"12345")") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(test_data_delivered_when_asked) {
  Input in = ReadInput(kTestData / "06_reserved_values_and_status.apdus");
  in.options.deliver_test_data = true;
  const std::vector<Mapped> r =
      PhdMapper(Terms(), in.options).MapStream(in.bytes, in.received_at_us);
  bool tagged = false;
  for (const Mapped& m : r) tagged |= m.bundle.find("\"HTEST\"") != std::string::npos;
  BOOST_TEST(tagged);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::mappers
