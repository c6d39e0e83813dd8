// Direct tests of PCD-01 mapping rules that the golden files cannot show on their own: the
// settings that switch behaviour, determinism, and identifiers across resends.

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>

#include "mappers/fhir_values.h"
#include "mappers/pcd01_mapper.h"

namespace fhirbridge::mappers {
namespace {

const Terminology& Terms() {
  static const Terminology terms = std::move(Terminology::LoadBuiltin()).value();
  return terms;
}

// One SpO2 reading with a local time; `pid3` and `extra` vary the message.
std::string Message(const std::string& pid3 = "MRN1^^^HOSP^MR", const std::string& obx8 = "",
                    const std::string& obx11 = "F", const std::string& control_id = "C1") {
  return "MSH|^~\\&|GW^0123456789ABCDEF^EUI-64||||20240315101500||ORU^R01^ORU_R01|" + control_id +
         "|P|2.6\r"
         "PID|||" +
         pid3 +
         "||Doe^Jane\r"
         "OBR|1|||182777000^monitoring of patient^SCT|||20240315101200\r"
         "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||"
         "MON^^0011223344556677^EUI-64\r"
         "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC||" +
         obx8 + "|||" + obx11 + "\r";
}

Pcd01Options Options() {
  Pcd01Options o;
  o.source_name = "unit";
  o.assume_timezone = std::move(TimeZone::Load("Europe/Berlin")).value();
  o.identifier_systems = {{"HOSP", "http://hospital.example/mrn"}};
  return o;
}

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  return doc;
}

const rapidjson::Value& LastResource(const rapidjson::Document& bundle) {
  const auto& entries = bundle["entry"];
  return entries[entries.Size() - 1]["resource"];
}

bool HasIssue(const Mapped& m, const std::string& location, const std::string& words) {
  for (const DataIssue& i : m.issues)
    if (i.location == location && i.text.find(words) != std::string::npos) return true;
  return false;
}

BOOST_AUTO_TEST_SUITE(pcd01_rules)

BOOST_AUTO_TEST_CASE(same_input_gives_identical_bytes) {
  const Pcd01Mapper mapper(Terms(), Options());
  const Mapped a = mapper.Map(Message());
  const Mapped b = mapper.Map(Message());
  BOOST_REQUIRE(a.ok());
  BOOST_TEST(a.bundle == b.bundle);
}

BOOST_AUTO_TEST_CASE(route_facts_name_type_codes_location_and_devices_only_when_asked) {
  Pcd01Options options = Options();
  const Mapped plain = Pcd01Mapper(Terms(), options).Map(Message());
  BOOST_TEST(plain.facts.codes.empty());  // convert does not pay for them
  options.route_facts = true;
  std::string message = Message();
  message.replace(message.find("|P|2.6\r"), 7, "|P|2.6\rPV1||I|ICU^BED12^1\r");
  const Mapped m = Pcd01Mapper(Terms(), options).Map(message);
  BOOST_REQUIRE(m.ok());
  BOOST_TEST(m.facts.message_type == "ORU^R01");
  BOOST_TEST(m.facts.location == "ICU^BED12^1");
  // MDC as sent, and both LOINC codes the SpO2 vital-sign profile uses.
  const std::vector<std::string> codes = {"urn:iso:std:iso:11073:10101|150456",
                                          "http://loinc.org|2708-6", "http://loinc.org|59408-5"};
  BOOST_TEST(m.facts.codes == codes, boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(m.facts.devices.size(), 1u);
  BOOST_TEST(m.facts.devices[0].find("0011223344556677") != std::string::npos);
}

// A resend under another MSH-10 reports the same measurement: same identifiers and fullUrls,
// so the conditional creates find what the first one created.
BOOST_AUTO_TEST_CASE(resend_with_new_control_id_keeps_identifiers) {
  const Pcd01Mapper mapper(Terms(), Options());
  const Mapped a = mapper.Map(Message("MRN1^^^HOSP^MR", "", "F", "FIRST"));
  const Mapped b = mapper.Map(Message("MRN1^^^HOSP^MR", "", "F", "RESEND"));
  BOOST_REQUIRE(a.ok() && b.ok());
  BOOST_TEST(a.bundle == b.bundle);
  BOOST_TEST(a.control_id == "FIRST");
  BOOST_TEST(a.lane_key == b.lane_key);
  BOOST_TEST(a.lane_key.find("MRN1") == std::string::npos);  // the lane key carries no PHI
}

BOOST_AUTO_TEST_CASE(local_time_needs_a_zone) {
  Pcd01Options o = Options();
  o.assume_timezone = nullptr;
  const Mapped m = Pcd01Mapper(Terms(), o).Map(Message());
  BOOST_TEST(!m.ok());
  BOOST_TEST(HasIssue(m, "OBR[1]-7", "assume_timezone"));
}

BOOST_AUTO_TEST_CASE(assumed_zone_gives_offset_and_utc_identifier) {
  const Mapped m = Pcd01Mapper(Terms(), Options()).Map(Message());
  BOOST_REQUIRE(m.ok());
  const auto doc = Json(m.bundle);
  const auto& obs = LastResource(doc);
  BOOST_TEST(std::string(obs["effectiveDateTime"].GetString()) == "2024-03-15T10:12:00+01:00");
  BOOST_TEST(std::string(obs["identifier"][0]["value"].GetString()) ==
             "GW/0011223344556677/150456/20240315T091200Z");
}

BOOST_AUTO_TEST_CASE(unknown_authority_held_when_configured) {
  Pcd01Options o = Options();
  o.unknown_assigning_authority = Pcd01Options::UnknownAuthority::kHold;
  const Mapped m = Pcd01Mapper(Terms(), o).Map(Message("MRN1^^^ELSEWHERE^MR"));
  BOOST_TEST(!m.ok());
  BOOST_TEST(m.awaiting_patient);
  BOOST_TEST(HasIssue(m, "PID[1]-3", "ELSEWHERE"));
}

BOOST_AUTO_TEST_CASE(unknown_authority_scoped_to_source_by_default) {
  const Mapped m = Pcd01Mapper(Terms(), Options()).Map(Message("MRN1^^^ELSEWHERE^MR"));
  BOOST_REQUIRE(m.ok());
  const auto doc = Json(m.bundle);
  BOOST_TEST(std::string(doc["entry"][0]["resource"]["identifier"][0]["system"].GetString()) ==
             "urn:fhirbridge:source:unit:patient-id:ELSEWHERE");
  BOOST_TEST(HasIssue(m, "PID[1]-3", "scoped to this source"));
}

BOOST_AUTO_TEST_CASE(iso_oid_authority_needs_no_setting) {
  const Mapped m =
      Pcd01Mapper(Terms(), Options()).Map(Message("MRN1^^^&2.16.840.1.113883.3.72&ISO^MR"));
  BOOST_REQUIRE(m.ok());
  const auto doc = Json(m.bundle);
  BOOST_TEST(std::string(doc["entry"][0]["resource"]["identifier"][0]["system"].GetString()) ==
             "urn:oid:2.16.840.1.113883.3.72");
  for (const DataIssue& i : m.issues)  // only the note that MSH-21 names no profile
    BOOST_TEST((i.severity == DataIssue::Severity::kInformation), i.location << ": " << i.text);
}

BOOST_AUTO_TEST_CASE(test_data_left_out_unless_configured) {
  const Mapped dropped = Pcd01Mapper(Terms(), Options()).Map(Message("MRN1^^^HOSP^MR", "TEST"));
  BOOST_TEST(!dropped.ok());  // the only measurement was test data: nothing to deliver
  Pcd01Options o = Options();
  o.deliver_test_data = true;
  const Mapped kept = Pcd01Mapper(Terms(), o).Map(Message("MRN1^^^HOSP^MR", "TEST"));
  BOOST_REQUIRE(kept.ok());
  const auto doc = Json(kept.bundle);
  BOOST_TEST(std::string(LastResource(doc)["meta"]["security"][0]["code"].GetString()) == "HTEST");
}

BOOST_AUTO_TEST_CASE(status_for_r_is_a_setting) {
  const Mapped preliminary =
      Pcd01Mapper(Terms(), Options()).Map(Message("MRN1^^^HOSP^MR", "", "R"));
  BOOST_REQUIRE(preliminary.ok());
  BOOST_TEST(std::string(LastResource(Json(preliminary.bundle))["status"].GetString()) ==
             "preliminary");
  Pcd01Options o = Options();
  o.status_for_r = "final";
  const Mapped final_ = Pcd01Mapper(Terms(), o).Map(Message("MRN1^^^HOSP^MR", "", "R"));
  BOOST_TEST(std::string(LastResource(Json(final_.bundle))["status"].GetString()) == "final");
}

BOOST_AUTO_TEST_CASE(observation_identifier_system_is_a_setting) {
  Pcd01Options o = Options();
  o.observation_identifier_system = "http://hospital.example/device-obs";
  const Mapped m = Pcd01Mapper(Terms(), o).Map(Message());
  BOOST_REQUIRE(m.ok());
  const auto doc = Json(m.bundle);
  const auto& entry = doc["entry"][doc["entry"].Size() - 1];
  BOOST_TEST(std::string(entry["resource"]["identifier"][0]["system"].GetString()) ==
             "http://hospital.example/device-obs");
  BOOST_TEST(std::string(entry["request"]["ifNoneExist"].GetString()) ==
             "identifier=http://hospital.example/device-obs|"
             "GW/0011223344556677/150456/20240315T091200Z");
}

BOOST_AUTO_TEST_CASE(parse_limits_are_enforced) {
  Pcd01Options o = Options();
  o.limits.max_segments = 3;
  const Mapped m = Pcd01Mapper(Terms(), o).Map(Message());
  BOOST_TEST(!m.ok());
  BOOST_REQUIRE(!m.issues.empty());
  BOOST_TEST(m.issues[0].code == "too-long");
  BOOST_TEST(m.issues[0].text.find("max_segments") != std::string::npos, m.issues[0].text);
}

BOOST_AUTO_TEST_CASE(errors_never_quote_patient_data) {
  const Mapped m =
      Pcd01Mapper(Terms(), Options())
          .Map(
              "MSH|^~\\&|GW||||20240315101500||ORU^R01|C9|P|2.6\rPID|||SECRETMRN^^^HOSP^MR||"
              "Secretname^"
              "Jane\rOBR|1|||x|||20240315101200\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|"
              "notanumber|262688^MDC_DIM_PERCENT^MDC\r");
  BOOST_TEST(!m.ok());
  const std::string outcome = RenderOperationOutcome(m.issues);
  BOOST_TEST(outcome.find("SECRETMRN") == std::string::npos);
  BOOST_TEST(outcome.find("Secretname") == std::string::npos);
  BOOST_TEST(outcome.find("notanumber") == std::string::npos);
  BOOST_TEST(outcome.find("OBX[1]-5") != std::string::npos);
}

// The mapper writes a value that IsFhirDecimal accepts as sent: only right when WriteFhirDecimal
// would have written the same bytes.
BOOST_AUTO_TEST_CASE(values_already_fhir_decimals_are_the_written_ones) {
  const std::string_view as_is[] = {"0", "7", "98.6", "120", "0.5", "0.00", "10.250", "3000000"};
  const std::string_view rewritten[] = {"",   "+5", "-0",  "-1.5",  "05",  "00.5", ".5", "5.",
                                        " 5", "5 ", "1e3", "1.2.3", "0x1", "1,5",  "-",  "."};
  char out[32];
  for (std::string_view nm : as_is) {
    BOOST_TEST(IsFhirDecimal(nm), nm);
    BOOST_TEST(std::string_view(out, WriteFhirDecimal(out, nm)) == nm, nm);
  }
  for (std::string_view nm : rewritten) BOOST_TEST(!IsFhirDecimal(nm), nm);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::mappers
