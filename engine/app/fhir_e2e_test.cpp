// `fhirbridge run` delivering into a real FHIR server (conformance/fhir-server: Medplum's router
// and in-memory repository behind a front that injects faults), counted on the server by
// identifier: every Observation exactly once after (a) every second request answered 429, (b) a
// 30-second down period in the middle, (c) a SIGKILL of fhirbridge in the middle and a restart;
// permanent errors land in dead-letter with the server's OperationOutcome and are delivered by
// `fhirbridge deadletter reprocess` once the cause is fixed (issue 4, Tests that must exist).

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "conformance/bench/pcd01_corpus.h"
#include "conformance/testing/fhir_server_process.h"
#include "engine/app/e2e_support.h"
#include "engine/app/mapping_options.h"
#include "fhirbridge/config.h"
#include "mappers/pcd01_mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::app {
namespace {

using namespace std::chrono_literals;
using namespace e2e;
using testing::FhirServerProcess;

std::unique_ptr<FhirServerProcess> StartServer(const std::vector<std::string>& args = {}) {
  auto server = FhirServerProcess::Start(args);
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().message());
  return std::move(server).value();
}

std::string WriteConfig(const fs::path& dir, const FhirServerProcess& server) {
  const std::string path = (dir / "config.json").string();
  std::ofstream(path) << R"({
  "store": {"path": ")"
                      << (dir / "var" / "store.db").string() << R"(", "sync": "normal"},
  "admin": {"listen": "127.0.0.1:0"},
  "sources": [{"name": "icu", "type": "mllp", "listen": "127.0.0.1:0",
               "assume_timezone": "UTC"}],
  "destinations": [{"name": "ehr", "type": "fhir", "base_url": ")"
                      << server.base_url() << R"(",
                    "timeout_ms": 5000, "connect_timeout_ms": 1000,
                    "retry": {"initial_ms": 100, "max_ms": 2000},
                    "circuit": {"failures": 5, "probe_interval_s": 1}}],
  "routes": [{"from": ["icu"], "to": ["ehr"]}]
})";
  return path;
}

// Messages for `patients` patients, `per_patient` each (so lanes carry several messages).
std::vector<std::string> Messages(int patients, int per_patient) {
  std::vector<std::string> out;
  const std::regex mrn("MRN[0-9]{6}");
  for (int k = 0; k < per_patient; ++k) {
    for (int p = 0; p < patients; ++p) {
      const int seed = 1 + k * patients + p;
      char id[16];
      std::snprintf(id, sizeof id, "MRN%06d", 500000 + p);
      out.push_back(std::regex_replace(conformance::MakePcd01Message(8, seed), mrn, id));
    }
  }
  return out;
}

// Every Observation identifier ("system|value") the Bundles of `messages` hold, as fhirbridge
// maps them with the configuration's source settings.
std::set<std::string> ExpectedObservations(const std::string& config_path,
                                           const std::vector<std::string>& messages) {
  std::set<std::string> ids;
  for (const std::string& text : ExpectedBundles(config_path, messages)) {
    rapidjson::Document bundle;
    bundle.Parse(text.data(), text.size());
    for (const auto& entry : bundle["entry"].GetArray()) {
      const auto& resource = entry["resource"];
      if (std::string(resource["resourceType"].GetString()) != "Observation") continue;
      const auto& identifier = resource["identifier"][0];
      ids.insert(std::string(identifier["system"].GetString()) + "|" +
                 identifier["value"].GetString());
    }
  }
  return ids;
}

// identifier → number of Observations on the server that carry it; nullopt while the server
// cannot be reached (a down period closes its port).
std::optional<std::map<std::string, int>> ServerObservations(const FhirServerProcess& server) {
  auto answer = server.Get("/$identifiers?type=Observation");
  if (!answer.ok() || answer->status != 200) return std::nullopt;
  rapidjson::Document counts;
  counts.Parse(answer->body.data(), answer->body.size());
  if (!counts.IsObject()) return std::nullopt;
  std::map<std::string, int> out;
  for (const auto& member : counts.GetObject()) {
    out[member.name.GetString()] = member.value.GetInt();
  }
  return out;
}

// Waits (bounded) until the server holds every expected Observation, then checks that each is
// there exactly once and that nothing else was created.
void ExpectExactlyOnce(const FhirServerProcess& server, const std::set<std::string>& expected,
                       std::chrono::seconds limit) {
  std::map<std::string, int> seen;
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    std::optional<std::map<std::string, int>> now = ServerObservations(server);
    if (!now) {
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < end, "the server stayed away");
      std::this_thread::sleep_for(250ms);
      continue;
    }
    seen = std::move(*now);
    std::size_t present = 0;
    for (const std::string& id : expected) present += seen.count(id);
    if (present == expected.size() || std::chrono::steady_clock::now() > end) break;
    std::this_thread::sleep_for(250ms);
  }
  int missing = 0;
  int duplicated = 0;
  for (const std::string& id : expected) {
    auto it = seen.find(id);
    if (it == seen.end()) {
      ++missing;
    } else if (it->second != 1) {
      ++duplicated;
    }
  }
  std::size_t unexpected = 0;
  for (const auto& [id, count] : seen) unexpected += expected.count(id) == 0 ? 1 : 0;
  BOOST_CHECK_EQUAL(missing, 0);
  BOOST_CHECK_EQUAL(duplicated, 0);
  BOOST_CHECK_EQUAL(unexpected, 0u);
}

