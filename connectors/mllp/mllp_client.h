#pragma once

// A blocking MLLP client (plain TCP or TLS): send a frame, read the reply frame. Used by the
// tests and by the load benchmark (conformance/bench/mllp_load.cpp); not thread-safe (one per
// thread). Poco exceptions end here: every call returns a Status.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/mllp/frame_decoder.h"
#include "fhirbridge/result.h"

namespace fhirbridge::mllp {

struct MllpClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  /// Connect, TLS handshake, each write and each wait for a reply frame.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  /// PEM CAs the server certificate must chain to; non-empty turns TLS (1.2+) on.
  std::string ca_file;
  std::string cert_file;  ///< client certificate (PEM) for mutual TLS; empty: none
  std::string key_file;   ///< its private key
  /// Largest reply frame accepted; a larger one is an error.
  std::size_t max_reply_bytes = 1u << 20;
};

class MllpClient {
 public:
  /// Connects (and completes the TLS handshake). Unavailable when the server cannot be
  /// reached or the handshake fails; FailedPrecondition for unusable TLS files.
  static Result<std::unique_ptr<MllpClient>> Connect(const MllpClientOptions& options);
  ~MllpClient();
  MllpClient(const MllpClient&) = delete;
  MllpClient& operator=(const MllpClient&) = delete;

  /// Sends `content` framed as <VT>content<FS><CR>.
  Status Send(std::string_view content);
  /// Sends bytes as they are (to play a broken sender in tests).
  Status SendRaw(std::string_view bytes);
  /// The next reply frame's content. Unavailable when the server closed the connection
  /// (or reset it) first; DeadlineExceeded after `timeout` without a complete frame.
  Result<std::string> Receive();
  /// Send, then Receive.
  Result<std::string> Exchange(std::string_view content);
  /// Closes the connection (also done by the destructor).
  void Close();

 private:
  struct Impl;
  explicit MllpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fhirbridge::mllp
