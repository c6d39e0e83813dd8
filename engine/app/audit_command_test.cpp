// `fhirbridge audit export` in-process on a real store: the selections (--since, --until,
// --patient), NDJSON that is valid R4, the export itself audited, and usage errors.

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "conformance/testing/fhir_server_process.h"
#include "engine/app/commands.h"
#include "engine/app/e2e_support.h"
#include "engine/audit/audit_time.h"
#include "engine/store/sqlite_store.h"
#include "fhir-profiles/validator/validator.h"

namespace fhirbridge::app {
namespace {

struct ExportFixture {
  ExportFixture() {
    config = (t.dir / "config.json").string();
    const std::string store_path = (t.dir / "store.db").string();
    std::ofstream(config) << R"({"store": {"path": ")" << store_path
                          << R"(", "sync": "normal"}, "audit": {"node_name": "node-x"}})";
    store::SqliteStoreOptions o;
    o.path = store_path;
    o.full_sync = false;
    auto opened = store::SqliteStore::Open(o);
    BOOST_REQUIRE(opened.ok());
    // Three days, two patients (one with the same value under another system).
    const char* patients[] = {"urn:oid:1.2.3|P-1", "urn:oid:1.2.3|P-2", "urn:oid:9.9|P-1", ""};
    for (int day = 1; day <= 3; ++day) {
      for (const char* patient : patients) {
        AuditRecord r;
        r.at_us = *audit::ParseInstant("2026-02-0" + std::to_string(day) + "T10:00:00Z");
        r.event = "message.mapped";
        r.actor = "fhirbridge";
        r.message_id = day;
        r.patient = patient;
        BOOST_REQUIRE((*opened)->RecordAudit(std::move(r)).ok());
      }
    }
    (*opened)->Close();
  }

  // Runs the export; returns its lines.
  std::vector<std::string> Export(std::vector<std::string> extra, int expected_exit = 0) {
    std::vector<std::string> args = {"export", "--config", config};
    args.insert(args.end(), extra.begin(), extra.end());
    std::ostringstream out;
    std::ostringstream err;
    BOOST_TEST(RunAudit(args, out, err) == expected_exit, err.str());
    std::vector<std::string> lines;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  e2e::TempDir t;
  std::string config;
};

std::string PatientOf(const std::string& line) {
  rapidjson::Document d;
  d.Parse(line.c_str());
  if (!d.HasMember("entity")) return "";
  const auto& what = d["entity"][0]["what"];
  if (!what.HasMember("identifier")) return "";
  const auto& id = what["identifier"];
  std::string system = id.HasMember("system") ? id["system"].GetString() : "";
  return system + "|" + id["value"].GetString();
}

BOOST_AUTO_TEST_SUITE(audit_export_command)

BOOST_AUTO_TEST_CASE(exports_valid_auditevents_and_selects_by_time_and_patient) {
  ExportFixture f;
  const std::vector<std::string> all = f.Export({});
  BOOST_REQUIRE_EQUAL(all.size(), 12u + 1u);  // the entries, and the export's own audit entry
  auto defs = validator::Definitions::Embedded();
  BOOST_REQUIRE(defs.ok());
  auto validator = validator::Validator::Create(std::move(*defs));
  BOOST_REQUIRE(validator.ok());
  for (const std::string& line : all) {
    const validator::Outcome outcome = (*validator)->ValidateJson(line, {});
    BOOST_TEST(!outcome.HasErrors(), line << "\n" << outcome.ToJson());
    BOOST_TEST(line.find("\"observer\":{\"identifier\":{\"system\":\"urn:fhirbridge:node\","
                         "\"value\":\"node-x\"}}") != std::string::npos);
  }
  // The export is audited (who read the trail), as the last entry.
  BOOST_TEST(all.back().find("\"code\":\"audit.read\"") != std::string::npos);
  BOOST_TEST(all.back().find("\"action\":\"R\"") != std::string::npos);

  BOOST_TEST(f.Export({"--since", "2026-02-02", "--until", "2026-02-03"}).size() == 4u);
  BOOST_TEST(f.Export({"--since", "2026-02-03T10:00:00Z", "--until", "2026-02-04"}).size() == 4u);
  BOOST_TEST(f.Export({"--until", "2026-02-01T10:00:00.000001+00:00"}).size() == 4u);
  const std::vector<std::string> p1 = f.Export({"--patient", "P-1"});
  BOOST_TEST(p1.size() == 6u);  // both systems
  for (const std::string& line : p1) BOOST_TEST(PatientOf(line).ends_with("|P-1"));
  // A system|value export names its patient in its own audit entry, which it then selects.
  const std::vector<std::string> exact = f.Export({"--patient", "urn:oid:9.9|P-1"});
  BOOST_REQUIRE(exact.size() == 4u);
  BOOST_TEST(exact.back().find("\"code\":\"audit.read\"") != std::string::npos);
  for (const std::string& line : exact) BOOST_TEST(PatientOf(line) == "urn:oid:9.9|P-1");
  BOOST_TEST(f.Export({"--patient", "P-404"}).empty());
  BOOST_TEST(f.Export({"--patient", "urn:oid:9.9|P-1", "--since", "2026-03-01"}).size() == 2u);
  const std::vector<std::string> reads = f.Export({"--since", "2026-03-01"});
  BOOST_TEST(reads.size() >= 7u);  // one audit.read per export above, and this one
  BOOST_TEST(PatientOf(reads[reads.size() - 2]) == "urn:oid:9.9|P-1");
}