std::vector<std::size_t> Range(std::size_t from, std::size_t to) {
  std::vector<std::size_t> out;
  for (std::size_t i = from; i < to; ++i) out.push_back(i);
  return out;
}

void SetFault(const FhirServerProcess& server, const std::string& json) {
  auto answer = server.Post("/$fault", json);
  BOOST_REQUIRE(answer.ok());
  BOOST_REQUIRE_MESSAGE(answer->status == 200, answer->body);
}

int Requests(const FhirServerProcess& server, const std::string& status) {
  auto answer = server.Get("/$requests");
  BOOST_REQUIRE(answer.ok());
  rapidjson::Document d;
  d.Parse(answer->body.data(), answer->body.size());
  if (!d.IsObject() || !d.HasMember("by_status")) return -1;
  const auto& by = d["by_status"];
  return by.HasMember(status.c_str()) ? by[status.c_str()].GetInt() : 0;
}

BOOST_AUTO_TEST_CASE(every_observation_once_when_every_second_request_is_answered_429) {
  TempDir t;
  auto server = StartServer();
  SetFault(*server, R"({"every_nth_429": 2, "retry_after_s": 1})");
  const std::string config = WriteConfig(t.dir, *server);
  const std::vector<std::string> messages = Messages(40, 5);
  const std::set<std::string> expected = ExpectedObservations(config, messages);
  ServiceProcess service(config);
  const int port = service.PortOf("source.listening");
  BOOST_CHECK_EQUAL(SendAll(port, messages, Range(0, messages.size()), 4, nullptr).size(),
                    messages.size());
  ExpectExactlyOnce(*server, expected, 120s);
  BOOST_TEST_MESSAGE("requests answered 429: " << Requests(*server, "429"));
  BOOST_CHECK_GT(Requests(*server, "429"), 0);
  BOOST_CHECK_EQUAL(service.Terminate(), 0);
}

BOOST_AUTO_TEST_CASE(every_observation_once_across_a_30_second_down_period) {
  TempDir t;
  auto server = StartServer();
  const std::string config = WriteConfig(t.dir, *server);
  const std::vector<std::string> messages = Messages(30, 6);
  const std::set<std::string> expected = ExpectedObservations(config, messages);
  ServiceProcess service(config);
  const int port = service.PortOf("source.listening");
  const int admin = service.PortOf("admin.listening");
  const std::size_t half = messages.size() / 2;
  BOOST_CHECK_EQUAL(SendAll(port, messages, Range(0, half), 2, nullptr).size(), half);
  SetFault(*server, R"({"down_for_s": 30})");
  // The device side keeps going while the EHR is down: intake does not depend on delivery.
  BOOST_CHECK_EQUAL(SendAll(port, messages, Range(half, messages.size()), 2, nullptr).size(),
                    messages.size() - half);
  // The circuit opens and shows in /readyz and /metrics while the server is down.
  bool open_seen = false;
  for (int i = 0; i < 100 && !open_seen; ++i) {
    int status = 0;
    const std::string ready = HttpGet(admin, "/readyz", status);
    open_seen = status == 503 && ready.find("destination ehr: circuit open") != std::string::npos;
    if (!open_seen) std::this_thread::sleep_for(200ms);
  }
  BOOST_CHECK(open_seen);
  int status = 0;
  BOOST_CHECK_NE(HttpGet(admin, "/metrics", status)
                     .find("fhirbridge_destination_circuit_open{destination=\"ehr\"} 1"),
                 std::string::npos);
  ExpectExactlyOnce(*server, expected, 120s);
  BOOST_CHECK_EQUAL(HttpGet(admin, "/readyz", status), "ready\n");
  BOOST_CHECK_EQUAL(service.Terminate(), 0);
}

