// `fhirbridge run` as a gateway sees it: real MLLP connections, a SIGKILL in the middle of a
// load, a restart, and a count of what reached the file destination. Also the admin API and a
// clean SIGTERM stop.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "conformance/bench/pcd01_corpus.h"
#include "connectors/mllp/mllp_client.h"
#include "engine/app/e2e_support.h"
#include "engine/app/mapping_options.h"
#include "fhirbridge/config.h"
#include "mappers/pcd01_mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::app {
namespace {

using namespace std::chrono_literals;
using namespace e2e;

std::string WriteConfig(const fs::path& dir) {
  const std::string path = (dir / "config.json").string();
  std::ofstream(path) << R"({
  "store": {"path": ")"
                      << (dir / "var" / "store.db").string() << R"("},
  "admin": {"listen": "127.0.0.1:0"},
  "sources": [{"name": "icu", "type": "mllp", "listen": "127.0.0.1:0",
               "assume_timezone": "UTC"}],
  "destinations": [{"name": "outbox", "type": "file", "path": ")"
                      << (dir / "outbox").string() << R"("}],
  "routes": [{"from": ["icu"], "to": ["outbox"]}]
})";
  return path;
}

// The value of an unlabelled family in /metrics text; -1 when it is not there.
double MetricValue(const std::string& metrics, const std::string& name) {
  const std::size_t at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + name.size() + 2));
}

BOOST_AUTO_TEST_CASE(every_acknowledged_message_is_delivered_once_across_a_sigkill) {
  TempDir t;
  const std::string config = WriteConfig(t.dir);
  constexpr std::size_t kMessages = 1500;
  std::vector<std::string> messages;
  for (std::size_t i = 0; i < kMessages; ++i) {
    messages.push_back(conformance::MakePcd01Message(8, static_cast<int>(i) + 1));
  }
  const std::vector<std::string> expected = ExpectedBundles(config, messages);
  BOOST_REQUIRE_EQUAL(std::set<std::string>(expected.begin(), expected.end()).size(), kMessages);

  std::set<std::size_t> acked_before_kill;
  {
    ServiceProcess service(config);
    const int port = service.PortOf("source.listening");
    std::vector<std::size_t> all(kMessages);
    for (std::size_t i = 0; i < kMessages; ++i) all[i] = i;
    std::atomic<int> acked{0};
    std::thread killer([&] {
      // SIGKILL once a third of the load is acknowledged, while the rest is in flight.
      for (int i = 0; i < 2000 && acked.load() < static_cast<int>(kMessages / 3); ++i) {
        std::this_thread::sleep_for(5ms);
      }
      service.Kill();
    });
    acked_before_kill = SendAll(port, messages, all, 4, &acked);
    killer.join();
  }
  BOOST_TEST_MESSAGE("acknowledged before SIGKILL: " << acked_before_kill.size());
  BOOST_CHECK_GT(acked_before_kill.size(), 0u);
  BOOST_CHECK_LT(acked_before_kill.size(), kMessages);

  ServiceProcess service(config);
  const int port = service.PortOf("source.listening");
  // The gateway resends everything it has no positive ACK for.
  std::vector<std::size_t> resend;
  for (std::size_t i = 0; i < kMessages; ++i) {
    if (acked_before_kill.count(i) == 0) resend.push_back(i);
  }
  const std::set<std::size_t> acked_after = SendAll(port, messages, resend, 4, nullptr);
  BOOST_CHECK_EQUAL(acked_after.size(), resend.size());

  const fs::path outbox = t.dir / "outbox" / "outbox.ndjson";
  for (int i = 0; i < 600 && Lines(outbox).size() < kMessages; ++i)
    std::this_thread::sleep_for(100ms);
  BOOST_CHECK_EQUAL(service.Terminate(), 0);

  std::map<std::string, int> seen;
  for (const std::string& line : Lines(outbox)) ++seen[line];
  BOOST_CHECK_EQUAL(seen.size(), kMessages);
  int duplicates = 0;
  int missing = 0;
  for (const std::string& bundle : expected) {
    auto it = seen.find(bundle);
    if (it == seen.end()) {
      ++missing;
    } else if (it->second != 1) {
      ++duplicates;
    }
  }
  BOOST_CHECK_EQUAL(missing, 0);
  BOOST_CHECK_EQUAL(duplicates, 0);
}

