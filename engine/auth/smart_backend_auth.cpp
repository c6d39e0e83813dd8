// SMART Backend Services client (SMART App Launch 2.0, "Backend Services"): discovery, the signed
// client assertion, the client-credentials grant and the token cache.

#include <Poco/Crypto/RSAKey.h>
#include <Poco/Exception.h>
#include <Poco/JWT/Serializer.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/Timestamp.h>
#include <openssl/rand.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>

#include "engine/auth/auth_provider.h"
#include "engine/auth/es384.h"
#include "engine/auth/secret_file.h"

namespace fhirbridge::auth {

struct SmartBackendAuth::State {
  SmartBackendOptions options;
  std::unique_ptr<Poco::JWT::Signer> signer;
  EvpKey es384_key{nullptr, &EVP_PKEY_free};  ///< ES384 signs with OpenSSL, not Poco (es384.h)
  std::unique_ptr<http::HttpClient> http;     ///< used under `mutex` only
  std::mutex mutex;
  std::string token_url;  ///< configured or discovered
  std::string header;     ///< "Bearer <token>"; "" = none cached
  std::chrono::steady_clock::time_point refresh_at;
  int token_requests = 0;
};

namespace {

using Clock = std::chrono::steady_clock;

std::string RandomHex128() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// application/x-www-form-urlencoded (WHATWG URL, form serialisation): unreserved bytes kept,
// the rest percent-encoded.
std::string FormEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// An OAuth error code (RFC 6749 section 5.2) is a short token; anything else is not quoted.
std::string OAuthError(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return "";
  auto it = doc.FindMember("error");
  if (it == doc.MemberEnd() || !it->value.IsString()) return "";
  std::string code(it->value.GetString(), it->value.GetStringLength());
  const bool token = !code.empty() && code.size() <= 40 &&
                     std::all_of(code.begin(), code.end(),
                                 [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
  return token ? code : "";
}

// What an unexpected answer of the SMART endpoints means for delivery.
Status EndpointStatus(std::string_view what, const Result<http::HttpResponse>& response) {
  const std::string prefix = std::string(what) + ": ";
  if (!response.ok()) return Status::Unavailable(prefix + response.status().message());
  const int status = response->status;
  if (status == 429 || status >= 500) {
    return Status::Unavailable(prefix + "HTTP " + std::to_string(status));
  }
  const std::string error = OAuthError(response->body);
  return Status::PermissionDenied(prefix + "HTTP " + std::to_string(status) +
                                  (error.empty() ? "" : " " + error));
}

Result<std::unique_ptr<Poco::JWT::Signer>> LoadSigner(const SmartBackendOptions& o) {
  std::ifstream in(o.private_key_file, std::ios::binary);
  if (!in) return Status::NotFound("auth.private_key_file: cannot read " + o.private_key_file);
  try {
    if (o.alg == "RS384") {
      Poco::SharedPtr<Poco::Crypto::RSAKey> key(new Poco::Crypto::RSAKey(nullptr, &in));
      if (key->modulus().size() * 8 < 2048) {
        return Status::InvalidArgument("auth.private_key_file: RSA keys need at least 2048 bits");
      }
      auto signer = std::make_unique<Poco::JWT::Signer>(key);
      signer->addAlgorithm(Poco::JWT::Signer::ALGO_RS384);
      return signer;
    }
  } catch (const Poco::Exception&) {
    return Status::InvalidArgument("auth.private_key_file: " + o.private_key_file +
                                   " is not a PEM private key for " + o.alg);
  } catch (const std::exception&) {
    return Status::InvalidArgument("auth.private_key_file: " + o.private_key_file +
                                   " is not a PEM private key for " + o.alg);
  }
  return Status::InvalidArgument("auth.alg: " + o.alg + " is not RS384 or ES384");
}

Result<rapidjson::Document> JsonObject(const std::string& body, std::string_view what) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::Unavailable(std::string(what) + ": the answer is not a JSON object");
  }
  return doc;
}

Status Discover(SmartBackendAuth::State& s) {
  http::HttpRequest request;
  request.url = s.options.base_url + "/.well-known/smart-configuration";
  request.headers.push_back({"Accept", "application/json"});
  Result<http::HttpResponse> response = s.http->Perform(std::move(request));
  if (!response.ok() || response->status != 200) {
    return EndpointStatus("SMART discovery (.well-known/smart-configuration)", response);
  }
  Result<rapidjson::Document> doc = JsonObject(response->body, "SMART discovery");
  if (!doc.ok()) return doc.status();
  auto url = doc->FindMember("token_endpoint");
  if (url == doc->MemberEnd() || !url->value.IsString()) {
    return Status::PermissionDenied("SMART discovery: no token_endpoint; set auth.token_url");
  }
  const std::string token_url = url->value.GetString();
  if (token_url.rfind("https://", 0) != 0 && token_url.rfind("http://", 0) != 0) {
    return Status::PermissionDenied("SMART discovery: token_endpoint is not an http(s) URL");
  }
  auto algs = doc->FindMember("token_endpoint_auth_signing_alg_values_supported");
  if (algs != doc->MemberEnd() && algs->value.IsArray()) {
    bool found = false;
    for (const auto& a : algs->value.GetArray())
      found = found || (a.IsString() && a.GetString() == s.options.alg);
    if (!found) {
      return Status::PermissionDenied("SMART discovery: the server does not accept " +
                                      s.options.alg + " client assertions");
    }
  }
  s.token_url = token_url;
  return Status::Ok();
}

Status FetchToken(SmartBackendAuth::State& s, const std::string& assertion) {
  http::HttpRequest request;
  request.method = "POST";
  request.url = s.token_url;
  request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  request.headers.push_back({"Accept", "application/json"});
  request.body = "grant_type=client_credentials&client_assertion_type=" +
                 FormEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                 "&client_assertion=" + FormEncode(assertion) +
                 "&scope=" + FormEncode(s.options.scope);
  ++s.token_requests;
  Result<http::HttpResponse> response = s.http->Perform(std::move(request));
  if (!response.ok() || response->status != 200) return EndpointStatus("token endpoint", response);
  Result<rapidjson::Document> doc = JsonObject(response->body, "token endpoint");
  if (!doc.ok()) return doc.status();
  auto token = doc->FindMember("access_token");
  auto type = doc->FindMember("token_type");
  auto expires = doc->FindMember("expires_in");
  if (token == doc->MemberEnd() || !token->value.IsString() ||
      token->value.GetStringLength() == 0) {
    return Status::Unavailable("token endpoint: no access_token in the answer");
  }
  std::string token_type =
      type != doc->MemberEnd() && type->value.IsString() ? type->value.GetString() : "";
  std::transform(token_type.begin(), token_type.end(), token_type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (token_type != "bearer")
    return Status::PermissionDenied("token endpoint: token_type is not bearer");
  const std::string value = token->value.GetString();
  for (char c : value) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Status::Unavailable("token endpoint: the access_token holds control characters");
    }
  }
  // SMART: expires_in SHALL be given; without it assume the 5 minutes the spec recommends.
  double lifetime_s = 300;
  if (expires != doc->MemberEnd() && expires->value.IsNumber())
    lifetime_s = expires->value.GetDouble();
  lifetime_s = std::clamp(lifetime_s, 0.0, 86400.0);
  // Refresh before expiry: 10 % of the lifetime, at most 30 s, so that a request never leaves
  // with a token about to expire.
  const double margin_s = std::min(30.0, lifetime_s / 10);
  s.header = "Bearer " + value;
  s.refresh_at = Clock::now() + std::chrono::milliseconds(
                                    static_cast<std::int64_t>((lifetime_s - margin_s) * 1000));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SmartBackendAuth>> SmartBackendAuth::Create(SmartBackendOptions options) {
  if (options.client_id.empty()) return Status::InvalidArgument("auth.client_id: required");
  if (options.kid.empty()) return Status::InvalidArgument("auth.kid: required");
  auto state = std::make_unique<State>();
  if (options.alg == "ES384") {
    Result<std::string> pem = ReadSecretFile(options.private_key_file, "auth.private_key_file");
    if (!pem.ok()) return pem.status();
    Result<EvpKey> key = ReadEs384Key(*pem);
    if (!key.ok()) return key.status().WithContext("auth.private_key_file");
    state->es384_key = std::move(key).value();
  } else {
    Result<std::unique_ptr<Poco::JWT::Signer>> signer = LoadSigner(options);
    if (!signer.ok()) return signer.status();
    state->signer = std::move(signer).value();
  }
  Result<std::unique_ptr<http::HttpClient>> client = http::HttpClient::Create(options.http);
  if (!client.ok()) return client.status();
  state->http = std::move(client).value();
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  state->token_url = options.token_url;
  state->options = std::move(options);
  return std::unique_ptr<SmartBackendAuth>(new SmartBackendAuth(std::move(state)));
}

SmartBackendAuth::SmartBackendAuth(std::unique_ptr<State> state) : state_(std::move(state)) {}
SmartBackendAuth::~SmartBackendAuth() = default;

Result<std::string> SmartBackendAuth::ClientAssertion(const std::string& audience) const {
  const SmartBackendOptions& o = state_->options;
  const std::string jti = RandomHex128();
  if (jti.empty()) return Status::Internal("no random bytes for the jti");
  try {
    Poco::JWT::Token token;
    token.setType("JWT");
    token.header().set("kid", o.kid);
    token.setIssuer(o.client_id);
    token.setSubject(o.client_id);
    token.setAudience(audience);
    // NumericDate in whole seconds: Poco writes fractions, which a server comparing with its
    // own whole-second clock may see as more than the allowed lifetime.
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    token.payload().set("iat", Poco::Int64(now));
    token.payload().set("exp", Poco::Int64(now + o.assertion_lifetime.count()));
    token.setId(jti);
    if (!state_->es384_key) return state_->signer->sign(token, o.alg);
    // Poco's encoding of header and payload, signed here (es384.h).
    token.setAlgorithm(o.alg);
    const std::string signing_input = Poco::JWT::Serializer::serialize(token.header()) + "." +
                                      Poco::JWT::Serializer::serialize(token.payload());
    Result<std::string> signature = SignEs384(state_->es384_key.get(), signing_input);
    if (!signature.ok()) return signature.status();
    return signing_input + "." + *signature;
  } catch (const Poco::Exception& e) {
    return Status::Internal("cannot sign the client assertion: " + e.displayText());
  }
}

Result<std::string> SmartBackendAuth::Authorization() {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (!s.header.empty() && Clock::now() < s.refresh_at) return s.header;
  s.header.clear();
  if (s.token_url.empty()) FHIRBRIDGE_RETURN_IF_ERROR(Discover(s));
  Result<std::string> assertion = ClientAssertion(s.token_url);
  if (!assertion.ok()) return assertion.status();
  FHIRBRIDGE_RETURN_IF_ERROR(FetchToken(s, *assertion));
  return s.header;
}

void SmartBackendAuth::Rejected(const std::string& header) {
  std::lock_guard lock(state_->mutex);
  if (header == state_->header) state_->header.clear();
}

int SmartBackendAuth::token_requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->token_requests;
}

}  // namespace fhirbridge::auth
