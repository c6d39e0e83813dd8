// AuditRecord → AuditEvent: every rendering valid R4 (the project's validator with the embedded
// R4 definitions: required elements, cardinalities, bindings, invariants), and the BALP shape
// of the patterns that matter. Also the instants and the syslog form.

#include "engine/audit/audit_event.h"

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>
#include <memory>

#include "engine/audit/audit_time.h"
#include "engine/audit/syslog_message.h"
#include "fhir-profiles/validator/validator.h"

namespace fhirbridge::audit {
namespace {

const validator::Validator& R4() {
  static const std::unique_ptr<validator::Validator> v = [] {
    auto defs = validator::Definitions::Embedded();
    BOOST_REQUIRE(defs.ok());
    auto created = validator::Validator::Create(std::move(*defs));
    BOOST_REQUIRE(created.ok());
    return std::move(created).value();
  }();
  return *v;
}

AuditRecord Delivered() {
  AuditRecord r;
  r.id = 42;
  r.at_us = 1767225600123456;  // 2026-01-01T00:00:00.123456Z
  r.event = "message.delivered";
  r.actor = "fhirbridge";
  r.source = "ehr";
  r.message_id = 7;
  r.control_id = "MSG00007";
  r.patient = "urn:oid:1.2.36.146.595.217.0.1|MRN-4711";
  r.detail = R"({"http_status":201,"server_ids":"Observation/1/_history/1"})";
  return r;
}

std::vector<AuditRecord> Samples() {
  std::vector<AuditRecord> out;
  for (const char* event : {"message.received",
                            "message.rejected",
                            "message.acknowledged",
                            "message.mapped",
                            "message.validated",
                            "message.held",
                            "message.failed",
                            "message.delivered",
                            "message.retried",
                            "message.dead_lettered",
                            "deadletter.reprocessed",
                            "deadletter.discarded",
                            "deadletter.read",
                            "admin.read",
                            "audit.read",
                            "payload.purged",
                            "service.started",
                            "service.stopped",
                            "config.loaded",
                            "message.resent",
                            "something.new"}) {
    for (const char* outcome : {"success", "failure"}) {
      AuditRecord r = Delivered();
      r.event = event;
      r.outcome = outcome;
      out.push_back(r);
      r.patient = "";
      r.detail = R"({"reason":"HTTP 422 from the server","count":3})";
      r.actor = "source:icu";
      r.source = "icu";
      r.peer = "10.1.2.3:50123";
      r.tls_identity = "CN=gateway-7";
      out.push_back(r);
      r.actor = "admin-token:0123456789ab";
      r.peer = "[::1]:8081";
      r.message_id = 0;
      r.control_id = "";
      r.detail = "not json";
      out.push_back(r);
      r.actor = "cli:root";
      r.peer = "";
      r.detail = "";
      r.patient = "MRN-without-system";
      out.push_back(r);
      r.patient = "";
      r.id = 0;
      out.push_back(r);  // no entity at all
      r.message_id = 5;
      out.push_back(r);  // a data entity with nothing but the message id
    }
  }
  return out;
}

BOOST_AUTO_TEST_SUITE(audit_event)

BOOST_AUTO_TEST_CASE(every_rendering_is_valid_r4) {
  AuditEventOptions options;
  options.node_name = "fhirbridge-node-1.example.org";
  int checked = 0;
  for (const AuditRecord& r : Samples()) {
    const std::string json = RenderAuditEvent(r, options);
    const validator::Outcome outcome = R4().ValidateJson(json, {});
    BOOST_TEST_INFO(r.event << " " << r.outcome << " " << r.actor << ": " << json);
    BOOST_TEST(!outcome.HasErrors(), outcome.ToJson());
    ++checked;
  }
  BOOST_TEST(checked == 252);
}

BOOST_AUTO_TEST_CASE(the_validator_catches_what_a_wrong_rendering_would_do) {
  // The test above could not fail if the validator accepted anything: break the required parts.
  const std::string good = RenderAuditEvent(Delivered(), {});
  BOOST_TEST(!R4().ValidateJson(good, {}).HasErrors());
  auto broken = [&](const std::string& from, const std::string& to) {
    std::string json = good;
    const std::size_t at = json.find(from);
    BOOST_REQUIRE(at != std::string::npos);
    json.replace(at, from.size(), to);
    return R4().ValidateJson(json, {}).HasErrors();
  };
  BOOST_TEST(broken(R"("action":"C")", R"("action":"X")"));       // required binding
  BOOST_TEST(broken(R"("outcome":"0")", R"("outcome":"1")"));     // required binding
  BOOST_TEST(broken(R"("requestor":true)", R"("requestor":1)"));  // type
  BOOST_TEST(broken(R"("recorded":)", R"("recordedX":)"));        // required element
}

BOOST_AUTO_TEST_CASE(a_delivery_is_shaped_like_balp_create) {
  AuditEventOptions options;
  options.node_name = "node-a";
  const std::string json = RenderAuditEvent(Delivered(), options);
  rapidjson::Document d;
  d.Parse(json.c_str());
  BOOST_REQUIRE(!d.HasParseError());
  BOOST_TEST(d["id"].GetString() == std::string("42"));
  BOOST_TEST(d["type"]["code"].GetString() == std::string("rest"));
  BOOST_TEST(d["subtype"][0]["code"].GetString() == std::string("create"));
  BOOST_TEST(d["subtype"][1]["system"].GetString() == std::string(kEventSystem));
  BOOST_TEST(d["subtype"][1]["code"].GetString() == std::string("message.delivered"));
  BOOST_TEST(d["action"].GetString() == std::string("C"));
  BOOST_TEST(d["recorded"].GetString() == std::string("2026-01-01T00:00:00.123456Z"));
  BOOST_TEST(d["outcome"].GetString() == std::string("0"));
  BOOST_TEST(!d.HasMember("outcomeDesc"));
  const auto& agents = d["agent"];
  BOOST_REQUIRE(agents.Size() == 2u);
  BOOST_TEST(agents[0]["type"]["coding"][0]["code"].GetString() == std::string("110153"));
  BOOST_TEST(agents[0]["requestor"].GetBool());
  BOOST_TEST(agents[0]["who"]["identifier"]["value"].GetString() == std::string("node-a"));
  BOOST_TEST(agents[1]["type"]["coding"][0]["code"].GetString() == std::string("110152"));
  BOOST_TEST(!agents[1]["requestor"].GetBool());
  BOOST_TEST(agents[1]["who"]["identifier"]["value"].GetString() == std::string("ehr"));
  BOOST_TEST(d["source"]["observer"]["identifier"]["value"].GetString() == std::string("node-a"));
  const auto& patient = d["entity"][0];
  BOOST_TEST(patient["role"]["code"].GetString() == std::string("1"));
  BOOST_TEST(patient["what"]["identifier"]["system"].GetString() ==
             std::string("urn:oid:1.2.36.146.595.217.0.1"));
  BOOST_TEST(patient["what"]["identifier"]["value"].GetString() == std::string("MRN-4711"));
  const auto& data = d["entity"][1];
  BOOST_TEST(data["role"]["code"].GetString() == std::string("4"));
  BOOST_TEST(data["what"]["identifier"]["value"].GetString() == std::string("7"));
  BOOST_TEST(data["detail"][0]["type"].GetString() == std::string("control_id"));
  BOOST_TEST(data["detail"][0]["valueString"].GetString() == std::string("MSG00007"));
  BOOST_TEST(data["detail"][1]["valueString"].GetString() == std::string("201"));
  BOOST_TEST(data["detail"][2]["valueString"].GetString() ==
             std::string("Observation/1/_history/1"));
  BOOST_TEST(json.find("extension") == std::string::npos);
  BOOST_TEST(RenderAuditEvent(Delivered(), options) == json);  // deterministic
}

BOOST_AUTO_TEST_CASE(an_inbound_message_names_the_sender_as_requestor) {
  AuditRecord r = Delivered();
  r.event = "message.received";
  r.source = "icu";
  r.peer = "10.0.0.5:40000";
  r.tls_identity = "CN=gw";
  rapidjson::Document d;
  d.Parse(RenderAuditEvent(r, {}).c_str());
  BOOST_TEST(d["type"]["code"].GetString() == std::string("110107"));
  BOOST_TEST(d["agent"][0]["who"]["identifier"]["value"].GetString() == std::string("icu"));
  BOOST_TEST(d["agent"][0]["requestor"].GetBool());
  BOOST_TEST(d["agent"][0]["altId"].GetString() == std::string("CN=gw"));
  BOOST_TEST(d["agent"][0]["network"]["address"].GetString() == std::string("10.0.0.5"));
  BOOST_TEST(d["agent"][0]["network"]["type"].GetString() == std::string("2"));
  BOOST_TEST(d["agent"][1]["who"]["identifier"]["value"].GetString() == std::string("fhirbridge"));
}

BOOST_AUTO_TEST_CASE(failures_have_outcome_codes_and_a_description) {
  AuditRecord r = Delivered();
  r.outcome = "failure";
  r.event = "message.dead_lettered";
  r.detail = R"({"reason":"HTTP 422"})";
  rapidjson::Document d;
  d.Parse(RenderAuditEvent(r, {}).c_str());
  BOOST_TEST(d["outcome"].GetString() == std::string("8"));
  BOOST_TEST(d["outcomeDesc"].GetString() == std::string("message.dead_lettered failed: HTTP 422"));
  r.event = "message.rejected";
  BOOST_TEST(OutcomeCode(r) == "4");
  r.event = "service.started";
  BOOST_TEST(OutcomeCode(r) == "12");
  BOOST_TEST(ShapeOf("service.started").subtype_code == "110120");
  BOOST_TEST(ShapeOf("admin.read").action == "R");
  BOOST_TEST(ShapeOf("deadletter.discarded").action == "D");
}

BOOST_AUTO_TEST_CASE(instants_round_trip_and_bad_ones_are_refused) {
  BOOST_TEST(FormatInstant(0) == "1970-01-01T00:00:00.000000Z");
  BOOST_TEST(FormatInstant(-1) == "1969-12-31T23:59:59.999999Z");
  BOOST_TEST(FormatInstant(951782400000001) == "2000-02-29T00:00:00.000001Z");
  BOOST_TEST(*ParseInstant("2026-01-01") == 1767225600000000);
  BOOST_TEST(*ParseInstant("2026-01-01T00:00:00.123456Z") == 1767225600123456);
  BOOST_TEST(*ParseInstant("2026-01-01T01:00+01:00") == 1767225600000000);
  BOOST_TEST(*ParseInstant("2025-12-31T19:00:00-05:00") == 1767225600000000);
  BOOST_TEST(*ParseInstant("2026-01-01T00:00:00.5") == 1767225600500000);
  for (const char* bad : {"", "2026", "2026-13-01", "2026-02-30", "2026-01-01T24:00",
                          "2026-01-01 00:00", "2026-01-01T00:00:00.", "2026-01-01T00:00Zjunk",
                          "2026-01-01T00:00+1:00", "2026-01-01T00:00:00.1234567890"}) {
    BOOST_TEST_INFO(bad);
    BOOST_TEST(ParseInstant(bad).status().IsInvalidArgument());
  }
  for (std::int64_t at : {0LL, 1767225600123456LL, 4102444799999999LL}) {
    BOOST_TEST(*ParseInstant(FormatInstant(at)) == at);
  }
}

BOOST_AUTO_TEST_CASE(syslog_messages_follow_rfc5424_and_rfc5425) {
  AuditRecord r = Delivered();
  SyslogHeader h;
  h.hostname = "node a";  // a space is not allowed in a header field
  h.procid = "123";
  const std::string msg = FormatSyslogMessage(r, "{\"resourceType\":\"AuditEvent\"}", h);
  BOOST_TEST(msg ==
             "<85>1 2026-01-01T00:00:00.123456Z node_a fhirbridge 123 message.delivered - "
             "{\"resourceType\":\"AuditEvent\"}");
  r.outcome = "failure";
  BOOST_TEST(FormatSyslogMessage(r, "x", h).substr(0, 5) == "<84>1");  // minor: warning
  r.event = "message.dead_lettered";
  BOOST_TEST(FormatSyslogMessage(r, "x", h).substr(0, 5) == "<83>1");  // serious: error
  r.event = "message.rejected";
  BOOST_TEST(FormatSyslogMessage(r, "x", h).substr(0, 5) == "<84>1");  // minor: warning
  r.event = std::string(40, 'e');
  h.app_name = "";
  const std::string cut = FormatSyslogMessage(r, "x", h);
  BOOST_TEST(cut.find(" - 123 " + std::string(32, 'e') + " - x") != std::string::npos);
  BOOST_TEST(FrameOctetCounted("abc") == "3 abc");
  BOOST_TEST(FrameOctetCounted("") == "0 ");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::audit
