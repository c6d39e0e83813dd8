#include "engine/http/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "conformance/testing/fhir_server_process.h"

namespace fhirbridge::http {
namespace {

using namespace std::chrono_literals;

// A TCP socket listening on 127.0.0.1: the kernel completes handshakes, and nothing answers
// unless someone accepts.
struct LoopbackListener {
  LoopbackListener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~LoopbackListener() { ::close(fd); }
  int fd;
  std::uint16_t port;
};

// A port that was free a moment ago and has no listener now.
std::uint16_t ClosedPort() {
  LoopbackListener l;
  return l.port;
}

// Reads from `fd` until `in` holds a whole request head (up to the blank line), then moves that
// head (without the blank line) out of `in` into `head`. False when the peer closed first. The
// servers below answer GETs: no request body follows a head.
bool NextRequestHead(int fd, std::string& in, std::string& head) {
  char buffer[4096];
  for (;;) {
    const std::size_t end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      head = in.substr(0, end);
      in.erase(0, end + 4);
      return true;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    in.append(buffer, static_cast<std::size_t>(n));
  }
}

// An HTTP/1.1 server on 127.0.0.1 that keeps connections alive. GET /1 and /2 are answered
// once both have arrived (so a client opens two connections for them). GET /3 makes it close
// every other connection, wait `slow`, then answer: a kept-alive connection the client is not
// using is closed under it while it waits for an answer on another. GET /dN is answered after
// N milliseconds.
class KeepAliveServer {
 public:
  explicit KeepAliveServer(std::chrono::milliseconds slow = 0ms) : slow_(slow) {
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~KeepAliveServer() {
    ::shutdown(listener_.fd, SHUT_RDWR);  // ends accept()
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : handlers_) t.join();
  }
  std::string url(int n) const {
    return "http://127.0.0.1:" + std::to_string(listener_.port) + "/" + std::to_string(n);
  }
  std::string delayed_url(std::chrono::milliseconds after) const {
    return "http://127.0.0.1:" + std::to_string(listener_.port) + "/d" +
           std::to_string(after.count());
  }
  int connections() const {
    std::lock_guard lock(mutex_);
    return accepted_;
  }

 private:
  void Accept() {
    for (;;) {
      const int fd = ::accept(listener_.fd, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      ++accepted_;
      open_.push_back(fd);
      handlers_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  void Serve(int fd) {
    std::string in;
    std::string head;
    while (NextRequestHead(fd, in, head)) {
      const char which = head.size() > 5 ? head[5] : '?';  // "GET /N HTTP/1.1"
      std::unique_lock lock(mutex_);
      if (which == 'd') {
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(head.substr(6))));
      } else if (which == '3') {
        for (int other : open_)
          if (other != fd) ::shutdown(other, SHUT_RDWR);
        lock.unlock();
        std::this_thread::sleep_for(slow_);
      } else {
        ++first_two_;
        cv_.notify_all();
        cv_.wait_for(lock, 5s, [&] { return first_two_ >= 2; });
        lock.unlock();
      }
      const std::string answer =
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
      if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) break;
    }
    std::lock_guard lock(mutex_);
    open_.erase(std::find(open_.begin(), open_.end(), fd));
    ::close(fd);
  }

  std::chrono::milliseconds slow_;
  LoopbackListener listener_;
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<int> open_;
  std::vector<std::thread> handlers_;
  int accepted_ = 0;
  int first_two_ = 0;
};

// An HTTP/1.1 server on 127.0.0.1 that answers every request 200 with its own name as the body
// and keeps each request line: as a forward proxy it sees "GET http://origin/path HTTP/1.1".
class RecordingServer {
 public:
  explicit RecordingServer(std::string name) : name_(std::move(name)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~RecordingServer() {
    ::shutdown(listener_.fd, SHUT_RDWR);  // ends accept()
    {
      std::lock_guard lock(mutex_);
      if (client_ >= 0) ::shutdown(client_, SHUT_RDWR);
    }
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(listener_.port); }
  std::vector<std::string> request_lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  void Run() {
    for (;;) {
      const int fd = ::accept(listener_.fd, nullptr, nullptr);
      if (fd < 0) return;
      {
        std::lock_guard lock(mutex_);
        client_ = fd;
      }
      Serve(fd);
      std::lock_guard lock(mutex_);
      client_ = -1;
      ::close(fd);
    }
  }
  void Serve(int fd) {
    std::string in;
    std::string head;
    while (NextRequestHead(fd, in, head)) {
      {
        std::lock_guard lock(mutex_);
        lines_.push_back(head.substr(0, head.find("\r\n")));
      }
      const std::string answer =
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(name_.size()) + "\r\n\r\n" + name_;
      if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) return;
    }
  }

