#include "engine/delivery/fhir_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "conformance/testing/fhir_server_process.h"

namespace fhirbridge::delivery {
namespace {

using Kind = DeliveryOutcome::Kind;
using testing::FhirServerProcess;

std::unique_ptr<FhirServerProcess> StartServer(const std::vector<std::string>& args = {}) {
  auto server = FhirServerProcess::Start(args);
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  return std::move(server).value();
}

std::unique_ptr<FhirSink> MakeSink(const std::string& base_url,
                                   DeliveryMode mode = DeliveryMode::kTransaction,
                                   std::size_t connections = 8,
                                   std::chrono::microseconds gather = {}) {
  FhirSinkOptions options;
  options.destination = "test";
  options.row.base_url = base_url;
  options.row.mode = mode;
  options.http.max_connections = connections;
  options.gather = gather;
  auto sink = FhirSink::Create(options);
  BOOST_REQUIRE_MESSAGE(sink.ok(), sink.status().ToString());
  return std::move(sink).value();
}

// The transaction Bundles of the mapper's golden files, each in the lane of its Patient.
std::vector<OutboxItem> GoldenRows() {
  std::vector<OutboxItem> rows;
  const std::filesystem::path folder =
      std::filesystem::path(FHIRBRIDGE_SOURCE_DIR) / "mappers/testdata/golden";
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(folder)) files.push_back(f.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(R"({"resourceType":"Bundle")", 0) != 0) continue;
      OutboxItem row;
      row.id = static_cast<std::int64_t>(rows.size()) + 1;
      constexpr std::string_view kKey = R"("url":"Patient","ifNoneExist":")";
      const std::size_t p = line.find(kKey);
      row.lane =
          p == std::string::npos
              ? "no-patient"
              : line.substr(p + kKey.size(), line.find('"', p + kKey.size()) - p - kKey.size());
      row.payload = line;
      rows.push_back(std::move(row));
    }
  }
  BOOST_REQUIRE_GT(rows.size(), 10u);
  return rows;
}

// A small transaction Bundle: Patient P, Observation with identifier value `obs`.
std::string SmallBundle(const std::string& patient, const std::string& obs) {
  return R"({"resourceType":"Bundle","type":"transaction","entry":[)"
         R"({"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","identifier":[{"system":"urn:t:mrn","value":")" +
         patient +
         R"("}]},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:t:mrn|)" +
         patient +
         R"("}},{"fullUrl":"urn:uuid:o","resource":{"resourceType":"Observation","identifier":[{"system":"urn:t:obs","value":")" +
         obs +
         R"("}],"status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:p"},"valueQuantity":{"value":1.50}},)"
         R"("request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=urn:t:obs|)" +
         obs + R"("}}]})";
}

OutboxItem Row(std::int64_t id, std::string lane, std::string payload) {
  OutboxItem row;
  row.id = id;
  row.lane = std::move(lane);
  row.payload = std::move(payload);
  return row;
}

// {"system|value": count} of the server's Observations.
std::map<std::string, int> ObservationIdentifiers(const FhirServerProcess& server) {
  auto answer = server.Get("/$identifiers?type=Observation");
  BOOST_REQUIRE(answer.ok());
  BOOST_REQUIRE_EQUAL(answer->status, 200);
  rapidjson::Document doc;
  doc.Parse(answer->body.c_str());
  BOOST_REQUIRE(doc.IsObject());
  std::map<std::string, int> out;
  for (const auto& m : doc.GetObject()) out[m.name.GetString()] = m.value.GetInt();
  return out;
}

std::string Stats(const FhirServerProcess& server) { return server.Get("/$stats")->body; }

void SetFault(const FhirServerProcess& server, const std::string& json) {
  auto answer = server.Post("/$fault", json);
  BOOST_REQUIRE(answer.ok());
  BOOST_REQUIRE_MESSAGE(answer->status == 200, answer->body);
}

void RequireAllDelivered(const SinkResult& result) {
  for (std::size_t i = 0; i < result.outcomes.size(); ++i) {
    BOOST_REQUIRE_MESSAGE(result.outcomes[i].kind == Kind::kDelivered,
                          "row " << i << ": " << result.outcomes[i].reason);
  }
}

// How a delivery gathers answers, and how many sleeps it took for them.
struct Gathering {
  std::chrono::microseconds gather{};
  std::size_t connections = 8;
  std::size_t sleeps = 0;  ///< set by DeliverGolden
};

