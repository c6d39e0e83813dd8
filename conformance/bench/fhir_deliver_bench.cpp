// Deliveries per second into the local test FHIR server, and CPU per delivery: fhirbridge's
// (getrusage of this process, which runs only the FhirSink) against the server's (its
// /proc/<pid>/stat times). Issue 4 asks that fhirbridge's CPU per delivered message stays
// at most 1/10 of the server's. Figures are printed, never asserted.
//
//   fhirbridge_fhir_deliver_bench [--messages N] [--observations K] [--patients P]
//                                 [--mode transaction|batch|single] [--connections C]
//                                 [--gather-ms G] [--quick]
//
// --connections and --gather-ms are the destination's max_connections and gather_ms; by default
// the service's own defaults, read from the configuration schema.

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/bench/proc_cpu.h"
#include "conformance/testing/fhir_server_process.h"
#include "engine/delivery/fhir_sink.h"
#include "fhirbridge/config.h"

namespace {

using fhirbridge::OutboxItem;
using fhirbridge::delivery::DeliveryMode;

struct Options {
  int messages = 2000;
  int observations = 10;
  int patients = 50;
  int connections = 0;  ///< set from the service's default
  int gather_ms = 0;    ///< set from the service's default
  DeliveryMode mode = DeliveryMode::kTransaction;
  std::string mode_name = "transaction";
};

// A PCD-01-like transaction Bundle: Patient, Device, K Observations, all conditional creates.
std::string MakeBundle(int message, int patient, int observations) {
  const std::string p =
      "urn:uuid:00000000-0000-4000-8000-" + std::to_string(100000000000 + patient);
  const std::string d =
      "urn:uuid:00000000-0000-4000-9000-" + std::to_string(100000000000 + patient);
  std::ostringstream b;
  b << R"({"resourceType":"Bundle","type":"transaction","entry":[)";
  b << R"({"fullUrl":")" << p
    << R"(","resource":{"resourceType":"Patient","identifier":[{"system":"urn:bench:mrn","value":"P)"
    << patient
    << R"("}],"gender":"female"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:bench:mrn|P)"
    << patient << R"("}},)";
  b << R"({"fullUrl":")" << d
    << R"(","resource":{"resourceType":"Device","identifier":[{"system":"urn:bench:dev","value":"D)"
    << patient
    << R"("}]},"request":{"method":"POST","url":"Device","ifNoneExist":"identifier=urn:bench:dev|D)"
    << patient << R"("}})";
  for (int k = 0; k < observations; ++k) {
    const std::string id = "M" + std::to_string(message) + "-" + std::to_string(k);
    b << R"(,{"fullUrl":"urn:uuid:00000000-0000-4000-a000-)"
      << (100000000000LL + message * 100LL + k)
      << R"(","resource":{"resourceType":"Observation","identifier":[{"system":"urn:bench:obs","value":")"
      << id
      << R"("}],"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":")"
      << p << R"("},"device":{"reference":")" << d
      << R"("},"effectiveDateTime":"2024-03-15T10:10:00Z","valueQuantity":{"value":72.50,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}},"request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=urn:bench:obs|)"
      << id << R"("}})";
  }
  b << "]}";
  return b.str();
}

double CpuSecondsSelf() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// A FHIR destination's defaults as the service applies them.
void ServiceDefaults(Options& o) {
  const fhirbridge::Result<fhirbridge::Config> config = fhirbridge::LoadConfig(
      R"({"destinations": [{"name": "d", "type": "fhir", "base_url": "http://127.0.0.1/"}]})",
      fhirbridge::DefaultConfigSchema(), "defaults");
  if (!config.ok()) {
    std::fprintf(stderr, "service defaults: %s\n", config.status().message().c_str());
    return;  // connections stays 0: the options are refused
  }
  const fhirbridge::ConfigNode& d = config->root().Array("destinations")[0];
  o.connections = static_cast<int>(d.GetInt("max_connections"));
  o.gather_ms = static_cast<int>(d.GetInt("gather_ms"));
}

