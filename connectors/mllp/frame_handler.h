#pragma once

// What the MLLP server does with the frames it decodes: one small interface between the
// transport (MllpServer) and the message protocol (Hl7v2MllpHandler for HL7 v2).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fhirbridge::mllp {

/// The connection a frame came in on.
struct ConnectionInfo {
  std::uint64_t id = 0;      ///< 1, 2, ... per server: for logs, never reused while it runs
  std::string peer;          ///< remote address, "127.0.0.1:53211"
  std::string tls_identity;  ///< subject of the verified client certificate; empty without mTLS
};

/// Turns frames into replies. Called from every connection's thread at once: implementations
/// must be thread-safe. They must not throw (no exception crosses the module boundary).
class FrameHandler {
 public:
  virtual ~FrameHandler() = default;

  /// One complete frame's content (framing removed). Returns the replies' contents, which the
  /// server frames and sends in order (none, one, or e.g. an accept and an application ACK).
  virtual std::vector<std::string> OnFrame(std::string content,
                                           const ConnectionInfo& connection) = 0;

  /// A frame longer than the server's max_frame_bytes; `head` is its first bytes (enough for an
  /// MSH). The rest is discarded. Returns the replies' contents.
  virtual std::vector<std::string> OnOversizedFrame(std::string_view head,
                                                    const ConnectionInfo& connection) = 0;
};

}  // namespace fhirbridge::mllp
