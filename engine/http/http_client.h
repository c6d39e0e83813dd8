#pragma once

// The one libcurl wrapper of fhirbridge (STYLE.md, Libraries first: "HTTP client to EHRs").
// Requests run on one curl multi handle, so several can be in flight at once over kept-alive
// connections; libcurl's errors come back as Status, never as exceptions or signals.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/result.h"

namespace fhirbridge::http {

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};  ///< TCP + TLS handshake
  std::chrono::milliseconds total_timeout{30000};   ///< whole request, from submission
  /// Proxy URL (http://host:port, socks5://host:port); "" = connect directly. The http_proxy
  /// environment variables are ignored, so that what is configured is what happens.
  std::string proxy;
  std::string ca_file;    ///< PEM CAs the server certificate must chain to; "" = system store
  std::string cert_file;  ///< PEM client certificate (mutual TLS); "" = none
  std::string key_file;   ///< PEM private key of cert_file
  std::size_t max_connections = 8;                   ///< connections kept open at most
  std::size_t max_response_bytes = 32 << 20;         ///< a longer body fails the request
  std::size_t max_response_header_bytes = 64 << 10;  ///< all header lines of one response
};

struct HttpHeader {
  std::string name;  ///< lower case in responses
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<HttpHeader> headers;
  std::string body;
  /// When set, the body sent is this string, not `body`: the caller keeps it alive and unchanged
  /// until the request completes. A delivery sends the outbox row's Bundle in place this way,
  /// instead of copying ~10 KB per request (and again when a 401 makes it resend).
  const std::string* body_ref = nullptr;
};

struct HttpResponse {
  int status = 0;
  std::vector<HttpHeader> headers;  ///< of the final response (not of a 100 Continue)
  std::string body;

  /// The first header named `lower_name` (lower case), or null.
  const std::string* Header(std::string_view lower_name) const;
};

/// What happened to a submitted request.
struct HttpCompletion {
  std::uint64_t tag = 0;
  /// Unavailable: connection refused/reset, DNS, TLS; DeadlineExceeded: a timeout (the request
  /// may have been processed); ResourceExhausted: the response exceeded a limit.
  Result<HttpResponse> response = Status::Internal("not completed");
};

/// Not thread-safe: one owner thread (each FhirSink and each token provider has its own).
class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> Create(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Starts `request`; its completion is returned by a later Wait() with `tag`.
  void Submit(std::uint64_t tag, HttpRequest request);
  /// Blocks until at least one submitted request completes and returns every completed one;
  /// empty when nothing is in flight.
  ///
  /// With `gather` > 0 and two or more requests in flight, it first lets libcurl send what is
  /// due, then sleeps up to `gather` without waking for each answer (libcurl's timers still run
  /// on time), and returns every answer that came meanwhile: one wake-up for several answers
  /// instead of one each. Nothing completed by then: it blocks as without `gather`.
  std::vector<HttpCompletion> Wait(std::chrono::microseconds gather = {});
  /// Runs one request to its end (others in flight progress meanwhile and are kept for Wait()).
  Result<HttpResponse> Perform(HttpRequest request);

  std::size_t in_flight() const { return transfers_.size(); }
  const HttpClientOptions& options() const { return options_; }

  struct Transfer;  ///< one request in flight (http_client.cpp)

 private:
  explicit HttpClient(HttpClientOptions options, void* multi, int epoll_fd);
  void* TakeEasyHandle();
  void Collect(std::deque<HttpCompletion>& out);
  /// Waits up to `max_wait` for a socket libcurl watches or for its timer, and lets libcurl act
  /// on what happened (curl_multi_socket_action): only the sockets that are ready are looked at.
  void Drive(std::chrono::milliseconds max_wait);
  /// Sleeps up to `gather`, waking only for libcurl's timers, until an answer is there (Wait's
  /// `gather`).
  void Gather(std::chrono::microseconds gather);
  // libcurl's CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION (CURL and CURLM are void).
  static int OnSocket(void* easy, int socket, int what, void* client, void* socket_data);
  static int OnTimer(void* multi, long timeout_ms, void* client);

  HttpClientOptions options_;
  void* multi_;   ///< CURLM*
  int epoll_fd_;  ///< the sockets libcurl asked to watch
  /// Sockets libcurl stopped watching (a kept-alive connection between two requests) that stay
  /// in the epoll set, so that reusing the connection costs one EPOLL_CTL_MOD instead of a
  /// DEL and an ADD per request. One that reports an event meanwhile is taken out then.
  std::vector<int> parked_;
  /// When libcurl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT); empty: no timer.
  std::optional<std::chrono::steady_clock::time_point> timer_;
  std::vector<void*> idle_;  ///< CURL* handles kept for reuse
  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::deque<HttpCompletion> done_;
};

/// Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date, as a wait from `now`;
/// null when the value is neither. A date in the past gives 0.
std::optional<std::chrono::microseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

}  // namespace fhirbridge::http