// Delivers the golden Bundles in `mode` to a fresh server; returns its Observation identifiers.
std::map<std::string, int> DeliverGolden(DeliveryMode mode, std::string* stats = nullptr,
                                         Gathering* gathering = nullptr) {
  auto server = StartServer();
  auto sink = gathering
                  ? MakeSink(server->base_url(), mode, gathering->connections, gathering->gather)
                  : MakeSink(server->base_url(), mode);
  const std::vector<OutboxItem> rows = GoldenRows();
  const SinkResult first = sink->Deliver(rows);
  RequireAllDelivered(first);
  for (const DeliveryOutcome& o : first.outcomes) {
    BOOST_TEST(o.server_ids.find("Observation/") != std::string::npos);
  }
  const std::string before = Stats(*server);
  // Resending creates nothing: every create is conditional.
  RequireAllDelivered(sink->Deliver(rows));
  BOOST_TEST(Stats(*server) == before);
  if (stats) *stats = before;
  if (gathering) gathering->sleeps = sink->answer_pace().sleeps();
  return ObservationIdentifiers(*server);
}

BOOST_AUTO_TEST_SUITE(fhir_sink)

BOOST_AUTO_TEST_CASE(transaction_batch_and_single_store_the_same_resources_once) {
  std::string transaction_stats, batch_stats, single_stats;
  const auto transaction = DeliverGolden(DeliveryMode::kTransaction, &transaction_stats);
  BOOST_REQUIRE(!transaction.empty());
  for (const auto& [identifier, count] : transaction) {
    BOOST_TEST(count == 1, identifier << " stored " << count << " times");
  }
  const auto batch = DeliverGolden(DeliveryMode::kBatch, &batch_stats);
  const auto single = DeliverGolden(DeliveryMode::kSingle, &single_stats);
  BOOST_TEST((batch == transaction));
  BOOST_TEST((single == transaction));
  BOOST_TEST(batch_stats == transaction_stats);
  BOOST_TEST(single_stats == transaction_stats);
}

// With answers gathered (gather_ms), every row is still delivered once and reported with its own
// outcome: the same resources as without, each once, and a resend creates nothing. Two
// connections for the golden Bundles' nine lanes keep lanes waiting, so the sink does sleep.
BOOST_AUTO_TEST_CASE(answers_gathered_store_the_same_resources_once) {
  const auto plain = DeliverGolden(DeliveryMode::kTransaction);
  for (DeliveryMode mode : {DeliveryMode::kTransaction, DeliveryMode::kSingle}) {
    Gathering gathering{std::chrono::milliseconds(20), 2};
    const auto gathered = DeliverGolden(mode, nullptr, &gathering);
    BOOST_TEST((gathered == plain));
    BOOST_TEST(gathering.sleeps > 0u);
  }
}