  std::string name_;
  LoopbackListener listener_;
  std::thread thread_;
  mutable std::mutex mutex_;
  int client_ = -1;
  std::vector<std::string> lines_;
};

// Sets environment variables for as long as it lives.
class ScopedEnvironment {
 public:
  explicit ScopedEnvironment(std::vector<std::pair<std::string, std::string>> values)
      : values_(std::move(values)) {
    for (const auto& [name, value] : values_) ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnvironment() {
    for (const auto& [name, value] : values_) ::unsetenv(name.c_str());
  }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

double ThreadCpuSeconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

std::unique_ptr<HttpClient> Client(HttpClientOptions options = {}) {
  auto client = HttpClient::Create(std::move(options));
  BOOST_REQUIRE(client.ok());
  return std::move(client).value();
}

BOOST_AUTO_TEST_SUITE(http_client)

BOOST_AUTO_TEST_CASE(gets_from_a_real_server_with_headers_and_body) {
  auto server = testing::FhirServerProcess::Start();
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  auto client = Client();
  HttpRequest request;
  request.url = (*server)->base_url() + "/metadata";
  request.headers.push_back({"Accept", "application/fhir+json"});
  Result<HttpResponse> response = client->Perform(request);
  BOOST_REQUIRE_MESSAGE(response.ok(), response.status().ToString());
  BOOST_TEST(response->status == 200);
  BOOST_TEST(response->body.find("CapabilityStatement") != std::string::npos);
  BOOST_REQUIRE(response->Header("content-type") != nullptr);
  BOOST_TEST(response->Header("content-type")->find("fhir+json") != std::string::npos);
  // The connection is kept and reused: a second request works the same.
  BOOST_TEST(client->Perform(request)->status == 200);
}

BOOST_AUTO_TEST_CASE(runs_requests_in_parallel_and_returns_each_with_its_tag) {
  auto server = testing::FhirServerProcess::Start();
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  auto client = Client();
  for (std::uint64_t tag = 1; tag <= 6; ++tag) {
    HttpRequest request;
    request.url = (*server)->base_url() + (tag % 2 ? "/metadata" : "/NoSuchType");
    client->Submit(tag, request);
  }
  BOOST_TEST(client->in_flight() == 6u);
  std::map<std::uint64_t, int> statuses;
  while (client->in_flight() > 0) {
    for (HttpCompletion& c : client->Wait()) {
      BOOST_REQUIRE(c.response.ok());
      statuses[c.tag] = c.response->status;
    }
  }
  BOOST_TEST(statuses.size() == 6u);
  for (const auto& [tag, status] : statuses) BOOST_TEST(status == (tag % 2 ? 200 : 404));
  BOOST_TEST(client->Wait().empty());
}

// One client reuses its handles: each request's method and body must be its own, not the
// previous request's (a GET after a POST sends no body, a POST after a PUT is a POST).
BOOST_AUTO_TEST_CASE(each_request_on_a_reused_handle_has_its_own_method_and_body) {
  auto server = testing::FhirServerProcess::Start();
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  auto client = Client();
  const std::string base = (*server)->base_url();
  auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
    HttpRequest request;
    request.method = method;
    request.url = base + path;
    request.headers.push_back({"Content-Type", "application/fhir+json"});
    request.body = body;
    Result<HttpResponse> response = client->Perform(request);
    BOOST_REQUIRE_MESSAGE(response.ok(), response.status().ToString());
    return std::move(response).value();
  };
  HttpResponse created =
      call("POST", "/Patient", R"({"resourceType":"Patient","name":[{"family":"Before"}]})");
  BOOST_TEST(created.status == 201);
  const std::size_t at = created.body.find(R"("id":")");
  BOOST_REQUIRE(at != std::string::npos);
  const std::string id = created.body.substr(at + 6, created.body.find('"', at + 6) - at - 6);
  HttpResponse read = call("GET", "/Patient/" + id, "");
  BOOST_TEST(read.status == 200);
  BOOST_TEST(read.body.find("Before") != std::string::npos);
  HttpResponse updated =
      call("PUT", "/Patient/" + id,
           R"({"resourceType":"Patient","id":")" + id + R"(","name":[{"family":"After"}]})");
  BOOST_TEST(updated.status == 200);
  read = call("GET", "/Patient/" + id, "");
  BOOST_TEST(read.status == 200);
  BOOST_TEST(read.body.find("After") != std::string::npos);
  const HttpResponse deleted = call("DELETE", "/Patient/" + id, "");
  BOOST_TEST((deleted.status == 200 || deleted.status == 204));
  const int gone = call("GET", "/Patient/" + id, "").status;
  BOOST_TEST((gone == 404 || gone == 410));
  HttpResponse again =
      call("POST", "/Patient", R"({"resourceType":"Patient","name":[{"family":"Again"}]})");
  BOOST_TEST(again.status == 201);
  BOOST_TEST(again.body.find(R"("id":")" + id) == std::string::npos);  // a new one
}

// Between requests a kept-alive connection's socket stays in the client's epoll set. When the
// server closes one while the client waits on another, the client must drop it from the set:
// left there, it would report "readable" on every wait and the wait would spin on a CPU.
BOOST_AUTO_TEST_CASE(an_idle_connection_closed_by_the_server_does_not_make_waits_spin) {
  const auto slow = 400ms;
  KeepAliveServer server(slow);
  HttpClientOptions options;
  options.max_connections = 2;
  auto client = Client(options);
  for (std::uint64_t tag = 1; tag <= 2; ++tag) {
    HttpRequest request;
    request.url = server.url(static_cast<int>(tag));
    client->Submit(tag, request);
  }
  int answered = 0;
  while (client->in_flight() > 0) {
    for (HttpCompletion& c : client->Wait()) {
      BOOST_REQUIRE_MESSAGE(c.response.ok(), c.response.status().ToString());
      BOOST_TEST(c.response->status == 200);
      ++answered;
    }
  }
  BOOST_REQUIRE(answered == 2);
  BOOST_REQUIRE(server.connections() == 2);
  HttpRequest third;
  third.url = server.url(3);
  const double cpu0 = ThreadCpuSeconds();
  Result<HttpResponse> response = client->Perform(third);
  const double cpu = ThreadCpuSeconds() - cpu0;
  BOOST_REQUIRE_MESSAGE(response.ok(), response.status().ToString());
  BOOST_TEST(response->status == 200);
  BOOST_TEST(server.connections() == 2);  // the third request reused a kept connection
  // Waiting 400 ms for the answer costs next to no CPU; a spinning wait burns most of it.
  BOOST_TEST_MESSAGE("CPU while waiting " << slow.count() << " ms: " << cpu * 1000 << " ms");
  BOOST_TEST(cpu < 0.1);
  // The closed connection is gone for good: the next request still gets its answer.
  BOOST_TEST(client->Perform(third)->status == 200);
}

BOOST_AUTO_TEST_CASE(a_gathering_wait_takes_answers_that_come_apart_in_one_wake_up) {
  KeepAliveServer server;
  auto client = Client();
  HttpRequest soon;
  soon.url = server.delayed_url(20ms);
  HttpRequest later;
  later.url = server.delayed_url(150ms);
  // Without gathering, the first answer comes back on its own.
  client->Submit(1, soon);
  client->Submit(2, later);
  std::vector<HttpCompletion> first = client->Wait();
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  BOOST_TEST(first[0].tag == 1u);
  BOOST_TEST(client->Wait().size() == 1u);
  // Gathering sleeps through the first answer and takes both together.
  client->Submit(3, soon);
  client->Submit(4, later);
  std::vector<HttpCompletion> both = client->Wait(600ms);
  BOOST_REQUIRE_EQUAL(both.size(), 2u);
  for (const HttpCompletion& c : both) {
    BOOST_REQUIRE(c.response.ok());
    BOOST_TEST(c.response->status == 200);
  }
}

BOOST_AUTO_TEST_CASE(a_gathering_wait_does_not_sleep_with_one_request_or_past_a_timeout) {
  KeepAliveServer server;
  HttpClientOptions options;
  options.total_timeout = 300ms;
  auto client = Client(options);
  HttpRequest soon;
  soon.url = server.delayed_url(20ms);
  // One request: nothing to gather, the answer is taken when it comes.
  auto started = std::chrono::steady_clock::now();
  client->Submit(1, soon);
  BOOST_TEST(client->Wait(20s).size() == 1u);
  BOOST_TEST((std::chrono::steady_clock::now() - started < 10s));
  // Two requests that time out: libcurl's timer ends the sleep, not the 20 s asked for.
  HttpRequest never;
  never.url = server.delayed_url(3000ms);
  started = std::chrono::steady_clock::now();
  client->Submit(2, never);
  client->Submit(3, never);
  std::size_t timed_out = 0;
  while (client->in_flight() > 0) {
    for (HttpCompletion& c : client->Wait(20s)) {
      timed_out +=
          !c.response.ok() && c.response.status().code() == Status::Code::kDeadlineExceeded;
    }
  }
  BOOST_TEST(timed_out == 2u);
  BOOST_TEST((std::chrono::steady_clock::now() - started < 10s));
}

BOOST_AUTO_TEST_CASE(connection_refused_is_unavailable) {
  auto client = Client();
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/metadata";
  Result<HttpResponse> response = client->Perform(request);
  BOOST_TEST(response.status().IsUnavailable());
  BOOST_TEST(response.status().message() == "connection refused");
}

BOOST_AUTO_TEST_CASE(a_server_that_does_not_answer_times_out) {
  LoopbackListener silent;
  HttpClientOptions options;
  options.total_timeout = 300ms;
  auto client = Client(options);
  HttpRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string(silent.port) + "/";
  request.body = "{}";
  Result<HttpResponse> response = client->Perform(request);
  BOOST_TEST((response.status().code() == Status::Code::kDeadlineExceeded));
  BOOST_TEST(response.status().message() == "timeout after 300 ms");
}

BOOST_AUTO_TEST_CASE(limits_the_response_body_and_headers) {
  auto server = testing::FhirServerProcess::Start();
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  HttpRequest request;
  request.url = (*server)->base_url() + "/metadata";
  HttpClientOptions small_body;
  small_body.max_response_bytes = 64;
  BOOST_TEST(Client(small_body)->Perform(request).status().IsResourceExhausted());
  HttpClientOptions small_headers;
  small_headers.max_response_header_bytes = 40;
  BOOST_TEST(Client(small_headers)->Perform(request).status().IsResourceExhausted());
}

BOOST_AUTO_TEST_CASE(a_configured_proxy_carries_every_request_whatever_no_proxy_says) {
  RecordingServer proxy("proxy");
  const std::string origin = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/metadata";
  const ScopedEnvironment env({{"no_proxy", "127.0.0.1,localhost"}, {"NO_PROXY", "127.0.0.1"}});
  HttpClientOptions options;
  options.proxy = proxy.url();
  auto client = Client(options);
  HttpRequest request;
  request.url = origin;
  for (int i = 0; i < 2; ++i) {
    Result<HttpResponse> response = client->Perform(request);
    BOOST_REQUIRE_MESSAGE(response.ok(), response.status().ToString());
    BOOST_TEST(response->body == "proxy");
  }
  const std::vector<std::string> lines = proxy.request_lines();
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST(lines[0] == "GET " + origin + " HTTP/1.1");
}

BOOST_AUTO_TEST_CASE(without_a_configured_proxy_the_proxy_variables_are_ignored) {
  RecordingServer proxy("proxy");
  RecordingServer origin("origin");
  const ScopedEnvironment env({{"http_proxy", proxy.url()}, {"ALL_PROXY", proxy.url()}});
  auto client = Client();
  HttpRequest request;
  request.url = origin.url() + "/metadata";
  Result<HttpResponse> response = client->Perform(request);
  BOOST_REQUIRE_MESSAGE(response.ok(), response.status().ToString());
  BOOST_TEST(response->body == "origin");
  BOOST_TEST(proxy.request_lines().empty());
  BOOST_TEST(origin.request_lines() == std::vector<std::string>{"GET /metadata HTTP/1.1"});
}

BOOST_AUTO_TEST_CASE(refuses_missing_tls_files) {
  HttpClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  BOOST_TEST(HttpClient::Create(options).status().IsNotFound());
}

BOOST_AUTO_TEST_CASE(parses_retry_after_seconds_and_http_dates) {
  const auto now =
      std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  BOOST_TEST(ParseRetryAfter("120", now)->count() == 120'000'000);
  BOOST_TEST(ParseRetryAfter(" 7 ", now)->count() == 7'000'000);
  // RFC 9110 section 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms.
  BOOST_TEST(ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now)->count() == 30'000'000);
  BOOST_TEST(ParseRetryAfter("Sunday, 06-Nov-94 08:50:07 GMT", now)->count() == 30'000'000);
  BOOST_TEST(ParseRetryAfter("Sun Nov  6 08:50:07 1994", now)->count() == 30'000'000);
  BOOST_TEST(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now)->count() == 0);  // past
  BOOST_TEST(ParseRetryAfter("99999999999", now)->count() == 86'400'000'000);       // capped
  BOOST_TEST(!ParseRetryAfter("soon", now).has_value());
  BOOST_TEST(!ParseRetryAfter("", now).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::http
