#include "fhirbridge/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace fhirbridge {

namespace {

// 1 for bytes that cannot appear unescaped inside a JSON string.
constexpr bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void AppendEscaped(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(esc, 6);
    }
  }
}

}  // namespace

// True when one of the 8 bytes of `w` is a control character, '"' or '\\' (SWAR: a byte is
// found by the usual "has zero byte" trick on w, w ^ '"' repeated, and w ^ '\\' repeated).
static bool WordNeedsEscape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return (below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) != 0;
}

void AppendJsonString(std::string& out, std::string_view text) {
  // Most strings need no escaping: check 8 bytes at a time and copy them in one append.
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    if (WordNeedsEscape(w)) break;
  }
  for (; i < text.size() && !NeedsEscape(static_cast<unsigned char>(text[i])); ++i) {
  }
  if (i == text.size()) {
    out += '"';
    out.append(text.data(), text.size());
    out += '"';
    return;
  }
  out += '"';
  std::size_t run_start = 0;
  for (i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!NeedsEscape(c)) continue;
    out.append(text.data() + run_start, i - run_start);
    AppendEscaped(out, c);
    run_start = i + 1;
  }
  out.append(text.data() + run_start, text.size() - run_start);
  out += '"';
}

void JsonAppender::Grow(std::size_t n) {
  const std::size_t written = static_cast<std::size_t>(at_ - out_.data());
  // 2 KB at a time: resize() writes zeros over what it adds (std::string doubles its
  // capacity by itself, so reallocations stay amortised).
  constexpr std::size_t kStep = 2048;
  out_.resize(written + std::max(n, kStep));
  at_ = out_.data() + written;
  end_ = out_.data() + out_.size();
}

void JsonAppender::PutJsonString(std::string_view text) {
  // At most 6 bytes (\u00XX) per byte of text, and the quotes.
  Reserve(6 * text.size() + 2);
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    if (WordNeedsEscape(w)) break;
  }
  for (; i < text.size() && !NeedsEscape(static_cast<unsigned char>(text[i])); ++i) {
  }
  if (i == text.size()) {
    Put('"');
    Put(text);
    Put('"');
    return;
  }
  // Rare: escape into a scratch string (room for the result is reserved above).
  std::string escaped;
  AppendJsonString(escaped, text);
  Put(escaped);
}

void JsonWriter::Int(std::int64_t value) {
  Separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // 24 bytes always hold an int64
  out_.append(buf, end);
}

}  // namespace fhirbridge
