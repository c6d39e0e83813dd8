#include "connectors/ieee11073/phd/agent_session.h"

#include <map>
#include <variant>

#include <pugixml.hpp>

#include <boost/test/unit_test.hpp>

#include "connectors/ieee11073/phd/phd_test_util.h"

namespace fhirbridge::phd {
namespace {

using testing::FromHex;
using testing::Span;
using testing::Vector;

SessionStep Feed(AgentSession& s, const std::string& bytes, std::int64_t at_us = 0) {
  return s.Consume(Span(bytes), 0, at_us);
}

SessionStep FeedOk(AgentSession& s, const std::string& name, std::int64_t at_us = 0) {
  SessionStep step = Feed(s, Vector(name), at_us);
  BOOST_REQUIRE_MESSAGE(step.problem.ok(), name << ": " << step.problem.ToString());
  return step;
}

std::uint16_t AareResult(const std::string& reply) {
  Result<Apdu> apdu = DecodeApdu(Span(reply), 0, DecodeLimits{});
  BOOST_REQUIRE(apdu.ok());
  return std::get<Aare>(apdu->content).result;
}

// "98 @2007-12-06 12:10:00" style summary of one measurement.
std::string Summary(const Measurement& m) {
  std::string s;
  for (const NumericValue& v : m.values) s += (s.empty() ? "" : "/") + v.number.ToDecimal();
  if (m.time) {
    char buf[40];
    std::snprintf(buf, sizeof buf, " @%04d-%02d-%02d %02d:%02d:%02d", m.time->year(),
                  m.time->month(), m.time->day(), m.time->hour(), m.time->minute(),
                  m.time->second());
    s += buf;
  }
  return s;
}

BOOST_AUTO_TEST_SUITE(phd_agent_session)

// 20601 Annex H: extended configuration, configuration report, MDS attributes, data, release.
BOOST_AUTO_TEST_CASE(annex_h_session_with_an_extended_configuration) {
  AgentSession s;
  SessionStep step = FeedOk(s, "H211");
  BOOST_REQUIRE_EQUAL(step.replies.size(), 1u);
  BOOST_TEST(AareResult(step.replies[0]) == 3);  // accepted-unknown-config
  BOOST_TEST(StateName(s.state()) == "waiting-for-config");

  step = FeedOk(s, "H221");
  BOOST_REQUIRE_EQUAL(step.replies.size(), 2u);
  BOOST_TEST(step.replies[0] == Vector("H222"));  // RORS accepted-config
  BOOST_TEST(step.replies[1] == EncodeGetMdsAttributes(0));
  BOOST_TEST(StateName(s.state()) == "operating");
  BOOST_REQUIRE(s.configuration() != nullptr);
  BOOST_TEST(s.configuration()->objects.size() == 2u);

  step = FeedOk(s, "H233", 1'170'331'500'000'000);
  BOOST_TEST(s.device().manufacturer == "TheCompany");
  BOOST_TEST(s.device().model == "TheScaleABC");
  BOOST_TEST(s.device().specializations == std::vector<std::uint32_t>{528399});
  BOOST_REQUIRE(s.device().clock.has_value());
  BOOST_TEST(s.device().clock->year() == 2007);
  BOOST_TEST(s.device().clock_received_at_us == 1'170'331'500'000'000);

  step = FeedOk(s, "H241", 7);
  BOOST_REQUIRE_EQUAL(step.replies.size(), 1u);
  BOOST_TEST(step.replies[0] == Vector("H242"));
  BOOST_REQUIRE_EQUAL(step.reports.size(), 1u);
  const MeasurementReport& r = step.reports[0];
  BOOST_TEST(r.received_at_us == 7);
  BOOST_TEST(r.device.system_id == FromHex("8877665544332211"));
  BOOST_REQUIRE_EQUAL(r.scan.measurements.size(), 2u);
  BOOST_TEST(Summary(r.scan.measurements[0]) == "62.4 @2007-02-01 12:10:00");
  BOOST_TEST(r.scan.measurements[0].type == 188736u);  // MDC_MASS_BODY_ACTUAL
  BOOST_TEST(r.scan.measurements[0].values[0].unit == 1731);
  BOOST_TEST(Summary(r.scan.measurements[1]) == "25.6 @2007-02-01 12:10:00");
  BOOST_TEST(r.scan.measurements[1].type == 188748u);  // MDC_BODY_FAT

  step = FeedOk(s, "rx_rlrq_normal");
  BOOST_TEST(step.replies.at(0) == EncodeRlre(0));
  BOOST_TEST(step.association_ended);
  BOOST_TEST(StateName(s.state()) == "unassociated");

  // The same agent and dev-config-id again: the learned configuration is accepted at once.
  step = FeedOk(s, "H211");
  BOOST_TEST(AareResult(step.replies.at(0)) == 0);
  BOOST_TEST(StateName(s.state()) == "operating");
}

BOOST_AUTO_TEST_CASE(pulse_oximeter_standard_configuration_0190) {
  AgentSession s;
  SessionStep step = FeedOk(s, "H211_ID_0190");
  BOOST_TEST(AareResult(step.replies.at(0)) == 0);
  BOOST_TEST(s.device().specializations == std::vector<std::uint32_t>{528388});
  step = FeedOk(s, "H241_ID_0190");
  BOOST_TEST(step.replies.at(0) == EncodeEventReportResponse(0x1238, 0, event::kScanReportFixed));
  const std::vector<Measurement>& m = step.reports.at(0).scan.measurements;
  BOOST_REQUIRE_EQUAL(m.size(), 2u);
  BOOST_TEST(m[0].type == 150456u);  // MDC_PULS_OXIM_SAT_O2
  BOOST_TEST(Summary(m[0]) == "98 @2007-12-06 12:10:00");
  BOOST_TEST(m[1].type == 149530u);  // MDC_PULS_OXIM_PULS_RATE
  BOOST_TEST(Summary(m[1]) == "72 @2007-12-06 12:10:00");
}

BOOST_AUTO_TEST_CASE(blood_pressure_standard_configuration_02bc) {
  AgentSession s;
  FeedOk(s, "H211_ID_02BC");
  const SessionStep step = FeedOk(s, "H241_ID_02BC");
  const std::vector<Measurement>& m = step.reports.at(0).scan.measurements;
  BOOST_REQUIRE_EQUAL(m.size(), 2u);
  BOOST_TEST(m[0].compound);
  BOOST_TEST(m[0].type == 150020u);
  BOOST_TEST(Summary(m[0]) == "120/80/100 @2007-12-06 12:10:00");
  BOOST_TEST(m[0].values[1].code == 150022u);  // diastolic
  BOOST_TEST(m[0].values[2].unit == 3872);     // mmHg
  BOOST_TEST(Summary(m[1]) == "60.0 @2007-12-06 12:10:00");
}

BOOST_AUTO_TEST_CASE(weighing_scale_standard_configuration_05dc) {
  AgentSession s;
  FeedOk(s, "H211_ID_05DC");
  const SessionStep step = FeedOk(s, "H241_ID_05DC");
  const std::vector<Measurement>& m = step.reports.at(0).scan.measurements;
  BOOST_REQUIRE_EQUAL(m.size(), 4u);
  BOOST_TEST(Summary(m[0]) == "76.2 @2007-12-06 12:10:00");
  BOOST_TEST(m[1].handle == 3);
  BOOST_TEST(Summary(m[1]) == "24.3 @2007-12-06 12:10:00");
  BOOST_TEST(Summary(m[2]) == "76.0 @2007-12-06 20:05:00");
}

// The pulse oximeter's unbuffered and buffered scanner reports in every format decode to the
// values Antidote's annotation of them gives (antidote_pulse_oximeter_description.txt).
BOOST_AUTO_TEST_CASE(scanner_reports_in_every_format) {
  const std::map<std::string, std::string> expected = {
      {"unbuf_scan_report_fixed", "98 @2007-12-06 12:10:00|72 @2007-12-06 12:10:00"},
      {"unbuf_scan_report_var", "98 @2007-12-06 12:10:00|72 @2007-12-06 12:10:00"},
      {"unbuf_scan_report_mp_fixed", "98 @2007-12-06 12:10:00|72 @2007-12-06 12:10:00"},
      {"unbuf_scan_report_mp_var", "98 @2007-12-06 12:10:00|72 @2007-12-06 12:10:00"},
      {"unbuf_scan_report_grouped", "97.5 @2010-08-03 10:51:11|80.1 @2010-08-03 10:51:11"},
      {"unbuf_scan_report_mp_grouped", "97.5 @2010-08-03 10:51:11|80.1 @2010-08-03 10:51:11"},
      {"buf_scan_report_fixed", "98 @2007-12-06 12:10:00|72 @2007-12-06 12:10:00"},
      {"buf_scan_report_var", "98 @2007-12-06 12:10:00|72 @2007-12-06 12:10:00"},
      {"buf_scan_report_grouped", "98 @2008-07-03 12:10:00|73|98"},
  };
  for (const auto& [name, values] : expected) {
    AgentSession s;
    FeedOk(s, "H211");
    const SessionStep config = FeedOk(s, "pulse_oximeter__pulse_oximeter_noti_config_with_scanner");
    BOOST_TEST_REQUIRE(StateName(s.state()) == "operating");
    const SessionStep step = Feed(s, Vector("pulse_oximeter__pulse_oximeter_" + name));
    BOOST_TEST(step.problem.ok(), name << ": " << step.problem.ToString());
    if (step.reports.empty()) continue;
    std::string got;
    for (const Measurement& m : step.reports[0].scan.measurements)
      got += (got.empty() ? "" : "|") + Summary(m);
    BOOST_TEST(got == values, name);
    const bool mp = name.find("_mp_") != std::string::npos;
    BOOST_TEST(step.reports[0].scan.measurements[0].person_id.has_value() == mp, name);
  }
}

// ---- Antidote's decoded XML: the handles, metric ids and value types the decoder finds in the
// agent's configuration are those Antidote lists for the same device.

struct XmlMetric {
  std::vector<std::uint32_t> ids;  // partition 2 metric ids, context-free
  std::string value_name;          // Basic-/Simple-/Compound-Basic-Nu-Observed-Value
  int person = -1;
};

std::map<std::uint16_t, XmlMetric> ReadAntidoteXml(const std::string& file) {
  pugi::xml_document doc;
  const auto path = testing::SharedIeee11073() / "antidote_datalist_xml" / file;
  BOOST_REQUIRE_MESSAGE(doc.load_file(path.c_str()), "cannot read " << path);
  std::map<std::uint16_t, XmlMetric> out;
  for (pugi::xml_node entry : doc.child("data-list").children("entry")) {
    XmlMetric m;
    int handle = -1;
    for (pugi::xml_node meta : entry.child("meta-data").children("meta")) {
      if (std::string_view(meta.attribute("name").value()) == "HANDLE")
        handle = meta.text().as_int();
      if (std::string_view(meta.attribute("name").value()) == "personal-id")
        m.person = meta.text().as_int();
    }
    if (handle < 0) continue;
    for (pugi::xpath_node n : entry.select_nodes(".//meta[@name='metric-id']"))
      m.ids.push_back((2u << 16) | n.node().text().as_uint());
    for (pugi::xpath_node n : entry.select_nodes(".//name")) {
      const std::string name = n.node().text().get();
      if (name.find("Nu-Observed-Value") != std::string::npos && m.value_name.empty())
        m.value_name = name;
    }
    out[static_cast<std::uint16_t>(handle)] = m;
  }
  BOOST_REQUIRE(!out.empty());
  return out;
}

std::uint16_t ValueAttributeFor(const std::string& xml_name) {
  if (xml_name == "Basic-Nu-Observed-Value") return attr::kNuValObsBasic;
  if (xml_name == "Simple-Nu-Observed-Value") return attr::kNuValObsSimp;
  if (xml_name == "Compound-Basic-Nu-Observed-Value") return attr::kNuCmpdValObsBasic;
  return 0;
}

void ExpectConfigurationMatchesXml(const Configuration& config, const std::string& xml) {
  for (const auto& [handle, metric] : ReadAntidoteXml(xml)) {
    const ConfigObject* obj = config.Find(handle);
    BOOST_REQUIRE_MESSAGE(obj != nullptr, xml << ": no handle " << handle);
    const std::vector<std::uint32_t> ids =
        obj->compound_ids.empty() ? std::vector<std::uint32_t>{obj->type} : obj->compound_ids;
    BOOST_TEST(ids == metric.ids, xml << " handle " << handle);
    bool has_value_attribute = false;
    for (const ValueMapEntry& e : obj->value_map)
      has_value_attribute |= e.attribute_id == ValueAttributeFor(metric.value_name);
    BOOST_TEST(has_value_attribute, xml << " handle " << handle << " " << metric.value_name);
  }
}

BOOST_AUTO_TEST_CASE(blood_pressure_monitor_matches_antidote) {
  AgentSession s;
  FeedOk(s, "blood_pressure__aarq");
  const SessionStep config = FeedOk(s, "blood_pressure__roiv_mdc_noti_config");
  // Antidote's manager answers with current-time 0xFFFFFFFF where Annex H has 0: compare fields.
  const auto fields = [](const std::string& rors) {
    Result<Apdu> apdu = DecodeApdu(Span(rors), 0, DecodeLimits{});
    BOOST_REQUIRE(apdu.ok());
    const DataApdu& d = std::get<DataApdu>(apdu->content);
    return std::to_string(d.invoke_id) + " " + std::to_string(d.event_result.event_type) + " " +
           std::string(d.event_result.reply_info.begin(), d.event_result.reply_info.end());
  };
  BOOST_TEST(fields(config.replies.at(0)) ==
             fields(Vector("blood_pressure__rors_accepted_config")));
  ExpectConfigurationMatchesXml(*s.configuration(), "measurement-data__blood-pressure.xml");
  const SessionStep step = FeedOk(s, "blood_pressure__roiv_mds_note_scan_report_mp_fixed");
  const std::vector<Measurement>& m = step.reports.at(0).scan.measurements;
  BOOST_REQUIRE_EQUAL(m.size(), 3u);
  BOOST_TEST(Summary(m[0]) == "113/71/85 @2010-07-21 15:35:53");
  BOOST_TEST(Summary(m[1]) == "71 @2010-07-21 15:35:53");
  BOOST_TEST(*m[0].person_id == 0x42);
  FeedOk(s, "blood_pressure__rlrq");
  BOOST_TEST(StateName(s.state()) == "unassociated");
}

BOOST_AUTO_TEST_CASE(nonin_pulse_oximeter_matches_antidote) {
  AgentSession s;
  FeedOk(s, "pulse_oximeter__pulse_oximeter_association_request");
  FeedOk(s, "pulse_oximeter__pulse_oximeter_noti_config");
  BOOST_TEST(s.configuration()->id == 401);  // mds-attributes__pulse-oximeter-NONIN.xml
  ExpectConfigurationMatchesXml(*s.configuration(), "measurement-data__pulse-oximeter-NONIN.xml");
}

BOOST_AUTO_TEST_CASE(body_composition_monitor_matches_antidote) {
  AgentSession s;
  FeedOk(s, "weighing_scale__association_request");
  FeedOk(s, "weighing_scale__roiv_mdc_noti_config");
  ExpectConfigurationMatchesXml(*s.configuration(),
                                "measurement-data__body-composition-monitor.xml");
  const SessionStep step = FeedOk(s, "weighing_scale__data_report");
  const auto xml = ReadAntidoteXml("measurement-data__body-composition-monitor.xml");
  const std::vector<Measurement>& m = step.reports.at(0).scan.measurements;
  BOOST_REQUIRE_EQUAL(m.size(), xml.size());
  for (const Measurement& one : m) {
    BOOST_TEST(*one.person_id == xml.at(one.handle).person);  // personal-id 52
    BOOST_TEST(one.values.size() == xml.at(one.handle).ids.size());
  }
}

// ---- protocol errors --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(data_before_association_is_aborted) {
  AgentSession s;
  const SessionStep step = Feed(s, Vector("H241_ID_0190"));
  BOOST_TEST(step.problem.message() == "byte 0 in PRST: PRST before association");
  BOOST_TEST(step.replies.at(0) == EncodeAbrt(0));
}

BOOST_AUTO_TEST_CASE(measurements_before_the_configuration_are_aborted) {
  AgentSession s;
  FeedOk(s, "H211");
  const SessionStep step = Feed(s, Vector("H241"));
  BOOST_TEST(step.problem.message().find("before the configuration") != std::string::npos);
  BOOST_TEST(StateName(s.state()) == "unassociated");
}

BOOST_AUTO_TEST_CASE(report_that_does_not_match_the_configuration_is_located) {
  AgentSession s;
  FeedOk(s, "H211_ID_0190");
  // The BP report's compound under a pulse-oximeter configuration: handle 1 carries 18 bytes
  // where the map says 10.
  const SessionStep step = Feed(s, Vector("H241_ID_02BC"));
  BOOST_TEST(
      step.problem.message() ==
          "byte 44 in ScanReport 0x0D1D/obs-scan-fixed/handle 1 obs-val-data: 8 bytes left "
          "over after the Attribute-Value-Map of handle 1: a length does not match its content",
      step.problem.message());
  BOOST_TEST(step.replies.at(0) == EncodeAbrt(0));
}

BOOST_AUTO_TEST_CASE(unknown_handle_is_located) {
  AgentSession s;
  FeedOk(s, "H211_ID_0190");
  std::string report = Vector("H241_ID_0190");
  report[31] = 0x05;  // first observation's handle 1 -> 5
  const SessionStep step = Feed(s, report);
  BOOST_TEST(step.problem.message() ==
                 "byte 30 in ScanReport 0x0D1D/obs-scan-fixed: handle 5 is not a metric object of "
                 "configuration 0x0190",
             step.problem.message());
}

BOOST_AUTO_TEST_CASE(bad_configuration_is_answered_unsupported) {
  AgentSession s;
  FeedOk(s, "H211");
  std::string config = Vector("H221");
  config[31] = 0x00;  // the first object's handle 1 -> 0, the MDS's handle
  const SessionStep step = Feed(s, config);
  BOOST_TEST(!step.problem.ok());
  BOOST_REQUIRE_EQUAL(step.replies.size(), 1u);
  BOOST_TEST(step.replies[0] ==
             EncodeConfigReportResponse(0x4321, 0x4000, ConfigResult::kUnsupportedConfig));
  BOOST_TEST(StateName(s.state()) == "waiting-for-config");
}

BOOST_AUTO_TEST_CASE(configuration_over_the_object_limit_is_refused) {
  SessionOptions options;
  options.limits.max_config_objects = 1;
  AgentSession s(options);
  FeedOk(s, "H211");
  const SessionStep step = Feed(s, Vector("H221"));
  BOOST_TEST(step.problem.IsResourceExhausted(), step.problem.ToString());
}

BOOST_AUTO_TEST_CASE(observations_over_the_limit_are_refused) {
  SessionOptions options;
  options.limits.max_observations = 1;
  AgentSession s(options);
  FeedOk(s, "H211_ID_0190");
  const SessionStep step = Feed(s, Vector("H241_ID_0190"));
  BOOST_TEST(step.problem.IsResourceExhausted(), step.problem.ToString());
}

BOOST_AUTO_TEST_CASE(value_map_over_the_limit_is_refused) {
  SessionOptions options;
  options.limits.max_value_map_entries = 1;  // H221's objects map two attributes each
  AgentSession s(options);
  FeedOk(s, "H211");
  const SessionStep step = Feed(s, Vector("H221"));
  BOOST_TEST(step.problem.IsResourceExhausted(), step.problem.ToString());
  BOOST_TEST(step.problem.message().find("attribute-value-map count") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(persons_over_the_limit_are_refused) {
  SessionOptions options;
  options.limits.max_persons = 0;
  AgentSession s(options);
  FeedOk(s, "blood_pressure__aarq");
  FeedOk(s, "blood_pressure__roiv_mdc_noti_config");
  const SessionStep step = Feed(s, Vector("blood_pressure__roiv_mds_note_scan_report_mp_fixed"));
  BOOST_TEST(step.problem.IsResourceExhausted(), step.problem.ToString());
  BOOST_TEST(step.problem.message().find("scan-per count 1 exceeds the limit of 0") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(compound_values_over_the_limit_are_refused) {
  SessionOptions options;
  options.limits.max_compound_values = 2;
  AgentSession s(options);
  FeedOk(s, "H211_ID_02BC");
  const SessionStep step = Feed(s, Vector("H241_ID_02BC"));
  BOOST_TEST(step.problem.IsResourceExhausted(), step.problem.ToString());
}

BOOST_AUTO_TEST_CASE(model_strings_over_the_limit_are_not_kept) {
  SessionOptions options;
  options.limits.max_string_bytes = 4;
  AgentSession s(options);
  FeedOk(s, "H211");
  FeedOk(s, "H221");
  const SessionStep step = Feed(s, Vector("H233"));
  BOOST_TEST(step.problem.IsResourceExhausted(), step.problem.ToString());
  BOOST_TEST(s.device().manufacturer.empty());
  FeedOk(s, "H241");  // the measurements still arrive
}

BOOST_AUTO_TEST_CASE(learned_configurations_are_bounded) {
  SessionOptions options;
  options.limits.max_configurations_learned = 0;
  AgentSession s(options);
  FeedOk(s, "H211");
  FeedOk(s, "H221");
  FeedOk(s, "rx_rlrq_normal");
  const SessionStep step = FeedOk(s, "H211");
  BOOST_TEST(AareResult(step.replies.at(0)) == 3);  // asks for the configuration again
}

BOOST_AUTO_TEST_CASE(compound_count_that_does_not_match_the_physio_list_is_located) {
  AgentSession s;
  FeedOk(s, "H211_ID_02BC");
  std::string report = Vector("H241_ID_02BC");
  // Compound count 3 -> 2 (and its length 6 -> 4 keeps the list consistent by itself).
  report[35] = 0x02;
  report[37] = 0x04;
  const SessionStep step = Feed(s, report);
  BOOST_TEST(step.problem.message().find("handle 1") != std::string::npos, step.problem.message());
}

BOOST_AUTO_TEST_CASE(agent_get_request_is_rejected_not_fatal) {
  AgentSession s;
  FeedOk(s, "H211_ID_0190");
  const SessionStep step = Feed(s, Vector("H232"));  // a GET sent the wrong way
  BOOST_TEST(step.replies.at(0) == EncodeReject(0x3456, 101));
  BOOST_TEST(StateName(s.state()) == "operating");
}

BOOST_AUTO_TEST_CASE(unsupported_association_is_rejected) {
  AgentSession s;
  std::string aarq = Vector("H211");
  aarq[21] = 0x00;
  aarq[20] = 0x20;  // encoding rules: PER only, no MDER
  const SessionStep step = Feed(s, aarq);
  BOOST_TEST(AareResult(step.replies.at(0)) == 5);  // rejected-no-common-parameter
  BOOST_TEST(StateName(s.state()) == "unassociated");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::phd
