#include "engine/service/admin_server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/URI.h>

#include <openssl/crypto.h>

#include "engine/service/dead_letter_view.h"
#include "engine/store/audit_chain.h"
#include "fhirbridge/json_writer.h"

namespace fhirbridge::service {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

void Send(HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
          const std::string& content_type, const std::string& body) {
  response.setStatus(status);
  response.setContentType(content_type);
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.set("Cache-Control", "no-store");
  response.send() << body;
}

std::string ErrorJson(std::string_view text) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("error");
  w.String(text);
  w.EndObject();
  return out;
}

bool TokenMatches(const std::string& header, const std::string& token) {
  const std::string prefix = "Bearer ";
  if (header.size() != prefix.size() + token.size() ||
      header.compare(0, prefix.size(), prefix) != 0)
    return false;
  return CRYPTO_memcmp(header.data() + prefix.size(), token.data(), token.size()) == 0;
}

std::string MessagesJson(const std::vector<MessageSummary>& messages) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("messages");
  w.BeginArray();
  for (const MessageSummary& m : messages) {
    w.BeginObject();
    w.Key("id");
    w.NumberText(std::to_string(m.id));
    w.Key("source");
    w.String(m.source);
    w.Key("control_id");
    w.String(m.control_id);
    w.Key("status");
    w.String(m.status);
    w.Key("received_at_us");
    w.NumberText(std::to_string(m.received_at_us));
    if (m.mapped_at_us != 0) {
      w.Key("mapped_at_us");
      w.NumberText(std::to_string(m.mapped_at_us));
    }
    w.EndObject();
  }
  w.EndArray();
  if (!messages.empty()) {
    w.Key("next_before_id");
    w.NumberText(std::to_string(messages.back().id));
  }
  w.EndObject();
  return out;
}

