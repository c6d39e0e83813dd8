// End to end into a real FHIR server: `fhirbridge run` (MLLP source, SQLite store, PCD-01
// mapping, validation, FHIR destination in transaction mode) fed by MLLP connections, the test
// FHIR server (conformance/fhir-server) behind it. Prints messages/s from the first message sent
// to the last Observation on the server, and CPU per message of fhirbridge's process and of the
// server's (both from /proc/<pid>/stat), and fhirbridge's split by thread. Issue 4 asks that
// fhirbridge never be the bottleneck: its CPU per delivered message at most 1/10 of the server's.
// Figures are printed, not asserted.
//
//   fhirbridge_e2e_fhir_bench --fhirbridge PATH [--messages N] [--obx K] [--connections C]
//                             [--seconds S] [--sync full|normal] [--rounds R] [--baseline PATH]
//                             [--rate M]
//
// Without --rate the connections send as fast as the ACKs come back: a burst that is
// acknowledged long before the server has taken it, so the pipeline works through a backlog in
// full batches. --rate M paces the connections to M messages/s together (below what the
// server takes, a steady stream: each message is committed, synced and mapped nearly alone).
//
// Both processes' CPU per message moves by ±15% from one run to the next on a small VM, so one
// run says little about a change of a few percent. --rounds runs the whole thing R times (a new
// server and a new store each time) and ends with the mean of each figure; --baseline runs that
// other fhirbridge binary before each round of PATH, so that both see the same machine.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "conformance/bench/pcd01_corpus.h"
#include "conformance/bench/proc_cpu.h"
#include "conformance/testing/fhir_server_process.h"
#include "connectors/mllp/mllp_client.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string fhirbridge;
  int messages = 2000;
  int obx = 12;
  int connections = 4;
  int seconds = 300;          ///< the whole run stops by itself after this
  std::string sync = "full";  ///< store.sync
  int rounds = 1;
  std::string baseline;  ///< another fhirbridge binary, run alternately with `fhirbridge`
  double rate = 0;       ///< messages/s of all connections together; 0: as fast as ACKs come
};

// What one round measured, per message.
struct RoundFigures {
  double service_us = 0;
  double server_us = 0;
};

// Bytes a process wrote through write(2) and pwrite(2) ("wchar" in /proc/<pid>/io): the WAL, the
// database file after checkpoints, and the logs.
double WrittenBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("wchar: ", 0) == 0) return std::stod(line.substr(7));
  }
  return 0;
}

std::size_t ObservationsOnServer(const fhirbridge::testing::FhirServerProcess& server) {
  auto answer = server.Get("/$stats");
  if (!answer.ok() || answer->status != 200) return 0;
  rapidjson::Document d;
  d.Parse(answer->body.c_str());
  return d.IsObject() && d.HasMember("Observation") ? d["Observation"].GetUint64() : 0;
}

// The unlabelled series of fhirbridge's /metrics (Prometheus text), read in one request; empty
// when it cannot be read.
std::map<std::string, double> MetricValues(int admin_port) {
  std::map<std::string, double> values;
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(admin_port));
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request("GET", "/metrics", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    for (std::string line; std::getline(in, line);) {
      const std::size_t space = line.find(' ');
      if (line.empty() || line[0] == '#' || space == std::string::npos) continue;
      if (line.find('{') < space) continue;  // labelled
      values[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
  } catch (const std::exception&) {
  }
  return values;
}

// One series of a MetricValues reading, -1 when it is missing.
double Metric(const std::map<std::string, double>& values, const std::string& name) {
  auto it = values.find(name);
  return it == values.end() ? -1 : it->second;
}

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return false;
    const std::string v = argv[++i];
    if (a == "--fhirbridge") {
      o.fhirbridge = v;
    } else if (a == "--messages") {
      o.messages = std::stoi(v);
    } else if (a == "--obx") {
      o.obx = std::stoi(v);
    } else if (a == "--connections") {
      o.connections = std::stoi(v);
    } else if (a == "--seconds") {
      o.seconds = std::stoi(v);
    } else if (a == "--sync" && (v == "full" || v == "normal")) {
      o.sync = v;
    } else if (a == "--rounds") {
      o.rounds = std::stoi(v);
    } else if (a == "--baseline") {
      o.baseline = v;
    } else if (a == "--rate") {
      o.rate = std::stod(v);
    } else {
      return false;
    }
  }
  return !o.fhirbridge.empty() && o.messages > 0 && o.obx >= 4 && o.connections > 0 &&
         o.seconds > 0 && o.rounds > 0 && o.rounds <= 100 && o.rate >= 0;
}

