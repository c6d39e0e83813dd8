#include "engine/http/http_client.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <thread>

namespace fhirbridge::http {

struct HttpClient::Transfer {
  std::uint64_t tag = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;       ///< the request body when the caller does not keep it
  std::string_view sent;  ///< what libcurl reads in place: `body` or the caller's string
  HttpResponse response;
  std::size_t header_bytes = 0;
  bool over_limit = false;
  const HttpClientOptions* options = nullptr;
};

namespace {

constexpr std::uint64_t kPerformTag = ~std::uint64_t{0};

Status GlobalInit() {
  // curl_global_init is not thread-safe and must run once before any other curl call.
  static std::once_flag once;
  static CURLcode code = CURLE_OK;
  std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_ALL); });
  if (code != CURLE_OK) return Status::Internal("curl_global_init failed");
  return Status::Ok();
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<HttpClient::Transfer*>(user);
  const std::size_t n = size * count;
  if (t->response.body.size() + n > t->options->max_response_bytes) {
    t->over_limit = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<HttpClient::Transfer*>(user);
  const std::size_t n = size * count;
  t->header_bytes += n;
  if (t->header_bytes > t->options->max_response_header_bytes) {
    t->over_limit = true;
    return 0;
  }
  const std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new status line: an interim (1xx) or redirect response's headers are not the final ones.
    t->response.headers.clear();
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return n;
  t->response.headers.push_back(
      HttpHeader{Lower(line.substr(0, colon)), std::string(Trim(line.substr(colon + 1)))});
  return n;
}

// Short, fixed reasons (they end up in the outbox and in logs): no host names or paths.
Status StatusFor(CURLcode code, const HttpClient::Transfer& t, const HttpClientOptions& options) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected_us = 0;
      curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &connected_us);
      if (connected_us == 0) {
        return Status::DeadlineExceeded("connect timeout after " +
                                        std::to_string(options.connect_timeout.count()) + " ms");
      }
      return Status::DeadlineExceeded("timeout after " +
                                      std::to_string(options.total_timeout.count()) + " ms");
    }
    case CURLE_COULDNT_CONNECT: {
      long os_error = 0;
      curl_easy_getinfo(t.easy, CURLINFO_OS_ERRNO, &os_error);
      return Status::Unavailable(os_error == ECONNREFUSED ? "connection refused"
                                                          : "cannot connect");
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      return Status::Unavailable("cannot resolve host");
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Status::Unavailable("cannot resolve proxy");
    case CURLE_WRITE_ERROR:
      if (t.over_limit) {
        return Status::ResourceExhausted(
            "response larger than " + std::to_string(options.max_response_bytes) +
            " bytes of body or " + std::to_string(options.max_response_header_bytes) +
            " bytes of headers");
      }
      break;
    case CURLE_GOT_NOTHING:
      return Status::Unavailable("connection closed without a response");
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      return Status::Unavailable("connection reset");
    case CURLE_PEER_FAILED_VERIFICATION:
      return Status::Unavailable("TLS: server certificate not trusted");
    default:
      break;
  }
  return Status::Unavailable(std::string("curl: ") + curl_easy_strerror(code));
}

}  // namespace

const std::string* HttpResponse::Header(std::string_view lower_name) const {
  for (const HttpHeader& h : headers) {
    if (h.name == lower_name) return &h.value;
  }
  return nullptr;
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options) {
  FHIRBRIDGE_RETURN_IF_ERROR(GlobalInit());
  for (const std::string* file : {&options.ca_file, &options.cert_file, &options.key_file}) {
    std::error_code ec;
    if (!file->empty() && !std::filesystem::is_regular_file(*file, ec)) {
      return Status::NotFound("cannot read " + *file);
    }
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return Status::InvalidArgument("a client certificate needs its key, and a key its certificate");
  }
  options.max_connections = std::max<std::size_t>(options.max_connections, 1);
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Status::Internal("epoll_create1 failed");
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) {
    ::close(epoll_fd);
    return Status::Internal("curl_multi_init failed");
  }
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    static_cast<long>(options.max_connections));
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(options.max_connections));
  auto client = std::unique_ptr<HttpClient>(new HttpClient(std::move(options), multi, epoll_fd));
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &HttpClient::OnSocket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, client.get());
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &HttpClient::OnTimer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, client.get());
  return client;
}

HttpClient::HttpClient(HttpClientOptions options, void* multi, int epoll_fd)
    : options_(std::move(options)), multi_(multi), epoll_fd_(epoll_fd) {}

