// The HTTP(S) source: see http_source.h.

#include "connectors/http/http_source.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>

#include <Poco/DigestEngine.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/SHA2Engine.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include "connectors/http/body_check.h"
#include "connectors/mllp/tls_context.h"
#include "fhirbridge/issue.h"
#include "fhirbridge/json_writer.h"
#include "fhirbridge/log.h"

namespace fhirbridge::http {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

constexpr std::size_t kMaxHeaderIdLength = 128;

struct Counters {
  std::atomic<std::uint64_t> requests{0}, accepted{0}, duplicates{0}, rejected{0}, unauthorized{0},
      unavailable{0};
};

// What every request handler shares with the source.
struct Shared {
  HttpSourceOptions options;
  Intake* intake = nullptr;
  Counters counters;
  std::mutex mutex;
  std::condition_variable idle;
  int in_flight = 0;
};

std::int64_t NowUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

void SendJson(HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
              const std::string& content_type, const std::string& body) {
  response.setStatusAndReason(status);
  response.setContentType(content_type);
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.send() << body;
}

void SendOutcome(HTTPServerResponse& response, HTTPResponse::HTTPStatus status, std::string code,
                 std::string location, std::string text) {
  const DataIssues issues{DataIssue::Error(std::move(code), std::move(location), std::move(text))};
  SendJson(response, status, "application/fhir+json", RenderOperationOutcome(issues));
}

// The media type without parameters, lower case ("application/json; charset=utf-8" → …json).
std::string MediaType(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// RFC 6839 structured syntax suffixes: application/fhir+json is JSON, application/soap+xml XML.
bool ContentTypeFits(const std::string& format, const std::string& type) {
  if (format == "json") return type == "application/json" || EndsWith(type, "+json");
  return type == "application/xml" || type == "text/xml" || EndsWith(type, "+xml");
}

// A header id we can use as a control id: 1..128 visible ASCII characters.
std::string HeaderId(const HTTPServerRequest& request, const std::string& name) {
  const std::string value = request.get(name, "");
  if (value.empty() || value.size() > kMaxHeaderIdLength) return {};
  for (char c : value)
    if (c < 0x21 || c > 0x7e) return {};
  return value;
}

std::string BodyHash(const std::string& body) {
  Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
  sha.update(body.data(), static_cast<unsigned>(body.size()));
  return "sha256:" + Poco::DigestEngine::digestToHex(sha.digest()).substr(0, 32);
}

// Constant-time comparison of the presented token with ours.
bool TokenMatches(const std::string& presented, const std::string& expected) {
  if (presented.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>(presented[i] ^ expected[i]);
  return diff == 0;
}

class IngestHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit IngestHandler(Shared& shared) : s_(shared) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    {
      std::lock_guard lock(s_.mutex);
      ++s_.in_flight;
    }
    try {
      Handle(request, response);
    } catch (const Poco::Exception& e) {
      // A timeout or a reset while reading or answering: nothing was acknowledged.
      Logger::Global().Info("http.request_failed",
                            {LogField::Source(s_.options.name), LogField::Code("error", e.name())});
    } catch (const std::exception&) {
      Logger::Global().Info("http.request_failed", {LogField::Source(s_.options.name)});
    }
    std::lock_guard lock(s_.mutex);
    if (--s_.in_flight == 0) s_.idle.notify_all();
  }

 private:
  Message NewMessage(const HTTPServerRequest& request) const {
    Message m;
    m.source = s_.options.name;
    m.format = s_.options.format;
    m.received_at_us = NowUs();
    m.peer = request.clientAddress().toString();
    auto& impl = const_cast<Poco::Net::HTTPServerRequestImpl&>(
        static_cast<const Poco::Net::HTTPServerRequestImpl&>(request));
    if (impl.secure()) {
      Poco::Net::SecureStreamSocket secure(impl.socket());
      if (secure.havePeerCertificate()) m.tls_identity = secure.peerCertificate().subjectName();
    }
    return m;
  }

  // Keeps a refused body for inspection and answers the sender (ARCHITECTURE.md guarantee 2).
  void Refuse(Message message, HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
              const std::string& code, const std::string& location, const std::string& text) {
    ++s_.counters.rejected;
    if (Status kept = s_.intake->Reject(std::move(message), text); !kept.ok()) {
      Logger::Global().Warn(
          "http.reject_not_stored",
          {LogField::Source(s_.options.name), LogField::Code("status", CodeName(kept.code()))});
    }
    SendOutcome(response, status, code, location, text);
  }

  // Reads at most max_body_bytes + 1 bytes: one more tells that the body is too large.
  std::string ReadBody(HTTPServerRequest& request) const {
    std::string body;
    const std::size_t cap = s_.options.max_body_bytes + 1;
    std::istream& in = request.stream();
    char buffer[16384];
    while (body.size() < cap && in) {
      in.read(buffer, static_cast<std::streamsize>(std::min(sizeof buffer, cap - body.size())));
      body.append(buffer, static_cast<std::size_t>(in.gcount()));
    }
    return body;
  }

  void Handle(HTTPServerRequest& request, HTTPServerResponse& response) {
    ++s_.counters.requests;
    const HttpSourceOptions& o = s_.options;
    if (Poco::URI(request.getURI()).getPath() != o.path) {
      response.setKeepAlive(false);
      return SendOutcome(response, HTTPResponse::HTTP_NOT_FOUND, "not-found",
                         request.getURI().substr(0, 64),
                         "no such path; documents are posted to " + o.path);
    }
    if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_POST) {
      response.set("Allow", "POST");
      response.setKeepAlive(false);
      return SendOutcome(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "not-supported", "method",
                         "only POST is supported");
    }
    if (!o.bearer_token.empty()) {
      const std::string auth = request.get("Authorization", "");
      if (auth.rfind("Bearer ", 0) != 0 || !TokenMatches(auth.substr(7), o.bearer_token)) {
        ++s_.counters.unauthorized;
        response.set("WWW-Authenticate", "Bearer");
        response.setKeepAlive(false);
        return SendOutcome(response, HTTPResponse::HTTP_UNAUTHORIZED, "login", "Authorization",
                           "a valid bearer token is required");
      }
    }
    Message message = NewMessage(request);
    if (request.hasContentLength() &&
        request.getContentLength64() > static_cast<std::int64_t>(o.max_body_bytes)) {
      response.setKeepAlive(false);  // the body is left unread
      return Refuse(std::move(message), response, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE,
                    "too-long", "Content-Length",
                    "body of " + std::to_string(request.getContentLength64()) +
                        " bytes is larger than " + std::to_string(o.max_body_bytes) + " bytes");
    }
    const std::string type = MediaType(request.getContentType());
    if (!ContentTypeFits(o.format, type)) {
      response.setKeepAlive(false);
      return Refuse(std::move(message), response, HTTPResponse::HTTP_UNSUPPORTEDMEDIATYPE,
                    "not-supported", "Content-Type",
                    "content type \"" + type.substr(0, 64) + "\" is not " +
                        (o.format == "json" ? "application/json (or +json)"
                                            : "application/xml, text/xml (or +xml)"));
    }
    message.raw = ReadBody(request);
    if (message.raw.size() > o.max_body_bytes) {
      response.setKeepAlive(false);
      message.raw.resize(o.max_body_bytes);
      return Refuse(std::move(message), response, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE,
                    "too-long", "byte " + std::to_string(o.max_body_bytes),
                    "body is larger than " + std::to_string(o.max_body_bytes) + " bytes");
    }
    if (request.hasContentLength() &&
        static_cast<std::int64_t>(message.raw.size()) < request.getContentLength64()) {
      response.setKeepAlive(false);
      return Refuse(std::move(message), response, HTTPResponse::HTTP_BAD_REQUEST, "incomplete",
                    "byte " + std::to_string(message.raw.size()),
                    "body ends before its Content-Length");
    }
    Check(std::move(message), request, response);
  }

