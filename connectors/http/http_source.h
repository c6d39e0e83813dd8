#pragma once

// The HTTP(S) source: device clouds and gateways POST documents to fhirbridge (docs/
// connector-http.md). Poco HTTPServer, one thread per connection, plain HTTP or TLS 1.2+ with
// optional client certificates (the MLLP listener's TLS setup), an optional bearer token.
//
// Each `POST <path>` body is checked (JSON for format json; well-formed XML without DTD for
// format sdc; size; content type), committed with Intake::Accept, and only then answered
// 202 Accepted with {"message_id": N, "duplicate": false}. A resend of the same bytes (same
// control id) is 202 with "duplicate": true. A body that fails the checks is kept with
// Intake::Reject and answered 400/413/415 with an OperationOutcome saying what and where; a
// store that cannot commit gives 503 with Retry-After.
//
// Control id (for duplicate detection and logs): the value at `control_id_pointer` in a JSON
// body, else the X-Request-ID or Idempotency-Key header, else "sha256:" + a hash of the body.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "connectors/mllp/server.h"
#include "fhirbridge/connector.h"

namespace fhirbridge::http {

/// Everything the source can be told; defaults match the configuration's defaults.
struct HttpSourceOptions {
  std::string name = "http";                     ///< the configured source name (Message::source)
  std::string format = "json";                   ///< "json" (JSON bodies) or "sdc" (XML bodies)
  std::string host = "127.0.0.1";                ///< address to bind
  std::uint16_t port = 0;                        ///< 0 picks a free port (see port())
  std::string path = "/ingest";                  ///< the one path that takes POSTs
  std::size_t max_body_bytes = 4 * 1024 * 1024;  ///< larger bodies: 413
  std::size_t max_depth = 64;                    ///< JSON/XML nesting limit of the first check
  int max_connections = 64;                      ///< served at once (one thread each)
  int max_queued = 64;  ///< accepted connections waiting for a thread; more are refused
  /// Socket receive/send timeout and keep-alive idle time.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  mllp::MllpTlsOptions tls;  ///< TLS (and mutual TLS) as for MLLP; empty cert: plain HTTP
  /// Required `Authorization: Bearer` token; empty = none (then keep it on loopback or mTLS).
  std::string bearer_token;
  std::string control_id_pointer;  ///< RFC 6901 pointer to the document id; "" = none
  int retry_after_seconds = 5;     ///< Retry-After of a 503 (store unavailable)
};

/// Counters since Start(); each read atomically.
struct HttpSourceStats {
  std::uint64_t requests = 0;
  std::uint64_t accepted = 0;    ///< 202, stored now
  std::uint64_t duplicates = 0;  ///< 202, stored before
  std::uint64_t rejected = 0;    ///< 400/413/415 (kept with Intake::Reject)
  std::uint64_t unauthorized = 0;
  std::uint64_t unavailable = 0;  ///< 503: the store could not commit
};

class HttpSource final : public Connector {
 public:
  explicit HttpSource(HttpSourceOptions options);
  ~HttpSource() override;  ///< Stop()s
  HttpSource(const HttpSource&) = delete;
  HttpSource& operator=(const HttpSource&) = delete;

  const std::string& name() const override;
  /// Binds and starts serving. FailedPrecondition for unusable TLS files, Unavailable when the
  /// address cannot be bound (both name the source). Only once.
  Status Start(Intake& intake) override;
  /// Stops accepting and waits for requests in progress.
  void Stop() override;
  std::uint16_t port() const override;
  bool Running() const override;

  HttpSourceStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fhirbridge::http
