#pragma once

// MLLP framing (HL7 v2 Minimal Lower Layer Protocol, Release 2; HL7 v2.5.1 appendix C.4):
// a frame is <VT=0x0B> content <FS=0x1C><CR=0x0D>.
//
// MllpFrameDecoder is pure and incremental: feed it the bytes of a connection as they arrive, in
// pieces of any size, and it reports every complete frame and every framing problem. No I/O.
//  - A frame is complete at its FS: the CR that should follow is swallowed when it comes (in the
//    same read or a later one), so a sender that waits for our ACK after FS is answered, and a
//    frame's end split across reads is fine. `FS CR LF` trailers are fine: LF, CR, space and TAB
//    between frames are ignored.
//  - Any other byte outside a frame is stray: discarded and counted (stray_bytes()). More than
//    max_stray_bytes of them in a row (since the last frame) is a fatal problem: the peer is not
//    speaking MLLP, and the caller should close the connection.
//  - A VT inside a frame abandons the frame so far (kAbandonedFrame) and starts a new one: the
//    sender gave up on it (HL7 MLLP R2: VT and FS never occur in content).
//  - A frame whose content grows past max_frame_bytes is reported at once (kOversizedFrame, with
//    its first bytes so that its MSH can be read for the answer); the rest of it is discarded
//    up to the next VT, where decoding resynchronises.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fhirbridge::mllp {

inline constexpr char kStartBlock = 0x0B;  ///< VT
inline constexpr char kEndBlock = 0x1C;    ///< FS
inline constexpr char kCarriageReturn = 0x0D;

/// Bounds on what a peer may send.
struct MllpDecoderLimits {
  /// Largest frame content (framing removed). A larger frame is reported and discarded.
  std::size_t max_frame_bytes = 4u << 20;
  /// Most non-whitespace bytes outside frames in a row before the stream is given up.
  std::size_t max_stray_bytes = 64u << 10;
  /// Bytes of an oversized frame kept for the answer (its MSH); at most max_frame_bytes.
  std::size_t oversized_head_bytes = 4096;
};

/// Something the decoder found.
struct MllpEvent {
  enum class Kind {
    kFrame,              ///< `content` is one complete frame's content
    kOversizedFrame,     ///< `content` is the frame's first bytes; `size` is max_frame_bytes + 1
    kAbandonedFrame,     ///< a VT came before the frame's FS; `size` bytes were dropped
    kTooManyStrayBytes,  ///< fatal: max_stray_bytes exceeded; the decoder ignores further input
  };
  Kind kind = Kind::kFrame;
  std::string content;
  std::size_t size = 0;  ///< for kFrame, content.size()
};

/// Incremental MLLP frame decoder (see the file comment). Not thread-safe: one per connection.
class MllpFrameDecoder {
 public:
  explicit MllpFrameDecoder(MllpDecoderLimits limits = {});

  /// Consumes `bytes` and appends what they complete to `events`, in order.
  void Feed(std::string_view bytes, std::vector<MllpEvent>& events);

  /// A frame has started and not ended (bytes would be lost if the stream ended now).
  bool in_frame() const { return state_ == State::kInFrame; }
  /// The stream was given up (kTooManyStrayBytes was reported).
  bool failed() const { return state_ == State::kFailed; }
  /// Non-whitespace bytes seen outside frames since the start.
  std::uint64_t stray_bytes() const { return stray_total_; }
  /// Bytes of the frame in progress.
  std::size_t buffered_bytes() const { return frame_.size(); }

  const MllpDecoderLimits& limits() const { return limits_; }

 private:
  enum class State {
    kBetweenFrames,  ///< looking for VT
    kAfterEnd,       ///< FS seen: a CR here belongs to the trailer
    kInFrame,        ///< collecting content up to FS
    kSkipping,       ///< an oversized frame: discard up to the next VT
    kFailed,
  };

  std::size_t FeedBetween(std::string_view bytes, std::vector<MllpEvent>& events);
  std::size_t FeedInFrame(std::string_view bytes, std::vector<MllpEvent>& events);
  std::size_t FeedSkipping(std::string_view bytes);
  void StartFrame();

  MllpDecoderLimits limits_;
  State state_ = State::kBetweenFrames;
  std::string frame_;
  std::size_t stray_run_ = 0;  ///< stray bytes since the last frame
  std::uint64_t stray_total_ = 0;
};

}  // namespace fhirbridge::mllp
