#pragma once

// Credentials for requests to a FHIR server: SMART Backend Services (a client-credentials token
// obtained with a signed JWT), a bearer token read from a file, or HTTP basic authentication.
// The FHIR destination asks for the Authorization header before each request and reports a 401.

#include <chrono>
#include <memory>
#include <string>

#include "engine/http/http_client.h"
#include "fhirbridge/result.h"

namespace fhirbridge::auth {

class AuthProvider {
 public:
  virtual ~AuthProvider() = default;
  /// The Authorization header value for the next request ("Bearer …", "Basic …").
  /// Unavailable: try later (token endpoint down); PermissionDenied: the credentials are refused
  /// (fix the configuration).
  virtual Result<std::string> Authorization() = 0;
  /// The server answered 401 to a request that carried `header`: the next Authorization() must
  /// not return it again (a new token is fetched, a token file is read again). Thread-safe.
  virtual void Rejected(const std::string& header) = 0;
};

/// `Bearer <token>`, the token read from `token_file` (surrounding white space ignored). After a
/// 401 the file is read again, so a token rotated by another tool is picked up.
Result<std::unique_ptr<AuthProvider>> MakeBearerFileAuth(std::string token_file);

/// `Basic base64(username:password)` (RFC 7617), the password read from `password_file`.
Result<std::unique_ptr<AuthProvider>> MakeBasicAuth(const std::string& username,
                                                    const std::string& password_file);

struct SmartBackendOptions {
  std::string base_url;   ///< the FHIR server, for discovery when token_url is empty
  std::string token_url;  ///< "" = from <base_url>/.well-known/smart-configuration
  std::string client_id;
  std::string private_key_file;  ///< PEM: RSA for RS384, EC P-384 for ES384
  std::string alg = "RS384";     ///< RS384 | ES384
  std::string kid;
  std::string scope = "system/Observation.cs system/Patient.cs system/Device.cs";
  /// SMART: exp at most 5 minutes ahead; 4 minutes leaves room for a server clock running behind.
  std::chrono::seconds assertion_lifetime{240};
  http::HttpClientOptions http;  ///< proxy, TLS, timeouts as for the server
};

/// SMART Backend Services (SMART App Launch 2, Backend Services): a JWT client assertion signed
/// with the private key, exchanged for an access token with the client-credentials grant. The
/// token is cached until shortly before it expires (10 % of its lifetime, at most 30 s) and
/// shared by every thread. Errors: the token endpoint unreachable, 429 or 5xx → Unavailable;
/// the endpoint refuses the client (400/401: invalid_client, invalid_scope…) → PermissionDenied.
class SmartBackendAuth final : public AuthProvider {
 public:
  /// Loads the private key; fails with InvalidArgument when it is not a key of `alg`.
  static Result<std::unique_ptr<SmartBackendAuth>> Create(SmartBackendOptions options);
  ~SmartBackendAuth() override;

  Result<std::string> Authorization() override;
  void Rejected(const std::string& header) override;

  /// A fresh signed client assertion for `audience` (tests decode it).
  Result<std::string> ClientAssertion(const std::string& audience) const;
  /// How many token requests were made (tests: the cache works).
  int token_requests() const;

  struct State;

 private:
  explicit SmartBackendAuth(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace fhirbridge::auth