  void Check(Message message, const HTTPServerRequest& request, HTTPServerResponse& response) {
    const HttpSourceOptions& o = s_.options;
    BodyProblem problem;
    rapidjson::Document doc;
    const bool ok = o.format == "json" ? ParseJsonBody(message.raw, o.max_depth, doc, problem)
                                       : CheckXmlBody(message.raw, o.max_depth, problem);
    if (!ok) {
      return Refuse(std::move(message), response, HTTPResponse::HTTP_BAD_REQUEST, "structure",
                    problem.location, problem.text);
    }
    if (o.format == "json" && !o.control_id_pointer.empty())
      message.control_id = PointerText(doc, o.control_id_pointer);
    if (message.control_id.empty()) message.control_id = HeaderId(request, "X-Request-ID");
    if (message.control_id.empty()) message.control_id = HeaderId(request, "Idempotency-Key");
    if (message.control_id.empty()) message.control_id = BodyHash(message.raw);
    Commit(std::move(message), response);
  }

  // ARCHITECTURE.md guarantee 1: 202 only after the commit.
  void Commit(Message message, HTTPServerResponse& response) {
    const std::string control_id = message.control_id;
    Result<IntakeReceipt> receipt = s_.intake->Accept(std::move(message));
    if (!receipt.ok()) {
      ++s_.counters.unavailable;
      Logger::Global().Warn("http.store_failed",
                            {LogField::Source(s_.options.name),
                             LogField::Code("status", CodeName(receipt.status().code()))});
      response.set("Retry-After", std::to_string(s_.options.retry_after_seconds));
      return SendOutcome(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "transient", "",
                         "the document could not be stored; send it again later");
    }
    const bool duplicate = receipt->outcome == IntakeReceipt::Outcome::kDuplicate;
    ++(duplicate ? s_.counters.duplicates : s_.counters.accepted);
    std::string body;
    JsonWriter w(body);
    w.BeginObject();
    w.Key("message_id");
    w.Int(receipt->message_id);
    w.KeyString("control_id", control_id);
    w.Key("duplicate");
    w.Bool(duplicate);
    w.EndObject();
    SendJson(response, HTTPResponse::HTTP_ACCEPTED, "application/json", body);
  }