int Run(const Options& o, const std::string& fhirbridge_path, RoundFigures& figures) {
  auto server = fhirbridge::testing::FhirServerProcess::Start(
      {"--max-seconds", std::to_string(o.seconds + 60)});
  if (!server.ok()) {
    std::cerr << "bench: " << server.status().message() << "\n";
    return 1;
  }
  const fs::path dir =
      fs::temp_directory_path() / ("fhirbridge-e2e-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string config = (dir / "config.json").string();
  std::ofstream(config) << R"({"store": {"path": ")" << (dir / "store.db").string()
                        << R"(", "sync": ")" << o.sync << R"("}, "admin": {"listen": "127.0.0.1:0"},
  "sources": [{"name": "icu", "type": "mllp", "listen": "127.0.0.1:0", "assume_timezone": "UTC"}],
  "destinations": [{"name": "ehr", "type": "fhir", "base_url": ")"
                        << (*server)->base_url() << R"(", "prefer": "minimal"}],
  "routes": [{"from": ["icu"], "to": ["ehr"]}]})";
  Poco::Pipe err;
  Poco::ProcessHandle service =
      Poco::Process::launch(fhirbridge_path, {"run", "--config", config}, nullptr, nullptr, &err);
  Poco::PipeInputStream log(err);
  int port = 0;
  int admin_port = 0;
  const std::regex listening("event=source.listening[^\\n]* port=([0-9]+)");
  const std::regex admin("event=admin.listening[^\\n]* port=([0-9]+)");
  for (std::string line; port == 0 && std::getline(log, line);) {
    std::smatch m;
    if (std::regex_search(line, m, listening)) port = std::stoi(m[1]);
    if (std::regex_search(line, m, admin)) admin_port = std::stoi(m[1]);
  }
  std::thread drain([&log] {
    for (std::string line; std::getline(log, line);) {
    }
  });
  std::vector<std::string> messages;
  std::size_t expected = 0;
  for (int i = 0; i < o.messages; ++i) {
    messages.push_back(fhirbridge::conformance::MakePcd01Message(o.obx, i + 1));
  }
  // Read before the CPU figures start, so that rendering /metrics is not counted in them.
  const auto metrics0 = MetricValues(admin_port);
  const double commits0 = Metric(metrics0, "fhirbridge_store_commits_total");
  const double syncs0 = Metric(metrics0, "fhirbridge_store_syncs_total");
  const double renders0 = Metric(metrics0, "fhirbridge_bundles_rendered_total");
  const double unvalidated0 = Metric(metrics0, "fhirbridge_bundles_rendered_unvalidated_total");
  const auto threads0 = fhirbridge::conformance::ThreadCpuOf(service.id());
  const double service_cpu0 = fhirbridge::conformance::ProcessCpuSeconds(service.id());
  const double service_written0 = WrittenBytes(service.id());
  const double server_cpu0 = fhirbridge::conformance::ProcessCpuSeconds((*server)->pid());
  const auto start = Clock::now();
  std::atomic<int> acked{0};
  std::vector<std::thread> senders;
  for (int c = 0; c < o.connections; ++c) {
    senders.emplace_back([&, c] {
      fhirbridge::mllp::MllpClientOptions options;
      options.port = static_cast<std::uint16_t>(port);
      auto client = fhirbridge::mllp::MllpClient::Connect(options);
      if (!client.ok()) return;
      for (int i = c; i < o.messages; i += o.connections) {
        if (o.rate > 0) {
          // Message i is due i/rate seconds after the start, whichever connection sends it.
          std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                    std::chrono::duration<double>(i / o.rate)));
        }
        if ((*client)->Exchange(messages[static_cast<std::size_t>(i)]).ok()) ++acked;
      }
    });
  }
  for (auto& t : senders) t.join();
  const double intake_s = std::chrono::duration<double>(Clock::now() - start).count();
  // Every message's Observations: count them from one message's Bundle on the server at the end.
  std::size_t seen = 0;
  std::size_t last = 0;
  auto last_change = Clock::now();
  const auto deadline = start + std::chrono::seconds(o.seconds);
  while (Clock::now() < deadline) {
    seen = ObservationsOnServer(**server);
    if (seen != last) {
      last = seen;
      last_change = Clock::now();
    } else if (seen > 0 && Clock::now() - last_change > 3s) {
      break;  // nothing more arrives
    }
    std::this_thread::sleep_for(50ms);
  }
  const double total_s = std::chrono::duration<double>(last_change - start).count();
  const double service_cpu =
      fhirbridge::conformance::ProcessCpuSeconds(service.id()) - service_cpu0;
  const auto threads1 = fhirbridge::conformance::ThreadCpuOf(service.id());
  const double service_written = WrittenBytes(service.id()) - service_written0;
  const double server_cpu =
      fhirbridge::conformance::ProcessCpuSeconds((*server)->pid()) - server_cpu0;
  const auto metrics1 = MetricValues(admin_port);
  const double commits1 = Metric(metrics1, "fhirbridge_store_commits_total");
  const double syncs1 = Metric(metrics1, "fhirbridge_store_syncs_total");
  const double renders1 = Metric(metrics1, "fhirbridge_bundles_rendered_total");
  const double unvalidated1 = Metric(metrics1, "fhirbridge_bundles_rendered_unvalidated_total");
  const double commits = commits1 < 0 ? -1 : commits1 - commits0;
  const double syncs = syncs1 < 0 ? -1 : syncs1 - syncs0;
  Poco::Process::requestTermination(service.id());
  service.wait();
  drain.join();
  (*server)->Stop();
  fs::remove_all(dir);
  expected = seen;
  const double n = static_cast<double>(o.messages);
  std::printf("messages: %d (%d OBX each), acknowledged %d, Observations on the server %zu\n",
              o.messages, o.obx, acked.load(), expected);
  std::printf(
      "intake: %.0f messages/s over %d MLLP connections%s\n", n / intake_s, o.connections,
      o.rate > 0 ? (" (paced at " + std::to_string(static_cast<int>(o.rate)) + "/s)").c_str() : "");
  std::printf(
      "end to end: %.0f messages/s (%.2f s from the first message to the last "
      "Observation on the server)\n",
      n / total_s, total_s);
  std::printf(
      "CPU per message (store.sync %s): fhirbridge %.1f us, FHIR server %.1f us, "
      "ratio 1/%.1f\n",
      o.sync.c_str(), service_cpu / n * 1e6, server_cpu / n * 1e6,
      service_cpu > 0 ? server_cpu / service_cpu : 0.0);
  std::printf("fhirbridge CPU per message by thread: %s\n",
              fhirbridge::conformance::CpuByThread(threads0, threads1, service_cpu, n).c_str());
  // On a virtual machine whose idle CPUs halt, each wait (a sleep and a wake-up) costs the
  // thread tens of microseconds of CPU: the count explains much of the figures above.
  std::printf("fhirbridge waits per message by thread: %s\n",
              fhirbridge::conformance::WaitsByThread(threads0, threads1, n).c_str());
  std::printf("fhirbridge wrote %.1f KB per message (store, logs)", service_written / n / 1024);
  if (commits0 >= 0 && syncs0 >= 0 && commits >= 0 && syncs >= 0) {
    std::printf("; store commits %.2f and fdatasyncs %.2f per message", commits / n, syncs / n);
  } else {
    std::printf("; store commits and fdatasyncs: /metrics could not be read");
  }
  // A Bundle not found in the renderer's cache at delivery is mapped a second time, and
  // validated again unless this process validated the same bytes when it mapped the message.
  if (renders0 >= 0 && renders1 >= 0) {
    std::printf("; Bundles mapped again at delivery: %.0f", renders1 - renders0);
    if (unvalidated0 >= 0 && unvalidated1 >= 0) {
      std::printf(" (%.0f of them not validated again)", unvalidated1 - unvalidated0);
    }
  }
  std::printf("\n");
  figures.service_us = service_cpu / n * 1e6;
  figures.server_us = server_cpu / n * 1e6;
  return acked.load() == o.messages ? 0 : 1;
}

