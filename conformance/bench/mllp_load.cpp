// MLLP load client: N connections send generated PCD-01 messages (unique MSH-10 each), one in
// flight per connection as MLLP senders do, and time every ACK.
//
//   fhirbridge_mllp_load --port P [--host 127.0.0.1] [--connections N] [--messages M]
//                        [--rate R] [--seconds S] [--obx K] [--tls-ca FILE] [--run-id ID]
//                        [--warmup N] [--settle S]
//   fhirbridge_mllp_load --self-test [--connections N] [--messages M] [--rate R] ...
//
// Bounded: stops after M messages in all (default 20000) or S seconds (default 60), whichever
// comes first. Only loopback addresses are accepted: this is a benchmark, not a traffic tool.
// --rate R paces the sends at R messages/s in all (spread over the connections); latency is
// then measured from each message's scheduled send time, so a server that falls behind shows
// it in the percentiles instead of slowing the client down (no coordinated omission).
// --self-test starts an MllpServer with the HL7 v2 handler in front of an in-memory Intake
// that only counts (no durable commit): the transport and ACK path without the engine.
// MSH-10 is "<run id>.<connection>.<n>"; the run id defaults to the clock's seconds, so that a
// second run against the same server sends new messages instead of resends (which the store
// only acknowledges again).
// --warmup N first sends N messages, unpaced and untimed, so that the figures are those of a
// server in its steady state: a fresh store's WAL file still grows, and an fdatasync that has
// to commit a file's new size to the file-system journal takes milliseconds, not microseconds.
// --settle S waits S seconds after the warm-up: the server maps and delivers the warm-up's
// backlog, and the measured phase then sees the steady state of a server that keeps up.
// Prints messages/s and p50/p99/max ACK latency; exits 1 when an ACK is missing or not AA/CA.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "conformance/bench/pcd01_corpus.h"
#include "connectors/mllp/hl7v2_handler.h"
#include "connectors/mllp/mllp_client.h"
#include "connectors/mllp/server.h"

namespace {

using Clock = std::chrono::steady_clock;
using fhirbridge::mllp::MllpClient;
using fhirbridge::mllp::MllpClientOptions;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 1;
  long messages = 20000;
  double rate = 0;  // messages/s in all; 0: as fast as the ACKs come back
  double seconds = 60;
  int obx = 30;
  std::string tls_ca;
  std::string run_id;
  long warmup = 0;    // messages sent (unpaced, untimed) before the measured ones
  double settle = 0;  // seconds to wait after the warm-up (the server works its backlog off)
  bool self_test = false;
};

/// Counts what it is given and stores nothing: the self-test's stand-in for the store.
class CountingIntake : public fhirbridge::Intake {
 public:
  fhirbridge::Result<fhirbridge::IntakeReceipt> Accept(fhirbridge::Message) override {
    fhirbridge::IntakeReceipt receipt;
    receipt.message_id = ++accepted_;
    return receipt;
  }
  fhirbridge::Status Reject(fhirbridge::Message, std::string_view) override {
    ++rejected_;
    return fhirbridge::Status::Ok();
  }

 private:
  std::atomic<std::int64_t> accepted_{0};
  std::atomic<std::int64_t> rejected_{0};
};

void Usage() {
  std::fprintf(stderr,
               "usage: fhirbridge_mllp_load (--port P | --self-test) [--host 127.0.0.1] "
               "[--connections N] [--messages M] [--rate R] [--seconds S] [--obx K] "
               "[--tls-ca FILE] [--run-id ID] [--warmup N] [--settle S]\n");
}

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (arg == "--self-test") {
      o.self_test = true;
      continue;
    }
    if ((v = value()) == nullptr) return std::nullopt;
    if (arg == "--port") {
      o.port = std::atoi(v);
    } else if (arg == "--host") {
      o.host = v;
    } else if (arg == "--connections") {
      o.connections = std::atoi(v);
    } else if (arg == "--messages") {
      o.messages = std::atol(v);
    } else if (arg == "--rate") {
      o.rate = std::atof(v);
    } else if (arg == "--seconds") {
      o.seconds = std::atof(v);
    } else if (arg == "--obx") {
      o.obx = std::atoi(v);
    } else if (arg == "--tls-ca") {
      o.tls_ca = v;
    } else if (arg == "--run-id") {
      o.run_id = v;
    } else if (arg == "--warmup") {
      o.warmup = std::atol(v);
    } else if (arg == "--settle") {
      o.settle = std::atof(v);
    } else {
      return std::nullopt;
    }
  }
  const bool loopback = o.host == "127.0.0.1" || o.host == "localhost" || o.host == "::1";
  if (!loopback || (!o.self_test && (o.port <= 0 || o.port > 65535)) || o.connections < 1 ||
      o.connections > 1000 || o.messages < 1 || o.warmup < 0 || o.settle < 0 || o.settle > 600 ||
      o.rate < 0 || o.seconds <= 0 || o.obx < 4) {
    return std::nullopt;
  }
  if (o.run_id.empty()) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    o.run_id = "L" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  }
  if (o.run_id.size() > 16 || o.run_id.find_first_of("|^~\\&\r") != std::string::npos) {
    return std::nullopt;  // MSH-10 stays short and free of HL7 delimiters
  }
  return o;
}

/// `message` with MSH-10 replaced by `control_id`.
std::string WithControlId(const std::string& message, const std::string& control_id) {
  std::size_t start = 0;
  for (int separators = 0; separators < 9; ++separators) {
    start = message.find('|', start) + 1;
  }
  const std::size_t end = message.find('|', start);
  return message.substr(0, start) + control_id + message.substr(end);
}