// "123" → 123; anything else (signs, spaces, too long) → 0.
std::int64_t ParseId(std::string_view text) {
  if (text.empty() || text.size() > 15) return 0;
  std::int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

HTTPResponse::HTTPStatus HttpStatusFor(const Status& status) {
  if (status.IsInvalidArgument()) return HTTPResponse::HTTP_BAD_REQUEST;
  switch (status.code()) {
    case Status::Code::kNotFound:
      return HTTPResponse::HTTP_NOT_FOUND;
    case Status::Code::kFailedPrecondition:
      return HTTPResponse::HTTP_CONFLICT;
    default:
      return HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
  }
}

// Who is calling, for the audit trail: the token is never written, only a short digest of it
// that tells tokens apart.
std::string ActorOf(const std::string& token) {
  if (token.empty()) return "admin:loopback";
  return "admin-token:" + store::HexOf(store::Sha256(token).substr(0, 6));
}

class AdminHandler : public Poco::Net::HTTPRequestHandler {
 public:
  AdminHandler(const AdminOptions& options, AdminBackend& backend)
      : options_(options), backend_(backend) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    try {
      Handle(request, response);
    } catch (const std::exception& e) {
      if (!response.sent()) {
        Send(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "application/json",
             ErrorJson("internal error"));
      }
    }
  }

 private:
  void Handle(HTTPServerRequest& request, HTTPServerResponse& response) {
    const Poco::URI uri(request.getURI());
    const std::string& path = uri.getPath();
    const bool post = request.getMethod() == "POST";
    if (request.getMethod() != "GET" && !(post && path.rfind("/api/deadletters/", 0) == 0)) {
      response.set("Allow", "GET");
      Send(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "application/json",
           ErrorJson("only GET is supported here (POST only for dead-letter actions)"));
      return;
    }
    if (path == "/healthz") {
      Send(response, HTTPResponse::HTTP_OK, "text/plain", "ok\n");
      return;
    }
    if (!options_.token.empty() &&
        !TokenMatches(request.get("Authorization", ""), options_.token)) {
      response.set("WWW-Authenticate", "Bearer");
      Send(response, HTTPResponse::HTTP_UNAUTHORIZED, "application/json",
           ErrorJson("a valid bearer token is required"));
      return;
    }
    if (path == "/readyz") {
      std::vector<std::string> problems = backend_.ReadinessProblems();
      std::string body = problems.empty() ? "ready\n" : "";
      for (const std::string& p : problems) body += p + "\n";
      Send(response,
           problems.empty() ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
           "text/plain", body);
    } else if (path == "/metrics") {
      Send(response, HTTPResponse::HTTP_OK, "text/plain; version=0.0.4", backend_.RenderMetrics());
    } else if (path == "/api/messages") {
      backend_.AuditAccess("admin.read", ActorOf(options_.token), Peer(request), path);
      ListMessages(uri, response);
    } else if (path == "/api/deadletters") {
      backend_.AuditAccess("deadletter.read", ActorOf(options_.token), Peer(request), path);
      ListDeadLetters(uri, response);
    } else if (path.rfind("/api/deadletters/", 0) == 0) {
      DeadLetter(request, path.substr(std::string_view("/api/deadletters/").size()), post,
                 response);
    } else {
      Send(response, HTTPResponse::HTTP_NOT_FOUND, "application/json",
           ErrorJson("no such endpoint: " + path));
    }
  }

  static std::string Peer(const HTTPServerRequest& request) {
    return request.clientAddress().toString();
  }

  // GET /api/deadletters/{id}; POST /api/deadletters/{id}/reprocess | /discard.
  void DeadLetter(const HTTPServerRequest& request, const std::string& rest, bool post,
                  HTTPServerResponse& response) {
    const std::size_t slash = rest.find('/');
    const std::int64_t id = ParseId(std::string_view(rest).substr(0, slash));
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    const bool known = post ? (action == "reprocess" || action == "discard") : action.empty();
    if (id == 0 || !known) {
      Send(response, HTTPResponse::HTTP_NOT_FOUND, "application/json",
           ErrorJson("expected GET /api/deadletters/{id} or POST "
                     "/api/deadletters/{id}/reprocess | /discard"));
      return;
    }
    const std::string actor = ActorOf(options_.token);
    if (!post) {
      backend_.AuditAccess("deadletter.read", actor, Peer(request), request.getURI());
      Result<DeadLetterDetail> detail = backend_.GetDeadLetter(id);
      if (!detail.ok()) {
        Send(response, HttpStatusFor(detail.status()), "application/json",
             ErrorJson(detail.status().message()));
        return;
      }
      Send(response, HTTPResponse::HTTP_OK, "application/json",
           DeadLetterJson(detail->summary, &detail->outcome));
      return;
    }
    const Status done = action == "reprocess" ? backend_.ReprocessDeadLetter(id, actor)
                                              : backend_.DiscardDeadLetter(id, actor);
    if (!done.ok()) {
      Send(response, HttpStatusFor(done), "application/json", ErrorJson(done.message()));
      return;
    }
    Result<DeadLetterDetail> detail = backend_.GetDeadLetter(id);
    Send(response, HTTPResponse::HTTP_OK, "application/json",
         detail.ok() ? DeadLetterJson(detail->summary) : std::string("{}"));
  }

  // Reads status, before and limit; false (and the answer sent) when one is wrong.
  static bool PageParameters(const Poco::URI& uri, std::string& status, std::int64_t& before,
                             std::int64_t& limit, HTTPServerResponse& response) {
    for (const auto& [key, value] : uri.getQueryParameters()) {
      if (key == "status") {
        status = value;
      } else if (key == "before" || key == "limit") {
        const std::int64_t n = ParseId(value);
        if (n == 0 || (key == "limit" && n > 1000)) {
          Send(response, HTTPResponse::HTTP_BAD_REQUEST, "application/json",
               ErrorJson(key + " must be " + (key == "limit" ? "1..1000" : "an id")));
          return false;
        }
        (key == "before" ? before : limit) = n;
      } else {
        Send(response, HTTPResponse::HTTP_BAD_REQUEST, "application/json",
             ErrorJson("unknown parameter " + key + " (status, before, limit)"));
        return false;
      }
    }
    return true;
  }

  void ListDeadLetters(const Poco::URI& uri, HTTPServerResponse& response) {
    std::string status;
    std::int64_t before = 0;
    std::int64_t limit = 100;
    if (!PageParameters(uri, status, before, limit, response)) return;
    Result<std::vector<DeadLetterSummary>> letters =
        backend_.ListDeadLetters(status, before, static_cast<std::size_t>(limit));
    if (!letters.ok()) {
      Send(response, HttpStatusFor(letters.status()), "application/json",
           ErrorJson(letters.status().message()));
      return;
    }
    Send(response, HTTPResponse::HTTP_OK, "application/json", DeadLettersJson(*letters));
  }

  void ListMessages(const Poco::URI& uri, HTTPServerResponse& response) {
    std::string status;
    std::int64_t before = 0;
    std::int64_t limit = 100;
    if (!PageParameters(uri, status, before, limit, response)) return;
    Result<std::vector<MessageSummary>> messages =
        backend_.ListMessages(status, before, static_cast<std::size_t>(limit));
    if (!messages.ok()) {
      const bool bad = messages.status().IsInvalidArgument();
      Send(response, bad ? HTTPResponse::HTTP_BAD_REQUEST : HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
           "application/json", ErrorJson(messages.status().message()));
      return;
    }
    Send(response, HTTPResponse::HTTP_OK, "application/json", MessagesJson(*messages));
  }

  const AdminOptions& options_;
  AdminBackend& backend_;
};

class AdminHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  AdminHandlerFactory(const AdminOptions& options, AdminBackend& backend)
      : options_(options), backend_(backend) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new AdminHandler(options_, backend_);
  }

 private:
  const AdminOptions& options_;
  AdminBackend& backend_;
};

}  // namespace

struct AdminServer::Impl {
  std::unique_ptr<Poco::Net::HTTPServer> server;
};

AdminServer::AdminServer(AdminOptions options, AdminBackend& backend)
    : options_(std::move(options)), backend_(backend) {}

AdminServer::~AdminServer() { Stop(); }

Status AdminServer::Start() {
  try {
    const Poco::Net::SocketAddress address(options_.host, options_.port);
    if (options_.token.empty() && !address.host().isLoopback()) {
      return Status::FailedPrecondition(
          "admin.listen " + address.toString() +
          " is not a loopback address: set admin.token_file so that the API is protected");
    }
    Poco::Net::ServerSocket socket(address, 64);
    port_ = socket.address().port();
    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.max_threads);
    params->setKeepAlive(true);
    impl_ = std::make_unique<Impl>();
    impl_->server = std::make_unique<Poco::Net::HTTPServer>(
        new AdminHandlerFactory(options_, backend_), socket, params);
    impl_->server->start();
    return Status::Ok();
  } catch (const Poco::Exception& e) {
    return Status::Unavailable("admin API on " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + e.displayText());
  }
}

void AdminServer::Stop() {
  if (impl_ && impl_->server) {
    impl_->server->stopAll(true);
    impl_->server.reset();
  }
}

}  // namespace fhirbridge::service
