#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/app/commands.h"
#include "engine/testing/temp_dir.h"

namespace fhirbridge::app {
namespace {

struct Run {
  int status = 0;
  std::string out;
  std::string err;
  std::vector<std::string> lines;
};

Run Convert(const std::vector<std::string>& args, const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out, err;
  Run r;
  r.status = RunConvert(args, in, out, err);
  r.out = out.str();
  r.err = err.str();
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) r.lines.push_back(line);
  return r;
}

std::string Message(const std::string& control_id, const std::string& value) {
  return "MSH|^~\\&|GW^0123456789ABCDEF^EUI-64||||20240315101500-0400||ORU^R01^ORU_R01|" +
         control_id +
         "|P|2.6\rPID|||MRN1^^^&1.2.3.4&ISO^MR\rOBR|1|||x|||20240315101200-0400\r"
         "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|" +
         value + "|262688^MDC_DIM_PERCENT^MDC|||||F\r";
}

std::filesystem::path WriteTemp(const std::string& name, const std::string& text) {
  static const testing::TempDir dir("fhirbridge-convert");
  const auto path = dir.dir / name;
  std::ofstream(path) << text;
  return path;
}

BOOST_AUTO_TEST_SUITE(convert_command)

BOOST_AUTO_TEST_CASE(one_line_per_message_in_order_and_failures_in_place) {
  const Run r =
      Convert({}, Message("A", "97") + "\n" + Message("B", "x") + "\n" + Message("C", "95"));
  BOOST_TEST(r.status == 1);
  BOOST_REQUIRE_EQUAL(r.lines.size(), 3u);
  BOOST_TEST(r.lines[0].find(R"("resourceType":"Bundle")") == 1u);
  BOOST_TEST(r.lines[1].find(R"("resourceType":"OperationOutcome")") == 1u);
  BOOST_TEST(r.lines[1].find("OBX[1]-5") != std::string::npos);
  BOOST_TEST(r.lines[1].find("message 2 (MSH-10 B)") != std::string::npos);
  BOOST_TEST(r.lines[2].find(R"("resourceType":"Bundle")") == 1u);
}

BOOST_AUTO_TEST_CASE(clean_input_exits_zero_and_warnings_go_to_stderr) {
  const Run r = Convert({"-"}, Message("A", "97"));
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.lines.size() == 1u);
  // MSH-21 names no profile: an information line on stderr, never on stdout.
  BOOST_TEST(r.err.find("message 1 (MSH-10 A): information at MSH-21") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(mllp_frames_and_stray_bytes) {
  const Run r = Convert({}, "\x0b" + Message("A", "97") + "\x1c\r" + "garbage here\n" + "\x0b" +
                                Message("B", "96") + "\x1c\r");
  BOOST_TEST(r.status == 1);
  BOOST_REQUIRE_EQUAL(r.lines.size(), 3u);
  BOOST_TEST(r.lines[0].find("Bundle") != std::string::npos);
  BOOST_TEST(r.lines[1].find("OperationOutcome") != std::string::npos);
  BOOST_TEST(r.lines[1].find("garbage") == std::string::npos);  // never echo the bytes
  BOOST_TEST(r.lines[2].find("Bundle") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(empty_input_is_an_error) {
  const Run r = Convert({}, "\n\n");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.err.find("no message") != std::string::npos);
}

// --format phd: a captured 20601 stream (Annex H pulse oximeter) -> one Bundle per scan report.
BOOST_AUTO_TEST_CASE(phd_capture_converts) {
  std::string capture;
  for (const char* name : {"H211_ID_0190", "H241_ID_0190", "rx_rlrq_normal"}) {
    std::ifstream in(
        std::string(FHIRBRIDGE_SHARED_DIR) + "/data/ieee11073/phd_20601_apdu/" + name + ".bin",
        std::ios::binary);
    capture += std::string(std::istreambuf_iterator<char>(in), {});
  }
  const Run r = Convert({"--format", "phd", "--assume-timezone", "UTC"}, capture);
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(r.out.find(R"("effectiveDateTime":"2007-12-06T12:10:00+00:00")") != std::string::npos);
  const Run cut = Convert({"--format", "phd"}, capture.substr(0, 30));
  BOOST_TEST(cut.status == 1);
  BOOST_TEST(cut.out.find("truncated APDU at byte 0") != std::string::npos, cut.out);
}

// --format sdc: an MDIB alone, a report with --mdib, a report without it (docs/connector-sdc.md).
BOOST_AUTO_TEST_CASE(sdc_documents_convert) {
  const std::string dir = std::string(FHIRBRIDGE_SOURCE_DIR) + "/mappers/testdata/sdc/";
  std::ifstream mdib_file(dir + "01_vitals_mdib_soap.xml");
  const std::string mdib(std::istreambuf_iterator<char>(mdib_file), {});
  const Run alone = Convert({"--format", "sdc", "--source", "test"}, mdib);
  BOOST_TEST(alone.status == 0);
  BOOST_REQUIRE_EQUAL(alone.lines.size(), 1u);
  BOOST_TEST(alone.lines[0].find("\"code\":\"150456\"") != std::string::npos);
  BOOST_TEST(alone.err.find("questionable (Qst)") != std::string::npos);
  std::ifstream report_file(dir + "02_episodic_report_soap.xml");
  const std::string report(std::istreambuf_iterator<char>(report_file), {});
  const Run with = Convert(
      {"--format", "sdc", "--source", "test", "--mdib", dir + "01_vitals_mdib_soap.xml"}, report);
  BOOST_TEST(with.status == 0);
  BOOST_TEST(with.out.find("\"value\":97") != std::string::npos);
  const Run without = Convert({"--format", "sdc"}, report);
  BOOST_TEST(without.status == 1);
  BOOST_TEST(without.out.find("OperationOutcome") != std::string::npos);
  BOOST_TEST(Convert({"--format", "phd", "--mdib", "x.xml"}, "").status == 2);
}

BOOST_AUTO_TEST_CASE(bad_arguments_exit_two) {
  BOOST_TEST(Convert({"--format", "bogus"}, "").status == 2);
  BOOST_TEST(Convert({"--bogus"}, "").status == 2);
  BOOST_TEST(Convert({"a.hl7", "b.hl7"}, "").status == 2);
  BOOST_TEST(Convert({"--config"}, "").status == 2);
  const Run zone = Convert({"--assume-timezone", "Mars/Olympus"}, "");
  BOOST_TEST(zone.status == 2);
  BOOST_TEST(zone.err.find("Mars/Olympus") != std::string::npos, zone.err);
  const Run missing = Convert({"/nonexistent/input.hl7"}, "");
  BOOST_TEST(missing.status == 2);
}

BOOST_AUTO_TEST_CASE(config_source_selection) {
  const auto config = WriteTemp("fhirbridge-convert-two-sources.json", R"({"sources": [
      {"name": "icu", "listen": "127.0.0.1:2575", "assume_timezone": "America/New_York"},
      {"name": "ward", "listen": "127.0.0.1:2576", "assume_timezone": "Europe/Berlin"}]})");
  const Run ambiguous = Convert({"--config", config.string()}, Message("A", "97"));
  BOOST_TEST(ambiguous.status == 2);
  BOOST_TEST(ambiguous.err.find("icu, ward") != std::string::npos, ambiguous.err);
  const Run unknown = Convert({"--config", config.string(), "--source", "er"}, "");
  BOOST_TEST(unknown.status == 2);
  // A local time (no offset) is resolved with the chosen source's zone.
  std::string local = Message("L", "97");
  for (const char* t : {"20240315101500-0400", "20240315101200-0400"})
    local.replace(local.find(t), std::string(t).size(), std::string(t).substr(0, 14));
  const Run ward = Convert({"--config", config.string(), "--source", "ward"}, local);
  BOOST_TEST(ward.status == 0, ward.out);
  BOOST_TEST(ward.out.find("2024-03-15T10:12:00+01:00") != std::string::npos);
  const Run icu = Convert({"--config", config.string(), "--source", "icu"}, local);
  BOOST_TEST(icu.out.find("2024-03-15T10:12:00-04:00") != std::string::npos);
  std::filesystem::remove(config);
}

BOOST_AUTO_TEST_CASE(invalid_config_lists_problems) {
  const auto config = WriteTemp("fhirbridge-convert-bad.json", R"({"sourcez": []})");
  const Run r = Convert({"--config", config.string()}, "");
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.err.find("sourcez: unknown key") != std::string::npos, r.err);
  std::filesystem::remove(config);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::app