BOOST_AUTO_TEST_CASE(single_mode_rewrites_references_to_server_ids) {
  auto server = StartServer();
  auto sink = MakeSink(server->base_url(), DeliveryMode::kSingle);
  const SinkResult result = sink->Deliver({Row(1, "a", SmallBundle("P1", "O1"))});
  RequireAllDelivered(result);
  const std::string ids = result.outcomes[0].server_ids;  // "Patient/… Observation/…"
  BOOST_REQUIRE(ids.rfind("Patient/", 0) == 0);
  const std::string patient = ids.substr(0, ids.find('/', 8));
  auto found = server->Get("/Observation?identifier=urn:t:obs|O1");
  BOOST_REQUIRE(found.ok());
  BOOST_TEST(found->body.find(R"("reference":")" + patient + "\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(http_429_is_retried_after_the_servers_delay) {
  auto server = StartServer();
  SetFault(*server, R"({"every_nth_429": 1, "retry_after_s": 7})");
  auto sink = MakeSink(server->base_url());
  const SinkResult result =
      sink->Deliver({Row(1, "a", SmallBundle("P1", "O1")), Row(2, "a", SmallBundle("P1", "O2"))});
  BOOST_TEST((result.outcomes[0].kind == Kind::kRetry));
  BOOST_TEST(result.outcomes[0].http_status == 429);
  BOOST_TEST(result.outcomes[0].reason == "HTTP 429");
  BOOST_TEST(result.outcomes[0].retry_after_us == 7'000'000);
  BOOST_TEST((result.outcomes[1].kind == Kind::kNotAttempted));
  BOOST_TEST(ObservationIdentifiers(*server).empty());
}

BOOST_AUTO_TEST_CASE(http_503_is_retried) {
  auto server = StartServer();
  SetFault(*server, R"({"every_nth_503": 1})");
  for (DeliveryMode mode :
       {DeliveryMode::kTransaction, DeliveryMode::kBatch, DeliveryMode::kSingle}) {
    const SinkResult result =
        MakeSink(server->base_url(), mode)->Deliver({Row(1, "a", SmallBundle("P1", "O1"))});
    BOOST_TEST((result.outcomes[0].kind == Kind::kRetry));
    BOOST_TEST(result.outcomes[0].http_status == 503);
    BOOST_TEST(result.outcomes[0].retry_after_us == 0);
  }
}

BOOST_AUTO_TEST_CASE(a_dropped_connection_is_retried_and_the_resend_creates_nothing) {
  auto server = StartServer();
  SetFault(*server, R"({"drop_every_nth": 1})");
  auto sink = MakeSink(server->base_url());
  const std::vector<OutboxItem> rows = {Row(1, "a", SmallBundle("P1", "O1"))};
  const SinkResult dropped = sink->Deliver(rows);
  BOOST_TEST((dropped.outcomes[0].kind == Kind::kRetry));
  BOOST_TEST(dropped.outcomes[0].http_status == 0);
  BOOST_TEST(server->Delete("/$fault")->status == 200);
  RequireAllDelivered(sink->Deliver(rows));
  BOOST_TEST(ObservationIdentifiers(*server) == (std::map<std::string, int>{{"urn:t:obs|O1", 1}}));
}

BOOST_AUTO_TEST_CASE(connection_refused_is_retried) {
  std::uint16_t port = 0;
  {
    auto server = StartServer();
    port = server->port();
  }  // stopped: nothing listens there now
  const SinkResult result = MakeSink("http://127.0.0.1:" + std::to_string(port))
                                ->Deliver({Row(1, "a", SmallBundle("P1", "O1"))});
  BOOST_TEST((result.outcomes[0].kind == Kind::kRetry));
  BOOST_TEST(result.outcomes[0].reason == "connection refused");
}

BOOST_AUTO_TEST_CASE(http_422_is_permanent_with_the_outcome_and_only_its_lane_waits) {
  auto server = StartServer();
  SetFault(*server, R"({"fail_status": {"status": 422, "when_identifier_contains": "bad"}})");
  auto sink = MakeSink(server->base_url());
  const SinkResult result =
      sink->Deliver({Row(1, "a", SmallBundle("P1", "O1")), Row(2, "a", SmallBundle("P1", "bad-2")),
                     Row(3, "b", SmallBundle("P2", "O3")), Row(4, "a", SmallBundle("P1", "O4"))});
  BOOST_TEST((result.outcomes[0].kind == Kind::kDelivered));
  BOOST_TEST((result.outcomes[1].kind == Kind::kPermanent));
  BOOST_TEST(result.outcomes[1].http_status == 422);
  BOOST_TEST(result.outcomes[1].reason == "HTTP 422");
  BOOST_TEST(result.outcomes[1].outcome.find("OperationOutcome") != std::string::npos);
  BOOST_TEST(result.outcomes[1].outcome.find("business-rule") != std::string::npos);
  BOOST_TEST((result.outcomes[2].kind == Kind::kDelivered));
  BOOST_TEST((result.outcomes[3].kind == Kind::kNotAttempted));
  const auto stored = ObservationIdentifiers(*server);
  BOOST_TEST(stored.size() == 2u);
  BOOST_TEST(stored.count("urn:t:obs|O4") == 0u);
}

BOOST_AUTO_TEST_CASE(a_404_without_an_outcome_gets_a_synthesized_one) {
  auto server = StartServer();
  const SinkResult result =
      MakeSink(server->base_url() + "/NoSuchType")->Deliver({Row(1, "a", SmallBundle("P1", "O1"))});
  BOOST_TEST((result.outcomes[0].kind == Kind::kPermanent));
  BOOST_TEST((result.outcomes[0].http_status == 404 || result.outcomes[0].http_status == 405));
  BOOST_TEST(result.outcomes[0].outcome.find("OperationOutcome") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_payload_that_is_not_a_bundle_is_permanent_in_batch_and_single_modes) {
  auto server = StartServer();
  for (DeliveryMode mode : {DeliveryMode::kBatch, DeliveryMode::kSingle}) {
    const SinkResult result = MakeSink(server->base_url(), mode)->Deliver({Row(1, "a", "{oops")});
    BOOST_TEST((result.outcomes[0].kind == Kind::kPermanent));
    BOOST_TEST(result.outcomes[0].reason == "payload: the payload is not valid JSON");
  }
}

// Holds each request until `lanes` requests are open at once, then answers them all 200; after
// 10 s without that many it answers 503. Records the row marker ("id") of each request in the
// order received, and the most requests ever held at once.
class BarrierServer {
 public:
  explicit BarrierServer(std::size_t lanes) : lanes_(lanes) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~BarrierServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> markers() {
    std::lock_guard lock(mutex_);
    return markers_;
  }
  std::size_t max_held() const { return max_held_; }

 private:
  struct Conn {
    int fd;
    std::string in;
  };
  static bool Complete(const std::string& in) {
    const std::size_t end = in.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    const std::size_t cl = in.find("Content-Length: ");
    const std::size_t length = cl < end ? std::stoul(in.substr(cl + 16)) : 0;
    return in.size() >= end + 4 + length;
  }
  void Answer(std::vector<Conn>& held, int status) {
    const std::string body =
        R"({"resourceType":"Bundle","type":"transaction-response","entry":[]})";
    const std::string text =
        "HTTP/1.1 " + std::to_string(status) +
        " X\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
        body;
    for (Conn& c : held) {
      (void)!::write(c.fd, text.data(), text.size());
      ::close(c.fd);
    }
    held.clear();
  }
  void Run() {
    std::vector<Conn> reading, held;
    auto first_held = std::chrono::steady_clock::now();
    while (!stop_) {
      std::vector<pollfd> fds{{fd_, POLLIN, 0}};
      for (const Conn& c : reading) fds.push_back({c.fd, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 50);
      if (fds[0].revents & POLLIN) reading.push_back({::accept(fd_, nullptr, nullptr), ""});
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
        Conn& c = reading[i - 1];
        char buffer[65536];
        const ssize_t n = ::read(c.fd, buffer, sizeof buffer);
        if (n > 0) c.in.append(buffer, static_cast<std::size_t>(n));
      }
      for (auto it = reading.begin(); it != reading.end();) {
        if (!Complete(it->in)) {
          ++it;
          continue;
        }
        const std::size_t m = it->in.find(R"("id":")");
        std::lock_guard lock(mutex_);
        markers_.push_back(m == std::string::npos ? "?" : it->in.substr(m + 6, 5));
        if (held.empty()) first_held = std::chrono::steady_clock::now();
        held.push_back(*it);
        it = reading.erase(it);
      }
      max_held_ = std::max(max_held_.load(), held.size());
      if (held.size() >= lanes_) Answer(held, 200);
      if (!held.empty() &&
          std::chrono::steady_clock::now() - first_held > std::chrono::seconds(10)) {
        Answer(held, 503);
      }
    }
    Answer(held, 503);
    for (Conn& c : reading) ::close(c.fd);
  }

  std::size_t lanes_;
  int fd_;
  std::uint16_t port_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> max_held_{0};
  std::mutex mutex_;
  std::vector<std::string> markers_;
  std::thread thread_;
};

BOOST_AUTO_TEST_CASE(lanes_go_in_parallel_and_each_lane_in_order) {
  constexpr std::size_t kLanes = 4;
  BarrierServer server(kLanes);
  auto sink = MakeSink(server.base_url(), DeliveryMode::kTransaction, 8);
  std::vector<OutboxItem> rows;
  for (int r = 0; r < 3; ++r) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      // Marker "L<lane>-R<row>" (5 characters) as the Bundle id.
      const std::string marker = "L" + std::to_string(l) + "-R" + std::to_string(r);
      rows.push_back(
          Row(static_cast<std::int64_t>(rows.size()) + 1, "lane" + std::to_string(l),
              R"({"resourceType":"Bundle","id":")" + marker + R"(","type":"transaction"})"));
    }
  }
  // Every answer is 200 only if all four lanes had a request open at the same time.
  RequireAllDelivered(sink->Deliver(rows));
  BOOST_TEST(server.max_held() == kLanes);  // never two requests of one lane at once
  const std::vector<std::string> markers = server.markers();
  BOOST_REQUIRE_EQUAL(markers.size(), rows.size());
  for (std::size_t l = 0; l < kLanes; ++l) {
    int last = -1;
    for (const std::string& m : markers) {
      if (m[1] != static_cast<char>('0' + l)) continue;
      BOOST_TEST(m[4] - '0' == last + 1, "lane " << l << " out of order at " << m);
      last = m[4] - '0';
    }
  }
}

BOOST_AUTO_TEST_CASE(at_most_max_connections_requests_are_in_flight) {
  BarrierServer server(2);
  auto sink = MakeSink(server.base_url(), DeliveryMode::kTransaction, 2);
  std::vector<OutboxItem> rows;
  for (int l = 0; l < 6; ++l) {
    rows.push_back(Row(l + 1, "lane" + std::to_string(l),
                       R"({"resourceType":"Bundle","id":"L)" + std::to_string(l) +
                           R"(-R0","type":"transaction"})"));
  }
  RequireAllDelivered(sink->Deliver(rows));
  BOOST_TEST(server.max_held() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::delivery