  Shared& s_;
};

class HandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(Shared& shared) : s_(shared) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new IngestHandler(s_);
  }

 private:
  Shared& s_;
};

Poco::Timespan ToTimespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

}  // namespace

struct HttpSource::Impl {
  Shared shared;
  std::optional<mllp::internal::SslLibrary> ssl;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  std::atomic<bool> running{false};
  std::uint16_t port = 0;
  bool started = false;
};

HttpSource::HttpSource(HttpSourceOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->shared.options = std::move(options);
}

HttpSource::~HttpSource() { Stop(); }

const std::string& HttpSource::name() const { return impl_->shared.options.name; }

Status HttpSource::Start(Intake& intake) {
  const HttpSourceOptions& o = impl_->shared.options;
  if (impl_->started) return Status::FailedPrecondition("source " + o.name + ": already started");
  impl_->started = true;
  impl_->shared.intake = &intake;
  const std::string where =
      "source " + o.name + ": http on " + o.host + ":" + std::to_string(o.port);
  try {
    const Poco::Net::SocketAddress address(o.host, o.port);
    Poco::Net::ServerSocket socket;
    if (o.tls.enabled()) {
      impl_->ssl.emplace();
      auto context = mllp::internal::MakeServerContext(o.tls);
      if (!context.ok()) return context.status().WithContext("source " + o.name);
      socket = Poco::Net::SecureServerSocket(*context);
    }
    // SO_REUSEADDR but not SO_REUSEPORT: a second listener on the same port must fail.
    socket.bind(address, true, false);
    socket.listen(std::clamp(o.max_connections + o.max_queued, 64, 4096));
    impl_->port = socket.address().port();
    auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
    params->setMaxThreads(o.max_connections);
    params->setMaxQueued(o.max_queued);
    params->setTimeout(ToTimespan(o.timeout));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(ToTimespan(o.timeout));
    params->setThreadIdleTime(Poco::Timespan(10, 0));
    // Our own pool: Poco's default pool has 16 threads, fewer than max_connections.
    impl_->pool = std::make_unique<Poco::ThreadPool>("http", 1, o.max_connections + 1, 60);
    impl_->server = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(impl_->shared),
                                                            *impl_->pool, socket, params);
    impl_->server->start();
    impl_->running = true;
    return Status::Ok();
  } catch (const Poco::Exception& e) {
    return Status::Unavailable(where + ": " + e.displayText());
  }
}

void HttpSource::Stop() {
  if (!impl_->server) return;
  impl_->running = false;
  impl_->server->stop();  // no new connections
  {
    // Requests in progress finish (bounded): their senders get their 202 or error.
    std::unique_lock lock(impl_->shared.mutex);
    impl_->shared.idle.wait_for(lock, std::chrono::seconds(5),
                                [this] { return impl_->shared.in_flight == 0; });
  }
  impl_->server->stopAll(true);
  impl_->server.reset();
  impl_->pool->joinAll();
}

std::uint16_t HttpSource::port() const { return impl_->port; }

bool HttpSource::Running() const { return impl_->running; }

HttpSourceStats HttpSource::stats() const {
  const Counters& c = impl_->shared.counters;
  return {c.requests.load(), c.accepted.load(),     c.duplicates.load(),
          c.rejected.load(), c.unauthorized.load(), c.unavailable.load()};
}

}  // namespace fhirbridge::http
