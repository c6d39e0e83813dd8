// The Scanner's checks and errors: segment ids, limits, MSH-18 and the bytes against it.
// Off the hot path: only reached for a new segment, a byte >= 0x80, or a failure.

#include <algorithm>

#include "connectors/hl7v2/charset.h"
#include "connectors/hl7v2/parse.h"

namespace fhirbridge::hl7v2::internal {

bool Scanner::Fail(Status status) {
  error_ = std::move(status);
  return false;
}

bool Scanner::FieldLimitError() {
  // Only the segment is named, so any of its bytes will do.
  return Fail(Status::ResourceExhausted(
      DescribeByte(msg_.raw_, field_separator_, seg_start_, false) + ": segment has more than " +
      std::to_string(limits_.max_fields_per_segment) + " fields (limit max_fields_per_segment)"));
}

bool Scanner::CheckSegmentId(std::size_t start, std::size_t end) {
  const std::string_view line(data_ + start, end - start);
  const std::size_t ordinal = segment_count_ + 1;
  // HL7 v2.5 §2.5.3: three characters, then the field separator (or nothing).
  if (line.size() < 3 || !IsSegmentId(line.substr(0, 3)) ||
      (line.size() > 3 && line[3] != field_separator_)) {
    // Show at most 4 bytes: enough to recognise a typo, too few to carry a value.
    const std::string_view candidate = line.substr(0, line.find(field_separator_));
    return Fail(Status::InvalidArgument("segment " + std::to_string(ordinal) + ": '" +
                                        Printable(candidate, 4) + "' is not a segment id (byte " +
                                        std::to_string(start) + ")"));
  }
  if (ordinal > 1 && line.substr(0, 3) == "MSH") {
    return Fail(Status::InvalidArgument(
        "segment " + std::to_string(ordinal) + ": a second MSH (byte " + std::to_string(start) +
        "); one message per Parse, split files with SplitMessages"));
  }
  return true;
}

std::string_view Scanner::Msh18() const {
  // Read from the bytes: the field index is not there during Parse (see ParsedMessage). MSH-1
  // is the separator at byte 3, so MSH-18 follows the 17th separator.
  const auto& msh = msg_.segments_.front();
  const std::string_view raw = msg_.raw_;
  const std::size_t at = FindSeparator(raw, msh.begin, msh.end, field_separator_, 17);
  if (at == std::string_view::npos) return {};
  std::size_t end = FindSeparator(raw, at + 1, msh.end, field_separator_, 1);
  if (end == std::string_view::npos) end = msh.end;
  const std::string_view field = raw.substr(at + 1, end - at - 1);
  // HL7 v2.5 §2.14.9.18: only the first repetition names the default character set; the
  // others are alternates for ISO 2022 switching, which we do not do.
  return field.substr(0, field.find(repetition_separator_));
}

bool Scanner::ReadCharset() {
  const std::string_view value = Msh18();
  const auto charset = CharsetFromMsh18(value);
  if (!charset) {
    return Fail(Status::InvalidArgument("MSH-18: character set '" + Printable(value, 24) +
                                        "' is not supported (ASCII, 8859/1, UNICODE UTF-8)"));
  }
  msg_.charset_ = *charset;
  return true;
}

std::string Scanner::CharsetReason() const {
  if (Msh18().empty()) return "MSH-18 is empty, which means ASCII";
  return "MSH-18 declares " + std::string(CharsetName(msg_.charset_));
}

bool Scanner::ByteError(std::size_t at, std::string_view reason) {
  return Fail(Status::InvalidArgument(DescribeByte(msg_.raw_, field_separator_, at) + ": byte " +
                                      HexByte(static_cast<unsigned char>(data_[at])) + " " +
                                      std::string(reason)));
}

bool Scanner::CheckHighBytes(std::size_t block, std::uint32_t mask) {
  const std::size_t first = block + static_cast<std::size_t>(__builtin_ctz(mask));
  if (msg_.charset_ == Charset::kAscii) {
    return ByteError(first, "is not valid ASCII (" + CharsetReason() + ")");
  }
  // UTF-8: check whole sequences from the first byte >= 0x80 that an earlier block did not
  // already cover (a sequence may run into the next block).
  const std::size_t stop = std::min(block + kScanBlock, size_);
  std::size_t i = std::max(first, utf8_resume_);
  const auto* bytes = reinterpret_cast<const unsigned char*>(data_);
  while (i < stop) {
    if (bytes[i] < 0x80) {
      ++i;
      continue;
    }
    const Utf8Check check = CheckUtf8Sequence(bytes + i, size_ - i);
    if (check.length == 0) {
      return ByteError(
          i, "is not valid UTF-8 (" + std::string(check.reason) + "; " + CharsetReason() + ")");
    }
    i += check.length;
  }
  utf8_resume_ = i;
  return true;
}

bool Scanner::CheckRange(std::size_t begin, std::size_t end) {
  if (msg_.charset_ == Charset::kLatin1) return true;
  const std::string_view bytes(data_ + begin, end - begin);
  if (msg_.charset_ == Charset::kAscii) {
    const auto high = std::find_if(bytes.begin(), bytes.end(),
                                   [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    if (high == bytes.end()) return true;
    return ByteError(begin + static_cast<std::size_t>(high - bytes.begin()),
                     "is not valid ASCII (" + CharsetReason() + ")");
  }
  const char* reason = nullptr;
  const std::size_t bad = FindInvalidUtf8(bytes, &reason);
  if (bad == std::string_view::npos) return true;
  return ByteError(begin + bad,
                   "is not valid UTF-8 (" + std::string(reason) + "; " + CharsetReason() + ")");
}

}  // namespace fhirbridge::hl7v2::internal