bool ParseOptions(int argc, char** argv, Options& o) {
  ServiceDefaults(o);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--messages")
      o.messages = std::atoi(next());
    else if (a == "--observations")
      o.observations = std::atoi(next());
    else if (a == "--patients")
      o.patients = std::atoi(next());
    else if (a == "--connections")
      o.connections = std::atoi(next());
    else if (a == "--gather-ms")
      o.gather_ms = std::atoi(next());
    else if (a == "--quick")
      o.messages = 200;
    else if (a == "--mode") {
      o.mode_name = next();
      if (o.mode_name == "transaction")
        o.mode = DeliveryMode::kTransaction;
      else if (o.mode_name == "batch")
        o.mode = DeliveryMode::kBatch;
      else if (o.mode_name == "single")
        o.mode = DeliveryMode::kSingle;
      else
        return false;
    } else {
      return false;
    }
  }
  return o.messages > 0 && o.observations > 0 && o.patients > 0 && o.connections > 0 &&
         o.gather_ms >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseOptions(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: fhirbridge_fhir_deliver_bench [--messages N] [--observations K] "
                 "[--patients P] [--mode transaction|batch|single] [--connections C] "
                 "[--gather-ms G] [--quick]\n");
    return 2;
  }
  auto server = fhirbridge::testing::FhirServerProcess::Start({"--max-seconds", "3600"});
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start the FHIR server: %s\n", server.status().message().c_str());
    return 1;
  }
  fhirbridge::delivery::FhirSinkOptions sink_options;
  sink_options.destination = "bench";
  sink_options.row.base_url = (*server)->base_url();
  sink_options.row.mode = o.mode;
  sink_options.row.prefer = "minimal";
  sink_options.http.max_connections = static_cast<std::size_t>(o.connections);
  sink_options.gather = std::chrono::milliseconds(o.gather_ms);
  auto sink = fhirbridge::delivery::FhirSink::Create(sink_options);
  if (!sink.ok()) {
    std::fprintf(stderr, "%s\n", sink.status().ToString().c_str());
    return 1;
  }
  std::vector<OutboxItem> rows;
  for (int m = 0; m < o.messages; ++m) {
    OutboxItem row;
    row.id = m + 1;
    row.lane = "lane-" + std::to_string(m % o.patients);
    row.payload = MakeBundle(m, m % o.patients, o.observations);
    rows.push_back(std::move(row));
  }
  const double self_before = CpuSecondsSelf();
  const double server_before = fhirbridge::conformance::ProcessCpuSeconds((*server)->pid());
  const auto start = std::chrono::steady_clock::now();
  int delivered = 0;
  int failed = 0;
  for (std::size_t at = 0; at < rows.size(); at += 128) {
    std::vector<OutboxItem> batch(
        rows.begin() + static_cast<std::ptrdiff_t>(at),
        rows.begin() + static_cast<std::ptrdiff_t>(std::min(at + 128, rows.size())));
    for (const auto& outcome : (*sink)->Deliver(batch).outcomes) {
      if (outcome.kind == fhirbridge::DeliveryOutcome::Kind::kDelivered)
        ++delivered;
      else
        ++failed;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double self_cpu = CpuSecondsSelf() - self_before;
  const double server_cpu =
      fhirbridge::conformance::ProcessCpuSeconds((*server)->pid()) - server_before;
  std::printf("mode %s, %d messages of %d observations, %d lanes, %d connections, gather %d ms\n",
              o.mode_name.c_str(), o.messages, o.observations, o.patients, o.connections,
              o.gather_ms);
  std::printf("delivered %d, not delivered %d, %.2f s\n", delivered, failed, seconds);
  std::printf("deliveries/s: %.0f (%.0f resources/s)\n", delivered / seconds,
              delivered * (o.observations + 2) / seconds);
  std::printf("fhirbridge CPU per delivery: %.1f us\n", 1e6 * self_cpu / std::max(delivered, 1));
  std::printf("server CPU per delivery:     %.1f us\n", 1e6 * server_cpu / std::max(delivered, 1));
  if (server_cpu > 0) std::printf("ratio fhirbridge/server: %.3f\n", self_cpu / server_cpu);
  return failed == 0 ? 0 : 1;
}
