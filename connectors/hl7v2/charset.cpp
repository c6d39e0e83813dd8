#include "connectors/hl7v2/charset.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace fhirbridge::hl7v2::internal {
namespace {

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

}  // namespace

std::optional<Charset> CharsetFromMsh18(std::string_view value) {
  struct Name {
    std::string_view text;
    Charset charset;
  };
  static constexpr std::array<Name, 6> kNames{{
      {"", Charset::kAscii},
      {"ASCII", Charset::kAscii},
      {"8859/1", Charset::kLatin1},
      {"UNICODE UTF-8", Charset::kUtf8},
      {"UTF-8", Charset::kUtf8},
      {"UNICODE UTF8", Charset::kUtf8},
  }};
  for (const Name& name : kNames) {
    if (EqualsIgnoringAsciiCase(value, name.text)) return name.charset;
  }
  return std::nullopt;
}

std::string_view CharsetName(Charset charset) {
  switch (charset) {
    case Charset::kAscii:
      return "ASCII";
    case Charset::kLatin1:
      return "8859/1";
    case Charset::kUtf8:
      return "UNICODE UTF-8";
  }
  return "?";
}

Utf8Check CheckUtf8Sequence(const unsigned char* s, std::size_t avail) {
  const unsigned char lead = s[0];
  if (lead < 0x80) return {1, nullptr};
  if (lead < 0xC0) return {0, "continuation byte without a lead byte"};
  if (lead < 0xC2) return {0, "overlong encoding"};
  if (lead > 0xF4) return {0, "byte never used in UTF-8"};
  const std::size_t length = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  // Unicode table 3-7: the second byte's range depends on the lead byte.
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  const char* reason = "missing continuation byte";
  if (lead == 0xE0) {
    low = 0xA0;
    reason = "overlong encoding";
  } else if (lead == 0xED) {
    high = 0x9F;
    reason = "surrogate code point";
  } else if (lead == 0xF0) {
    low = 0x90;
    reason = "overlong encoding";
  } else if (lead == 0xF4) {
    high = 0x8F;
    reason = "code point above U+10FFFF";
  }
  const std::size_t present = avail < length ? avail : length;
  for (std::size_t i = 1; i < present; ++i) {
    if (!IsContinuation(s[i])) return {0, "missing continuation byte"};
    if (i == 1 && (s[1] < low || s[1] > high)) return {0, reason};
  }
  if (present < length) return {0, "truncated sequence"};
  return {length, nullptr};
}

std::size_t FindInvalidUtf8(std::string_view text, const char** reason) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t i = 0;
  while (i < text.size()) {
    // Skip ASCII 8 bytes at a time: most text is.
    std::uint64_t word;
    if (text.size() - i >= 8 &&
        (std::memcpy(&word, bytes + i, 8), word & 0x8080808080808080u) == 0) {
      i += 8;
      continue;
    }
    if (bytes[i] < 0x80) {
      ++i;
      continue;
    }
    const Utf8Check check = CheckUtf8Sequence(bytes + i, text.size() - i);
    if (check.length == 0) {
      if (reason != nullptr) *reason = check.reason;
      return i;
    }
    i += check.length;
  }
  return std::string_view::npos;
}

void AppendLatin1AsUtf8(std::string_view latin1, std::string& out) {
  for (char c : latin1) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out.push_back(c);
    } else {
      out.push_back(static_cast<char>(0xC0 | (b >> 6)));
      out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
}

std::string HexByte(unsigned char byte) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out = "0x";
  out.push_back(kDigits[byte >> 4]);
  out.push_back(kDigits[byte & 0x0F]);
  return out;
}

}  // namespace fhirbridge::hl7v2::internal
