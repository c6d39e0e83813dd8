#pragma once

// Poco NetSSL contexts for the MLLP server and client (internal to connectors/mllp). Poco and
// OpenSSL exceptions end here: callers get a Status.

#include <string>

#include <Poco/Net/Context.h>

#include "connectors/mllp/server.h"
#include "fhirbridge/result.h"

namespace fhirbridge::mllp::internal {

/// A server context: TLS 1.2 or newer only, the certificate and key of `tls`, and with
/// client_ca_file set, client certificates required and verified against it.
/// FailedPrecondition naming the file when something cannot be loaded.
Result<Poco::Net::Context::Ptr> MakeServerContext(const MllpTlsOptions& tls);

/// A client context: TLS 1.2 or newer, the server's certificate verified against `ca_file`
/// (the host name is not checked: clients connect to an address), and a client certificate
/// when `cert_file` is given.
Result<Poco::Net::Context::Ptr> MakeClientContext(const std::string& ca_file,
                                                  const std::string& cert_file,
                                                  const std::string& key_file);

/// Keeps Poco's SSL library initialised while alive (Poco::Net::initializeSSL is counted).
class SslLibrary {
 public:
  SslLibrary();
  ~SslLibrary();
  SslLibrary(const SslLibrary&) = delete;
  SslLibrary& operator=(const SslLibrary&) = delete;
};

}  // namespace fhirbridge::mllp::internal
