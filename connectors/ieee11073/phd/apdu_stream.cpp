#include "connectors/ieee11073/phd/apdu_stream.h"

namespace fhirbridge::phd {

namespace {

constexpr std::size_t kHeaderBytes = 4;

std::size_t AnnouncedSize(const std::string& buffer, std::size_t at) {
  const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(buffer[at + i]); };
  return kHeaderBytes + ((static_cast<std::size_t>(b(2)) << 8) | b(3));
}

}  // namespace

void ApduFramer::Append(std::span<const std::uint8_t> bytes) {
  // Drop what was handed out before growing, so the buffer never exceeds one APDU plus a read.
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 4096) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Result<ApduFrame> ApduFramer::Next() {
  if (pending() < kHeaderBytes) return Status::NotFound("need more bytes");
  const std::size_t size = AnnouncedSize(buffer_, start_);
  if (size > max_apdu_bytes_) {
    return Status::ResourceExhausted(
        "byte " + std::to_string(consumed_) + ": APDU header announces " + std::to_string(size) +
        " bytes, over the limit of " + std::to_string(max_apdu_bytes_));
  }
  if (pending() < size) return Status::NotFound("need more bytes");
  ApduFrame frame;
  frame.offset = consumed_;
  frame.bytes = buffer_.substr(start_, size);
  start_ += size;
  consumed_ += size;
  return frame;
}

std::string ApduFramer::DescribeTruncation() const {
  std::string text = "truncated APDU at byte " + std::to_string(consumed_) + ": ";
  if (pending() < kHeaderBytes)
    return text + std::to_string(pending()) + " byte(s), less than an APDU header";
  return text + "header says " + std::to_string(AnnouncedSize(buffer_, start_)) + " bytes, " +
         std::to_string(pending()) + " present";
}

}  // namespace fhirbridge::phd
