// MLLP frame decoding: see frame_decoder.h.

#include "connectors/mllp/frame_decoder.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace fhirbridge::mllp {
namespace {

/// Offset of the first `c` in bytes[0, end), or `end`.
std::size_t Find(std::string_view bytes, char c, std::size_t end) {
  const void* hit = std::memchr(bytes.data(), c, end);
  return hit == nullptr ? end
                        : static_cast<std::size_t>(static_cast<const char*>(hit) - bytes.data());
}

bool IsWhitespace(char c) { return c == '\r' || c == '\n' || c == ' ' || c == '\t'; }

}  // namespace

MllpFrameDecoder::MllpFrameDecoder(MllpDecoderLimits limits) : limits_(limits) {
  limits_.oversized_head_bytes = std::min(limits_.oversized_head_bytes, limits_.max_frame_bytes);
}

void MllpFrameDecoder::Feed(std::string_view bytes, std::vector<MllpEvent>& events) {
  while (!bytes.empty() && state_ != State::kFailed) {
    std::size_t used = 0;
    switch (state_) {
      case State::kAfterEnd:
        // The CR of <FS><CR>; tolerated when missing (the frame was already delivered).
        if (bytes[0] == kCarriageReturn) used = 1;
        state_ = State::kBetweenFrames;
        break;
      case State::kBetweenFrames:
        used = FeedBetween(bytes, events);
        break;
      case State::kInFrame:
        used = FeedInFrame(bytes, events);
        break;
      case State::kSkipping:
        used = FeedSkipping(bytes);
        break;
      case State::kFailed:
        return;
    }
    bytes.remove_prefix(used);
  }
}

void MllpFrameDecoder::StartFrame() {
  frame_.clear();
  state_ = State::kInFrame;
  stray_run_ = 0;
}

std::size_t MllpFrameDecoder::FeedBetween(std::string_view bytes, std::vector<MllpEvent>& events) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == kStartBlock) {
      StartFrame();
      return i + 1;
    }
    if (IsWhitespace(c)) continue;
    ++stray_total_;
    if (++stray_run_ > limits_.max_stray_bytes) {
      state_ = State::kFailed;
      MllpEvent e;
      e.kind = MllpEvent::Kind::kTooManyStrayBytes;
      e.size = stray_run_;
      events.push_back(std::move(e));
      return bytes.size();
    }
  }
  return bytes.size();
}

std::size_t MllpFrameDecoder::FeedInFrame(std::string_view bytes, std::vector<MllpEvent>& events) {
  const std::size_t end = Find(bytes, kEndBlock, bytes.size());
  const std::size_t restart = Find(bytes, kStartBlock, end);
  const std::size_t chunk = restart;  // content bytes before FS or VT
  if (frame_.size() + chunk > limits_.max_frame_bytes) {
    // Reported as max + 1 whatever the reads were: the same input gives the same events.
    const std::size_t seen = limits_.max_frame_bytes + 1;
    if (frame_.size() < limits_.oversized_head_bytes) {
      frame_.append(bytes.data(), std::min(chunk, limits_.oversized_head_bytes - frame_.size()));
    }
    frame_.resize(std::min(frame_.size(), limits_.oversized_head_bytes));
    MllpEvent e;
    e.kind = MllpEvent::Kind::kOversizedFrame;
    e.size = seen;
    e.content = std::move(frame_);
    events.push_back(std::move(e));
    frame_.clear();
    state_ = State::kSkipping;
    return chunk;  // the FS or VT that follows is handled while skipping
  }
  frame_.append(bytes.data(), chunk);
  if (restart < end) {
    MllpEvent e;
    e.kind = MllpEvent::Kind::kAbandonedFrame;
    e.size = frame_.size();
    events.push_back(std::move(e));
    StartFrame();
    return restart + 1;
  }
  if (end == bytes.size()) return bytes.size();
  MllpEvent e;
  e.kind = MllpEvent::Kind::kFrame;
  e.size = frame_.size();
  e.content = std::move(frame_);
  events.push_back(std::move(e));
  frame_.clear();
  state_ = State::kAfterEnd;
  stray_run_ = 0;
  return end + 1;
}

std::size_t MllpFrameDecoder::FeedSkipping(std::string_view bytes) {
  const std::size_t vt = Find(bytes, kStartBlock, bytes.size());
  if (vt == bytes.size()) return vt;
  StartFrame();
  return vt + 1;
}

}  // namespace fhirbridge::mllp