HttpClient::~HttpClient() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  for (auto& t : transfers_) {
    curl_multi_remove_handle(multi, t->easy);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
  }
  for (void* easy : idle_) curl_easy_cleanup(static_cast<CURL*>(easy));
  curl_multi_cleanup(multi);  // may still call OnSocket: the epoll set is closed after it
  ::close(epoll_fd_);
}

int HttpClient::OnSocket(void* /*easy*/, int socket, int what, void* client, void* socket_data) {
  auto* self = static_cast<HttpClient*>(client);
  auto parked = std::find(self->parked_.begin(), self->parked_.end(), socket);
  if (what == CURL_POLL_REMOVE) {
    // Left in the set (see parked_). A socket closed meanwhile leaves the set by itself, and a
    // new socket given the same number is caught by the fallbacks below.
    if (parked == self->parked_.end()) self->parked_.push_back(socket);
    return 0;
  }
  epoll_event event{};
  event.data.fd = socket;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) event.events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) event.events |= EPOLLOUT;
  // socket_data marks a socket libcurl watches already, parked_ one still in the set; a number
  // closed and reused for a new socket is caught by the fallbacks on EEXIST and ENOENT.
  const bool in_set = socket_data != nullptr || parked != self->parked_.end();
  if (parked != self->parked_.end()) self->parked_.erase(parked);
  int op = in_set ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (::epoll_ctl(self->epoll_fd_, op, socket, &event) != 0) {
    op = errno == EEXIST ? EPOLL_CTL_MOD : (errno == ENOENT ? EPOLL_CTL_ADD : -1);
    if (op < 0 || ::epoll_ctl(self->epoll_fd_, op, socket, &event) != 0) return -1;
  }
  if (socket_data == nullptr) curl_multi_assign(static_cast<CURLM*>(self->multi_), socket, self);
  return 0;
}

int HttpClient::OnTimer(void* /*multi*/, long timeout_ms, void* client) {
  auto* self = static_cast<HttpClient*>(client);
  if (timeout_ms < 0) {
    self->timer_.reset();
  } else {
    self->timer_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

void HttpClient::Drive(std::chrono::milliseconds max_wait) {
  CURLM* multi = static_cast<CURLM*>(multi_);
  int running = 0;
  const auto now = std::chrono::steady_clock::now();
  if (timer_ && *timer_ <= now) {
    timer_.reset();
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    return;
  }
  if (timer_) {
    max_wait = std::min(max_wait, std::chrono::ceil<std::chrono::milliseconds>(*timer_ - now));
  }
  epoll_event events[16];
  const int n = ::epoll_wait(epoll_fd_, events, 16, static_cast<int>(max_wait.count()));
  for (int i = 0; i < n; ++i) {
    auto parked = std::find(parked_.begin(), parked_.end(), events[i].data.fd);
    if (parked != parked_.end()) {
      // An idle connection's socket stirred (the server closed it, say): libcurl finds that
      // out when it next tries the connection; until then it leaves the set, or it would wake
      // every wait.
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, events[i].data.fd, nullptr);
      parked_.erase(parked);
      continue;
    }
    int flags = 0;
    if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
    if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
    if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(multi, events[i].data.fd, flags, &running);
  }
  if (timer_ && *timer_ <= std::chrono::steady_clock::now()) {
    timer_.reset();
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
  }
}

void* HttpClient::TakeEasyHandle() {
  // A handle keeps its options between requests (libcurl only resets per-transfer state), so
  // what is the same for every request is set once, when the handle is made; Submit sets the
  // rest each time, instead of a curl_easy_reset and a dozen setopts per request.
  if (!idle_.empty()) {
    void* easy = idle_.back();
    idle_.pop_back();
    return easy;
  }
  CURL* e = curl_easy_init();
  if (e == nullptr) return nullptr;
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: we are threaded
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  // The configuration alone decides: "" means no proxy (http_proxy and the like are ignored), and
  // a configured proxy is used for every request (no_proxy is ignored). Without NOPROXY set,
  // libcurl reads no_proxy and NO_PROXY from the environment for every request.
  curl_easy_setopt(e, CURLOPT_PROXY, options_.proxy.c_str());
  curl_easy_setopt(e, CURLOPT_NOPROXY, "");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.cert_file.empty()) {
    curl_easy_setopt(e, CURLOPT_SSLCERT, options_.cert_file.c_str());
    curl_easy_setopt(e, CURLOPT_SSLKEY, options_.key_file.c_str());
  }
  curl_easy_setopt(e, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
  return e;
}

void HttpClient::Submit(std::uint64_t tag, HttpRequest request) {
  auto t = std::make_unique<Transfer>();
  t->tag = tag;
  t->options = &options_;
  if (request.body_ref != nullptr) {
    t->sent = *request.body_ref;
  } else {
    t->body = std::move(request.body);
    t->sent = t->body;
  }
  t->easy = static_cast<CURL*>(TakeEasyHandle());
  if (t->easy == nullptr) {
    done_.push_back({tag, Status::Internal("curl_easy_init failed")});
    return;
  }
  // Everything a request sets is set on every request: a reused handle still holds the last
  // request's values (TakeEasyHandle).
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  // No "Expect: 100-continue" round trip before a body.
  t->headers = curl_slist_append(t->headers, "Expect:");
  for (const HttpHeader& h : request.headers) {
    t->headers = curl_slist_append(t->headers, (h.name + ": " + h.value).c_str());
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(
      e, CURLOPT_CUSTOMREQUEST,
      request.method == "GET" || request.method == "POST" ? nullptr : request.method.c_str());
  if (request.method == "GET") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, nullptr);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(-1));
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);  // after POSTFIELDS, which selects POST
  } else {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->sent.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->sent.size()));
  }
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  if (curl_multi_add_handle(static_cast<CURLM*>(multi_), e) != CURLM_OK) {
    curl_slist_free_all(t->headers);
    idle_.push_back(e);
    done_.push_back({tag, Status::Internal("curl_multi_add_handle failed")});
    return;
  }
  transfers_.push_back(std::move(t));
}

