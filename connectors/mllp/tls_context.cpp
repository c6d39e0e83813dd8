// TLS contexts: see tls_context.h.

#include "connectors/mllp/tls_context.h"

#include <filesystem>

#include <Poco/Exception.h>
#include <Poco/Net/NetSSL.h>
#include <openssl/ssl.h>

namespace fhirbridge::mllp::internal {
namespace {

Status CheckReadable(const std::string& what, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::FailedPrecondition("tls." + what + ": " + path + " is not a readable file");
  }
  return Status::Ok();
}

/// ARCHITECTURE.md, Security: TLS 1.2+ on every listener and client. OpenSSL's own floor (set
/// again here) refuses SSLv3, TLS 1.0 and TLS 1.1 in both directions.
void RequireTls12(Poco::Net::Context& context) {
  context.requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  SSL_CTX_set_min_proto_version(context.sslContext(), TLS1_2_VERSION);
}

}  // namespace

Result<Poco::Net::Context::Ptr> MakeServerContext(const MllpTlsOptions& tls) {
  FHIRBRIDGE_RETURN_IF_ERROR(CheckReadable("cert", tls.cert_file));
  FHIRBRIDGE_RETURN_IF_ERROR(CheckReadable("key", tls.key_file));
  const bool mutual = !tls.client_ca_file.empty();
  if (mutual) FHIRBRIDGE_RETURN_IF_ERROR(CheckReadable("client_ca", tls.client_ca_file));
  try {
    Poco::Net::Context::Params params;
    params.certificateFile = tls.cert_file;
    params.privateKeyFile = tls.key_file;
    params.caLocation = tls.client_ca_file;
    params.verificationMode =
        mutual ? Poco::Net::Context::VERIFY_STRICT : Poco::Net::Context::VERIFY_NONE;
    params.loadDefaultCAs = false;
    params.cipherList = tls.cipher_list;
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    RequireTls12(*context);
    // A session id context is required for resumption once client certificates are verified.
    context->enableSessionCache(true, "fhirbridge-mllp");
    if (mutual) {
      // Tell clients which CAs we accept, so that one with several certificates picks the right.
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
      if (names != nullptr) SSL_CTX_set_client_CA_list(context->sslContext(), names);
    }
    return context;
  } catch (const Poco::Exception& e) {
    return Status::FailedPrecondition("tls: cannot load the certificate, key or CA files: " +
                                      e.displayText());
  }
}

Result<Poco::Net::Context::Ptr> MakeClientContext(const std::string& ca_file,
                                                  const std::string& cert_file,
                                                  const std::string& key_file) {
  FHIRBRIDGE_RETURN_IF_ERROR(CheckReadable("ca", ca_file));
  try {
    Poco::Net::Context::Params params;
    params.caLocation = ca_file;
    params.certificateFile = cert_file;
    params.privateKeyFile = key_file;
    params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
    params.loadDefaultCAs = false;
    params.cipherList = MllpTlsOptions{}.cipher_list;
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    RequireTls12(*context);
    return context;
  } catch (const Poco::Exception& e) {
    return Status::FailedPrecondition("tls: cannot load the client certificate or CA files: " +
                                      e.displayText());
  }
}

SslLibrary::SslLibrary() { Poco::Net::initializeSSL(); }
SslLibrary::~SslLibrary() { Poco::Net::uninitializeSSL(); }

}  // namespace fhirbridge::mllp::internal
