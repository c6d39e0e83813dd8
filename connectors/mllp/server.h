#pragma once

// The MLLP listener: Poco::Net::TCPServer, one thread per connection, plain TCP or TLS 1.2+
// (optionally with client certificates), frames decoded by MllpFrameDecoder and answered by a
// FrameHandler.
//
//   MllpServerOptions options;            // see each field for its meaning and default
//   options.port = 0;                     // any free port
//   MllpServer server(options, handler);  // handler: e.g. Hl7v2MllpHandler
//   FHIRBRIDGE_RETURN_IF_ERROR(server.Start());
//   ... server.port() ...
//   server.Stop();                        // also done by the destructor
//
// Connections: at most max_connections are served at once; up to max_queued more wait (in
// order) for a free slot, and beyond that new connections are closed at once (counted as
// refused). A connection is closed after idle_timeout without a byte from the peer, when the
// peer closes, on an I/O or TLS error, or when it sends more than max_stray_bytes of non-MLLP
// bytes in a row. A frame in progress when the peer closes is dropped (never handed on).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "connectors/mllp/frame_decoder.h"
#include "connectors/mllp/frame_handler.h"
#include "fhirbridge/status.h"

namespace fhirbridge::mllp {

/// TLS for the listener. Leave cert_file empty for plain TCP.
struct MllpTlsOptions {
  std::string cert_file;  ///< PEM server certificate (chain); non-empty turns TLS on
  std::string key_file;   ///< PEM private key of cert_file (unencrypted)
  /// PEM file of CAs that client certificates must chain to. Non-empty turns on mutual TLS:
  /// a client without such a certificate fails the handshake (OpenSSL VERIFY_PEER |
  /// FAIL_IF_NO_PEER_CERT). The verified subject is ConnectionInfo::tls_identity.
  std::string client_ca_file;
  /// OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL's defaults).
  std::string cipher_list = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!CAMELLIA:!ARIA";

  bool enabled() const { return !cert_file.empty(); }
};

/// Everything the server can be told; defaults match the configuration's defaults.
struct MllpServerOptions {
  std::string host = "127.0.0.1";  ///< address to bind ("0.0.0.0": every interface)
  std::uint16_t port = 2575;       ///< TCP port; 0 picks a free one (see MllpServer::port())
  int max_connections = 256;       ///< connections served at once (one thread each)
  int max_queued = 256;            ///< accepted connections waiting for a slot; more are closed
  /// A connection without a byte from the peer for this long is closed.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
  /// Longest a TLS handshake may take (capped at idle_timeout).
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  /// Stop(): how long frames in progress may take to arrive and be answered before the
  /// remaining connections are cut.
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(5)};
  /// How often a waiting connection looks at the clock and at Stop() (not a timeout).
  std::chrono::milliseconds poll_interval{std::chrono::milliseconds(200)};
  MllpDecoderLimits limits;  ///< frame size and stray-byte limits (see MllpDecoderLimits)
  MllpTlsOptions tls;
};

/// Counters since Start(). A snapshot: each field is read atomically, not all together.
struct MllpServerStats {
  std::uint64_t connections = 0;          ///< connections served
  std::uint64_t refused_connections = 0;  ///< closed at once: max_queued were already waiting
  std::int64_t active_connections = 0;
  std::int64_t peak_connections = 0;  ///< most served at once
  std::uint64_t idle_timeouts = 0;
  std::uint64_t tls_handshake_failures = 0;
  std::uint64_t io_errors = 0;       ///< connections ended by a read/write error
  std::uint64_t bytes_received = 0;  ///< after TLS decryption
  std::uint64_t frames = 0;          ///< complete frames handed to the handler
  std::uint64_t replies = 0;         ///< reply frames written
  std::uint64_t oversized_frames = 0;
  std::uint64_t abandoned_frames = 0;   ///< a VT came before the frame's FS
  std::uint64_t truncated_frames = 0;   ///< the peer closed (or was cut) in the middle of a frame
  std::uint64_t stray_bytes = 0;        ///< non-whitespace bytes outside frames
  std::uint64_t stray_byte_closes = 0;  ///< connections closed for too many stray bytes
};

/// MLLP listener (see the file comment). Start/Stop from one thread; stats() from any.
class MllpServer {
 public:
  /// `handler` must outlive the server.
  MllpServer(MllpServerOptions options, FrameHandler& handler);
  ~MllpServer();  ///< Stop()s
  MllpServer(const MllpServer&) = delete;
  MllpServer& operator=(const MllpServer&) = delete;

  /// Binds and starts accepting. FailedPrecondition for unusable TLS files or options,
  /// Unavailable when the address cannot be bound. Only once per object.
  Status Start();
  /// The bound port (after Start), e.g. when options.port was 0.
  std::uint16_t port() const;
  /// True between a successful Start() and Stop().
  bool running() const;
  /// Stops accepting, drops queued connections, lets frames in progress finish for up to
  /// drain_timeout, then cuts what is left and waits for handler calls in progress to return.
  void Stop();

  MllpServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fhirbridge::mllp