BOOST_AUTO_TEST_CASE(every_observation_once_across_a_sigkill_and_restart) {
  TempDir t;
  auto server = StartServer();
  // Slow answers keep deliveries in flight, and some answers are lost after the server
  // committed: the outcome is unknown to fhirbridge, and the retry must find the resources there
  // instead of creating them again.
  SetFault(*server, R"({"drop_every_nth": 7, "delay_ms": 20})");
  const std::string config = WriteConfig(t.dir, *server);
  const std::vector<std::string> messages = Messages(100, 6);
  const std::set<std::string> expected = ExpectedObservations(config, messages);
  std::set<std::size_t> acked;
  std::size_t on_server_at_kill = 0;
  {
    ServiceProcess service(config);
    const int port = service.PortOf("source.listening");
    std::thread killer([&] {
      // SIGKILL once a quarter of the Observations reached the server: the rest of the
      // deliveries (and maybe of the intake) is under way.
      for (int i = 0; i < 1200; ++i) {
        std::optional<std::map<std::string, int>> seen = ServerObservations(*server);
        on_server_at_kill = seen ? seen->size() : 0;
        if (on_server_at_kill >= expected.size() / 4) break;
        std::this_thread::sleep_for(25ms);
      }
      service.Kill();
    });
    acked = SendAll(port, messages, Range(0, messages.size()), 4, nullptr);
    killer.join();
  }
  BOOST_TEST_MESSAGE("acknowledged before SIGKILL: " << acked.size() << ", Observations on the "
                                                     << "server: " << on_server_at_kill << " of "
                                                     << expected.size());
  BOOST_CHECK_GT(on_server_at_kill, 0u);
  BOOST_CHECK_LT(on_server_at_kill, expected.size());
  ServiceProcess service(config);
  const int port = service.PortOf("source.listening");
  // The gateway resends what it has no positive ACK for.
  std::vector<std::size_t> resend;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (acked.count(i) == 0) resend.push_back(i);
  }
  BOOST_CHECK_EQUAL(SendAll(port, messages, resend, 4, nullptr).size(), resend.size());
  ExpectExactlyOnce(*server, expected, 180s);
  BOOST_CHECK_EQUAL(service.Terminate(), 0);
}

BOOST_AUTO_TEST_CASE(permanent_errors_are_dead_lettered_and_reprocessed_after_the_fix) {
  TempDir t;
  auto server = StartServer();
  const std::string config = WriteConfig(t.dir, *server);
  // Patient MRN500000 has messages 0, 4 and 8 (seeds 1, 5, 9); the server refuses the first one
  // (its device 0011223344550001 is in its resources) until the cause is fixed.
  const std::vector<std::string> messages = Messages(4, 3);
  SetFault(*server,
           R"({"fail_status": {"status": 422, "when_identifier_contains": "0011223344550001"}})");
  const std::set<std::string> expected = ExpectedObservations(config, messages);
  const std::set<std::string> refused = ExpectedObservations(config, {messages[0]});
  std::set<std::string> delivered_first;
  std::set_difference(expected.begin(), expected.end(), refused.begin(), refused.end(),
                      std::inserter(delivered_first, delivered_first.end()));

  ServiceProcess service(config);
  const int port = service.PortOf("source.listening");
  const int admin = service.PortOf("admin.listening");
  BOOST_CHECK_EQUAL(SendAll(port, messages, Range(0, messages.size()), 1, nullptr).size(),
                    messages.size());
  // The later messages of the same patient go on; only the refused one is missing.
  ExpectExactlyOnce(*server, delivered_first, 60s);

  int status = 0;
  std::string listed;
  for (int i = 0; i < 100; ++i) {
    listed = HttpGet(admin, "/api/deadletters", status);
    if (listed.find("\"status\":\"open\"") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  BOOST_CHECK_EQUAL(status, 200);
  BOOST_CHECK_NE(listed.find("\"control_id\":\"CTL00000001\""), std::string::npos);
  BOOST_CHECK_NE(listed.find("\"http_status\":422"), std::string::npos);
  BOOST_CHECK_EQUAL(listed.find("MRN500000"), std::string::npos);  // no PHI in the list

  std::string out;
  BOOST_CHECK_EQUAL(RunFhirbridge({"deadletter", "list", "--config", config, "--json"}, out), 0);
  const std::regex id_pattern("\"id\":([0-9]+)");
  std::smatch m;
  BOOST_REQUIRE(std::regex_search(out, m, id_pattern));
  const std::string id = m[1];
  BOOST_CHECK_EQUAL(RunFhirbridge({"deadletter", "show", "--config", config, id}, out), 0);
  BOOST_CHECK_NE(out.find("\"resourceType\":\"OperationOutcome\""), std::string::npos);
  const std::string shown = HttpGet(admin, "/api/deadletters/" + id, status);
  BOOST_CHECK_EQUAL(status, 200);
  BOOST_CHECK_NE(shown.find("OperationOutcome"), std::string::npos);

  // Fixed on the server's side: reprocessing maps the stored message again and delivers it.
  BOOST_REQUIRE(server->Delete("/$fault").ok());
  BOOST_CHECK_EQUAL(RunFhirbridge({"deadletter", "reprocess", "--config", config, id}, out), 0);
  ExpectExactlyOnce(*server, expected, 60s);
  BOOST_CHECK_EQUAL(
      RunFhirbridge({"deadletter", "list", "--config", config, "--status", "reprocessed", "--json"},
                    out),
      0);
  BOOST_CHECK_NE(out.find("\"resolved_by\":\"cli:"), std::string::npos);
  // A second reprocess of the same entry is refused over the API too.
  HttpPost(admin, "/api/deadletters/" + id + "/reprocess", status);
  BOOST_CHECK_EQUAL(status, 409);
  BOOST_CHECK_EQUAL(service.Terminate(), 0);
}

}  // namespace
}  // namespace fhirbridge::app