void HttpClient::Collect(std::deque<HttpCompletion>& out) {
  CURLM* multi = static_cast<CURLM*>(multi_);
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    auto it = std::find_if(transfers_.begin(), transfers_.end(),
                           [&](const auto& t) { return t->easy == msg->easy_handle; });
    if (it == transfers_.end()) continue;
    Transfer& t = **it;
    const CURLcode code = msg->data.result;
    HttpCompletion completion{t.tag, Status::Internal("unset")};
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
      t.response.status = static_cast<int>(status);
      completion.response = std::move(t.response);
    } else {
      completion.response = StatusFor(code, t, options_);
    }
    curl_multi_remove_handle(multi, t.easy);
    curl_slist_free_all(t.headers);
    idle_.push_back(t.easy);
    transfers_.erase(it);
    out.push_back(std::move(completion));
  }
}

void HttpClient::Gather(std::chrono::microseconds gather) {
  const auto deadline = std::chrono::steady_clock::now() + gather;
  for (;;) {
    // What is due first: a request just submitted is sent from libcurl's 0 ms timer, and the
    // server must have it before this thread sleeps.
    Drive(std::chrono::milliseconds(0));
    Collect(done_);
    if (!done_.empty() || transfers_.size() < 2) return;
    if (std::chrono::steady_clock::now() >= deadline) return;
    // Sockets are not watched meanwhile; libcurl's timers (a connection being made, a
    // timeout) still run on time.
    std::this_thread::sleep_until(timer_ ? std::min(deadline, *timer_) : deadline);
  }
}

std::vector<HttpCompletion> HttpClient::Wait(std::chrono::microseconds gather) {
  if (gather.count() > 0 && done_.empty() && transfers_.size() >= 2) Gather(gather);
  while (done_.empty() && !transfers_.empty()) {
    Drive(std::chrono::milliseconds(1000));
    Collect(done_);
  }
  std::vector<HttpCompletion> out(std::make_move_iterator(done_.begin()),
                                  std::make_move_iterator(done_.end()));
  done_.clear();
  return out;
}

Result<HttpResponse> HttpClient::Perform(HttpRequest request) {
  Submit(kPerformTag, std::move(request));
  while (true) {
    auto mine = std::find_if(done_.begin(), done_.end(),
                             [](const HttpCompletion& c) { return c.tag == kPerformTag; });
    if (mine != done_.end()) {
      Result<HttpResponse> response = std::move(mine->response);
      done_.erase(mine);
      return response;
    }
    Drive(std::chrono::milliseconds(1000));
    Collect(done_);
  }
}

std::optional<std::chrono::microseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // delay-seconds; more than a day is treated as a day (a typo must not stall a lane for ever).
    if (value.size() > 9) return std::chrono::hours(24);
    const std::int64_t seconds = std::stoll(std::string(value));
    return std::chrono::seconds(std::min<std::int64_t>(seconds, 86400));
  }
  // HTTP-date (IMF-fixdate, or the obsolete RFC 850 / asctime forms: RFC 9110 section 5.6.7).
  const std::string text(value);
  const time_t at = curl_getdate(text.c_str(), nullptr);
  if (at == -1) return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(at);
  if (when <= now) return std::chrono::microseconds(0);
  return std::min<std::chrono::microseconds>(
      std::chrono::duration_cast<std::chrono::microseconds>(when - now), std::chrono::hours(24));
}

}  // namespace fhirbridge::http