BOOST_AUTO_TEST_CASE(post_creates_each_auditevent_on_a_real_fhir_server) {
  ExportFixture f;
  auto server = testing::FhirServerProcess::Start();
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().message());
  const std::vector<std::string> posted =
      f.Export({"--patient", "urn:oid:1.2.3|P-2", "--post", (*server)->base_url() + "/"});
  BOOST_REQUIRE_EQUAL(posted.size(), 4u);  // three entries and the export's own
  auto found = (*server)->Get("/AuditEvent?_count=100");
  BOOST_REQUIRE(found.ok());
  rapidjson::Document bundle;
  bundle.Parse(found->body.c_str());
  BOOST_REQUIRE(!bundle.HasParseError() && bundle.HasMember("entry"));
  BOOST_TEST(bundle["entry"].Size() == 4u);
  for (const auto& entry : bundle["entry"].GetArray()) {
    BOOST_TEST(entry["resource"]["entity"][0]["what"]["identifier"]["value"].GetString() ==
               std::string("P-2"));
  }
  // A server that is not there: exit 1, every entry named on stderr.
  (*server)->Stop();
  f.Export({"--patient", "urn:oid:1.2.3|P-2", "--post", "http://127.0.0.1:1"}, 1);
}

BOOST_AUTO_TEST_CASE(usage_problems_exit_2) {
  ExportFixture f;
  std::ostringstream out;
  std::ostringstream err;
  BOOST_TEST(RunAudit({}, out, err) == 2);
  BOOST_TEST(RunAudit({"frobnicate"}, out, err) == 2);
  BOOST_TEST(RunAudit({"export"}, out, err) == 2);  // no --config
  f.Export({"--since", "yesterday"}, 2);
  f.Export({"--until", "2026-02-30"}, 2);
  f.Export({"--patient"}, 2);
  f.Export({"--bogus", "x"}, 2);
  f.Export({"--post", "ftp://example.org"}, 2);
  BOOST_TEST(out.str().empty());
}

BOOST_AUTO_TEST_CASE(syslog_settings_are_checked_together) {
  e2e::TempDir t;
  const std::string path = (t.dir / "config.json").string();
  std::ofstream(path) << R"({"audit": {"node_name": "has space", "syslog": {"enabled": true,
      "facility": 24, "tls": {"cert": "c.pem"}}}})";
  std::ostringstream out;
  std::ostringstream err;
  BOOST_TEST(RunCheckConfig({path}, out, err) == 1);
  for (const char* problem : {"audit.node_name", "audit.syslog.address", "audit.syslog.tls.ca",
                              "audit.syslog.tls.key", "audit.syslog.facility"}) {
    BOOST_TEST(err.str().find(problem) != std::string::npos, problem << " in:\n" << err.str());
  }
  std::ofstream(path) << R"({"audit": {"syslog": {"enabled": false, "tls": {"cert": "c.pem",
      "key": "k.pem"}}}})";
  BOOST_TEST(RunCheckConfig({path}, out, err) == 0, err.str());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::app
