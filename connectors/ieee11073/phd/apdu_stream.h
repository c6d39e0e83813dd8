#pragma once

// Framing of an agent→manager byte stream into APDUs by the 4-byte APDU header (choice u16,
// length u16; 20601 section 8.1: every transport carries whole APDUs back to back). Used by the
// TCP listener (bytes arrive in pieces) and by `fhirbridge convert --format phd` (a captured
// stream read whole).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fhirbridge/result.h"

namespace fhirbridge::phd {

/// One APDU cut from the stream.
struct ApduFrame {
  std::size_t offset = 0;  ///< of its first byte in the stream
  std::string bytes;       ///< header included
};

/// Accumulates stream bytes and hands out complete APDUs.
class ApduFramer {
 public:
  /// `max_apdu_bytes` (header included) bounds the buffer: a header announcing more is an error.
  explicit ApduFramer(std::size_t max_apdu_bytes) : max_apdu_bytes_(max_apdu_bytes) {}

  void Append(std::span<const std::uint8_t> bytes);

  /// The next complete APDU; NotFound when more bytes are needed; ResourceExhausted when a
  /// header announces an APDU over the limit (the stream cannot be resynchronised after that).
  Result<ApduFrame> Next();

  /// Bytes received but not yet handed out (an incomplete APDU at the end of a stream).
  std::size_t pending() const { return buffer_.size() - start_; }
  /// Stream offset of the first pending byte.
  std::size_t offset() const { return consumed_; }
  /// A description of the incomplete APDU at the end ("truncated APDU at byte N: header says
  /// 50 bytes, 12 present"), for when the stream ends with pending() > 0.
  std::string DescribeTruncation() const;

 private:
  std::size_t max_apdu_bytes_;
  std::string buffer_;
  std::size_t start_ = 0;     // first pending byte in buffer_
  std::size_t consumed_ = 0;  // stream offset of buffer_[start_]
};

}  // namespace fhirbridge::phd