// The means over the rounds of one binary, and how many rounds met issue 4's 1/10.
void PrintSummary(const std::string& name, const std::vector<RoundFigures>& rounds) {
  if (rounds.empty()) return;
  double service = 0;
  double server = 0;
  double lo = rounds[0].service_us;
  double hi = lo;
  int met = 0;
  for (const RoundFigures& r : rounds) {
    service += r.service_us;
    server += r.server_us;
    lo = std::min(lo, r.service_us);
    hi = std::max(hi, r.service_us);
    if (r.service_us > 0 && r.server_us / r.service_us >= 10.0) ++met;
  }
  const double k = static_cast<double>(rounds.size());
  std::printf(
      "%s over %zu rounds: fhirbridge %.1f us per message (%.1f to %.1f), FHIR server %.1f us, "
      "ratio of the means 1/%.2f; rounds at 1/10 or better: %d\n",
      name.c_str(), rounds.size(), service / k, lo, hi, server / k,
      service > 0 ? server / service : 0.0, met);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    std::cerr << "usage: fhirbridge_e2e_fhir_bench --fhirbridge PATH [--messages N] [--obx K] "
                 "[--connections C] [--seconds S] [--sync full|normal] [--rounds R] "
                 "[--baseline PATH] [--rate M]\n";
    return 2;
  }
  // A single run prints its figures alone; repeated or alternated runs are headed and summed up.
  const bool repeated = o.rounds > 1 || !o.baseline.empty();
  std::vector<RoundFigures> candidate;
  std::vector<RoundFigures> baseline;
  int status = 0;
  for (int round = 1; round <= o.rounds; ++round) {
    for (const bool is_baseline : {true, false}) {
      if (is_baseline && o.baseline.empty()) continue;
      const std::string& path = is_baseline ? o.baseline : o.fhirbridge;
      if (repeated) std::printf("== round %d of %d: %s\n", round, o.rounds, path.c_str());
      std::fflush(stdout);
      RoundFigures figures;
      status |= Run(o, path, figures);
      if (figures.service_us > 0) (is_baseline ? baseline : candidate).push_back(figures);
    }
  }
  if (!repeated) return status;
  std::printf("==\n");
  if (!o.baseline.empty()) PrintSummary("baseline " + o.baseline, baseline);
  PrintSummary(o.fhirbridge, candidate);
  return status;
}
