#pragma once

// A TLS client for syslog collectors (RFC 5425): TLS 1.2 or later, the collector's certificate
// checked against a CA file and the host name (or IP address), and a client certificate for
// mutual TLS (IHE ATNA ITI-19 node authentication). OpenSSL is used directly: the connection
// only writes, and must notice when the collector has gone away.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fhirbridge/result.h"
#include "fhirbridge/status.h"

struct ssl_ctx_st;
struct ssl_st;

namespace fhirbridge::audit {

struct SyslogTlsOptions {
  std::string host;        ///< collector host name or IP address
  std::uint16_t port = 0;  ///< collector port (6514 is the RFC 5425 default)
  std::string ca_file;     ///< PEM CAs the collector's certificate must chain to (required)
  std::string cert_file;   ///< PEM client certificate chain; "" for no client certificate
  std::string key_file;    ///< PEM private key of cert_file
  std::chrono::milliseconds connect_timeout{5000};  ///< TCP connect and TLS handshake, each
  std::chrono::milliseconds io_timeout{10000};      ///< one blocked write
};

class SyslogTlsConnection;

/// Holds the TLS context (the loaded CA, certificate and key); makes connections.
class SyslogTlsClient {
 public:
  /// Loads the files. InvalidArgument naming the file when one cannot be loaded, or when the
  /// key does not match the certificate.
  static Result<std::unique_ptr<SyslogTlsClient>> Create(SyslogTlsOptions options);
  ~SyslogTlsClient();
  SyslogTlsClient(const SyslogTlsClient&) = delete;
  SyslogTlsClient& operator=(const SyslogTlsClient&) = delete;

  /// Connects and completes the handshake. Unavailable when the collector cannot be reached or
  /// the handshake fails (a certificate problem included: the text says which).
  Result<std::unique_ptr<SyslogTlsConnection>> Connect() const;

  const SyslogTlsOptions& options() const { return options_; }

 private:
  SyslogTlsClient(SyslogTlsOptions options, ssl_ctx_st* ctx)
      : options_(std::move(options)), ctx_(ctx) {}

  SyslogTlsOptions options_;
  ssl_ctx_st* ctx_;
};

/// One TLS connection to the collector. Not thread-safe.
class SyslogTlsConnection {
 public:
  ~SyslogTlsConnection();
  SyslogTlsConnection(const SyslogTlsConnection&) = delete;
  SyslogTlsConnection& operator=(const SyslogTlsConnection&) = delete;

  /// Writes all of `bytes`; Unavailable when the connection broke (no SIGPIPE is raised).
  Status Send(std::string_view bytes);

  /// Waits up to `wait` for a sign that the collector closed or reset the connection (a
  /// collector never sends application data; TLS 1.3 session tickets are read and ignored).
  /// True when it is gone: what was written lately may not have arrived.
  bool PeerGone(std::chrono::milliseconds wait);

 private:
  friend class SyslogTlsClient;
  SyslogTlsConnection(int fd, ssl_st* ssl) : fd_(fd), ssl_(ssl) {}

  int fd_;
  ssl_st* ssl_;
};

}  // namespace fhirbridge::audit
