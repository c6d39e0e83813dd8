// libFuzzer target for MllpFrameDecoder: any byte stream, split into reads at positions taken
// from the input, must decode to the same events as the stream in one read, and no event may
// break the decoder's promises (no VT/FS in a frame, limits held).
//
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DFHIRBRIDGE_FUZZ=ON
//   cmake --build build-fuzz --target mllp_frame_fuzz && build-fuzz/connectors/mllp_frame_fuzz

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "connectors/mllp/frame_decoder.h"

namespace {

using fhirbridge::mllp::MllpDecoderLimits;
using fhirbridge::mllp::MllpEvent;
using fhirbridge::mllp::MllpFrameDecoder;

bool Same(const std::vector<MllpEvent>& a, const std::vector<MllpEvent>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != b[i].kind || a[i].content != b[i].content || a[i].size != b[i].size) {
      return false;
    }
  }
  return true;
}

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  MllpDecoderLimits limits;
  limits.max_frame_bytes = 64 + data[0] % 64;  // small, so that the limits are reached
  limits.max_stray_bytes = 16 + data[1] % 32;
  limits.oversized_head_bytes = 8;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  MllpFrameDecoder whole(limits);
  std::vector<MllpEvent> expected;
  whole.Feed(stream, expected);

  MllpFrameDecoder split(limits);
  std::vector<MllpEvent> events;
  std::size_t at = 0;
  while (at < stream.size()) {
    const std::size_t n = 1 + static_cast<unsigned char>(stream[at]) % 7;  // reads of 1..7
    split.Feed(stream.substr(at, n), events);
    Check(split.buffered_bytes() <= limits.max_frame_bytes);
    at += n;
  }
  Check(Same(expected, events));
  Check(whole.stray_bytes() == split.stray_bytes());
  for (const MllpEvent& e : expected) {
    Check(e.content.find('\x0B') == std::string_view::npos);
    Check(e.content.find('\x1C') == std::string_view::npos);
    if (e.kind == MllpEvent::Kind::kFrame) Check(e.content.size() <= limits.max_frame_bytes);
    if (e.kind == MllpEvent::Kind::kOversizedFrame) Check(e.content.size() <= 8);
  }
  return 0;
}