BOOST_AUTO_TEST_CASE(admin_api_reports_health_metrics_and_messages_and_sigterm_stops_cleanly) {
  TempDir t;
  const std::string config = WriteConfig(t.dir);
  ServiceProcess service(config);
  const int port = service.PortOf("source.listening");
  const int admin = service.PortOf("admin.listening");
  std::vector<std::string> messages = {conformance::MakePcd01Message(6, 7),
                                       conformance::MakePcd01Message(6, 8)};
  BOOST_CHECK_EQUAL(SendAll(port, messages, {0, 1}, 1, nullptr).size(), 2u);
  // A resend of a stored message is acknowledged again and not stored twice.
  BOOST_CHECK_EQUAL(SendAll(port, messages, {0}, 1, nullptr).size(), 1u);
  // Garbage gets an answer or a close, and the service keeps going.
  {
    mllp::MllpClientOptions options;
    options.port = static_cast<std::uint16_t>(port);
    auto client = mllp::MllpClient::Connect(options);
    BOOST_REQUIRE(client.ok());
    auto answer = (*client)->Exchange("this is not HL7");
    BOOST_REQUIRE(answer.ok());
    BOOST_CHECK_EQUAL(AckCode(*answer), "AR");
  }
  const fs::path outbox = t.dir / "outbox" / "outbox.ndjson";
  for (int i = 0; i < 100 && Lines(outbox).size() < 2; ++i) std::this_thread::sleep_for(100ms);
  BOOST_CHECK_EQUAL(Lines(outbox).size(), 2u);

  int status = 0;
  BOOST_CHECK_EQUAL(HttpGet(admin, "/healthz", status), "ok\n");
  BOOST_CHECK_EQUAL(status, 200);
  BOOST_CHECK_EQUAL(HttpGet(admin, "/readyz", status), "ready\n");
  BOOST_CHECK_EQUAL(status, 200);
  // A Bundle is in the file a moment before its delivery is committed (and counted): the file
  // destination appends first and cuts the file back to the committed length after a crash.
  const std::string delivered =
      "fhirbridge_deliveries_total{destination=\"outbox\",result=\"delivered\"} 2";
  std::string metrics = HttpGet(admin, "/metrics", status);
  for (int i = 0; i < 100 && metrics.find(delivered) == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
    metrics = HttpGet(admin, "/metrics", status);
  }
  BOOST_CHECK_EQUAL(status, 200);
  BOOST_CHECK_NE(
      metrics.find("fhirbridge_messages_acked_total{source=\"icu\",result=\"stored\"} 2"),
      std::string::npos);
  BOOST_CHECK_NE(
      metrics.find("fhirbridge_messages_acked_total{source=\"icu\",result=\"duplicate\"} 1"),
      std::string::npos);
  BOOST_CHECK_NE(metrics.find("fhirbridge_messages_rejected_total{source=\"icu\"} 1"),
                 std::string::npos);
  BOOST_CHECK_NE(metrics.find(delivered), std::string::npos);
  BOOST_CHECK_NE(metrics.find("fhirbridge_queue_depth{destination=\"outbox\"} 0"),
                 std::string::npos);
  BOOST_CHECK_NE(metrics.find("fhirbridge_ack_latency_seconds_count{source=\"icu\"}"),
                 std::string::npos);
  // Two messages acknowledged one after the other: each waited for its own fsync, and a sync
  // only ever follows a commit.
  const double commits = MetricValue(metrics, "fhirbridge_store_commits_total");
  const double syncs = MetricValue(metrics, "fhirbridge_store_syncs_total");
  BOOST_CHECK_GE(syncs, 2.0);
  BOOST_CHECK_LE(syncs, commits);
  BOOST_CHECK_GE(MetricValue(metrics, "fhirbridge_store_wal_restarts_total"), 0.0);
  // What those ACKs waited for, commit and fsync, each timed in its histogram.
  BOOST_CHECK_GE(MetricValue(metrics, "fhirbridge_store_sync_seconds_count"), 2.0);
  BOOST_CHECK_GT(MetricValue(metrics, "fhirbridge_store_sync_seconds_sum"), 0.0);
  BOOST_CHECK_GE(MetricValue(metrics, "fhirbridge_store_commit_seconds_count"), 2.0);
  // Both messages mapped and delivered: nothing waits for the mapper.
  BOOST_CHECK_EQUAL(MetricValue(metrics, "fhirbridge_mapping_backlog"), 0.0);
  BOOST_CHECK_EQUAL(MetricValue(metrics, "fhirbridge_mapping_backlog_oldest_age_seconds"), 0.0);
  const std::string listed = HttpGet(admin, "/api/messages?status=mapped", status);
  BOOST_CHECK_EQUAL(status, 200);
  BOOST_CHECK_NE(listed.find("\"status\":\"mapped\""), std::string::npos);
  // Ids and states only: nothing of the message content (patient ids, names) is listed.
  BOOST_CHECK_EQUAL(listed.find("PID"), std::string::npos);
  HttpGet(admin, "/api/messages?status=bogus", status);
  BOOST_CHECK_EQUAL(status, 400);
  HttpGet(admin, "/nothing", status);
  BOOST_CHECK_EQUAL(status, 404);

  BOOST_CHECK_EQUAL(service.Terminate(), 0);
  BOOST_CHECK_NE(service.log().find("event=service.stopped"), std::string::npos);
}

}  // namespace
}  // namespace fhirbridge::app