/// What one connection measured.
struct ConnectionResult {
  std::vector<double> latencies_ms;
  long failures = 0;
  std::string first_error;
};

void RunConnection(const Options& o, int index, long count, Clock::time_point start,
                   Clock::time_point deadline, const std::vector<std::string>& corpus,
                   ConnectionResult& result) {
  MllpClientOptions co;
  co.host = o.host;
  co.port = static_cast<std::uint16_t>(o.port);
  co.ca_file = o.tls_ca;
  auto client = MllpClient::Connect(co);
  if (!client.ok()) {
    result.failures = count;
    result.first_error = client.status().ToString();
    return;
  }
  result.latencies_ms.reserve(static_cast<std::size_t>(count));
  // Each connection sends every connections-th slot of the common schedule.
  const double interval_s = o.rate > 0 ? 1.0 / o.rate : 0;
  for (long i = 0; i < count; ++i) {
    auto send_at = Clock::now();
    if (o.rate > 0) {
      const double at_s = (static_cast<double>(i) * o.connections + index) * interval_s;
      send_at =
          start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at_s));
      std::this_thread::sleep_until(send_at);
    }
    if (Clock::now() > deadline) break;
    const std::string id = o.run_id + "." + std::to_string(index) + "." + std::to_string(i);
    auto ack =
        (*client)->Exchange(WithControlId(corpus[static_cast<std::size_t>(i) % corpus.size()], id));
    const auto done = Clock::now();
    const bool positive = ack.ok() && (ack->find("|AA|") != std::string::npos ||
                                       ack->find("|CA|") != std::string::npos);
    if (!positive) {
      if (result.failures++ == 0) {
        result.first_error = ack.ok() ? "negative ACK" : ack.status().ToString();
      }
      if (!ack.ok()) return;  // the connection is gone
      continue;
    }
    result.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(done - send_at).count());
  }
}

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

struct PhaseResult {
  std::vector<double> latencies_ms;  ///< sorted
  long failures = 0;
  std::string first_error;
  double elapsed_s = 0;
};

PhaseResult RunPhase(const Options& o, const std::vector<std::string>& corpus) {
  std::vector<ConnectionResult> results(static_cast<std::size_t>(o.connections));
  std::vector<std::thread> threads;
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (int c = 0; c < o.connections; ++c) {
    const long count = o.messages / o.connections + (c < o.messages % o.connections ? 1 : 0);
    threads.emplace_back(RunConnection, std::cref(o), c, count, start, deadline, std::cref(corpus),
                         std::ref(results[static_cast<std::size_t>(c)]));
  }
  for (auto& t : threads) t.join();
  PhaseResult out;
  out.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (const ConnectionResult& r : results) {
    out.latencies_ms.insert(out.latencies_ms.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    out.failures += r.failures;
    if (out.first_error.empty()) out.first_error = r.first_error;
  }
  std::sort(out.latencies_ms.begin(), out.latencies_ms.end());
  return out;
}

int RunLoad(const Options& o) {
  std::vector<std::string> corpus;
  for (int seed = 0; seed < 64; ++seed) {
    corpus.push_back(fhirbridge::conformance::MakePcd01Message(o.obx, seed));
  }
  if (o.warmup > 0) {
    // Unpaced and untimed: brings the server to its steady state (a grown WAL, warm caches).
    Options w = o;
    w.messages = o.warmup;
    w.rate = 0;
    w.run_id = o.run_id + "w";
    const PhaseResult warm = RunPhase(w, corpus);
    std::printf("mllp_load: warm-up of %zu messages in %.2f s\n", warm.latencies_ms.size(),
                warm.elapsed_s);
    if (warm.failures > 0) {
      std::fprintf(stderr, "mllp_load: warm-up failure: %s\n", warm.first_error.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(o.settle));
  }
  const PhaseResult r = RunPhase(o, corpus);
  const std::vector<double>& all = r.latencies_ms;
  const double elapsed = r.elapsed_s;
  const long failures = r.failures;
  std::printf(
      "mllp_load: %d connection(s)%s%s, %d OBX/message (%zu bytes), rate %s\n"
      "  acknowledged %zu, failed %ld in %.2f s: %.0f messages/s\n"
      "  ACK latency ms: p50 %.3f  p99 %.3f  max %.3f\n",
      o.connections, o.tls_ca.empty() ? "" : ", TLS", o.self_test ? ", self-test server" : "",
      o.obx, corpus[0].size(),
      o.rate > 0 ? (std::to_string(static_cast<long>(o.rate)) + " messages/s").c_str() : "unpaced",
      all.size(), failures, elapsed, static_cast<double>(all.size()) / elapsed,
      Percentile(all, 0.50), Percentile(all, 0.99), all.empty() ? 0.0 : all.back());
  if (failures > 0) std::fprintf(stderr, "mllp_load: first failure: %s\n", r.first_error.c_str());
  return failures == 0 && !all.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options = ParseArgs(argc, argv);
  if (!options) {
    Usage();
    return 2;
  }
  if (!options->self_test) return RunLoad(*options);

  CountingIntake intake;
  fhirbridge::mllp::Hl7v2MllpHandler handler({}, intake);
  fhirbridge::mllp::MllpServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.max_connections = std::max(options->connections, 8);
  fhirbridge::mllp::MllpServer server(so, handler);
  if (const fhirbridge::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "mllp_load: %s\n", s.ToString().c_str());
    return 1;
  }
  options->port = server.port();
  const int status = RunLoad(*options);
  server.Stop();
  return status;
}
