// Parse(): MSH-1/MSH-2, then the Scanner (scanner.cpp) indexes the rest. Also the helpers that
// name places in a message for errors.

#include <algorithm>
#include <array>

#include "connectors/hl7v2/charset.h"
#include "connectors/hl7v2/parse.h"

namespace fhirbridge::hl7v2 {
namespace internal {
namespace {

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

/// HL7 v2.5 §2.5.4 leaves the choice of delimiters to the sender; we take printable ASCII that
/// is not a letter or digit (so they can never be mistaken for data or an id, and so that a
/// byte >= 0x80 is always text in the declared charset).
bool IsDelimiter(char c) {
  return c > ' ' && c < 0x7F && !IsUpper(c) && !IsDigit(c) && !(c >= 'a' && c <= 'z');
}

bool IsBlankLine(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t'; });
}

}  // namespace

std::string Printable(std::string_view s, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7F) {
      out.push_back(s[i]);
    } else {
      out += "\\x";
      out += HexByte(b).substr(2);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string DescribeByte(std::string_view raw, char field_separator, std::size_t at,
                         bool with_field) {
  std::vector<std::pair<std::string_view, std::size_t>> seen;  // id -> occurrences so far
  std::size_t ordinal = 0;
  std::size_t line_start = 0;
  while (line_start <= raw.size()) {
    std::size_t line_end = raw.find_first_of("\r\n", line_start);
    if (line_end == std::string_view::npos) line_end = raw.size();
    const std::string_view line = raw.substr(line_start, line_end - line_start);
    if (!IsBlankLine(line)) {
      ++ordinal;
      const std::string_view id = line.substr(0, 3);
      const bool valid = IsSegmentId(id) && (line.size() == 3 || line[3] == field_separator);
      std::size_t occurrence = 0;
      if (valid) {
        auto it =
            std::find_if(seen.begin(), seen.end(), [&](const auto& e) { return e.first == id; });
        if (it == seen.end()) it = seen.insert(seen.end(), {id, 0});
        occurrence = ++it->second;
      }
      if (at >= line_start && at <= line_end) {
        if (!valid) return "segment " + std::to_string(ordinal);
        Location loc;
        loc.segment = id;
        loc.occurrence = occurrence;
        if (with_field) {
          const std::string_view before = line.substr(0, at - line_start);
          loc.field =
              static_cast<std::size_t>(std::count(before.begin(), before.end(), field_separator));
          if (ordinal == 1 && id == "MSH") ++loc.field;  // MSH-1 is the separator itself
        }
        return loc.ToString();
      }
    }
    line_start = line_end + 1;
  }
  return "message";
}

namespace {

/// MSH-1 and MSH-2 (HL7 v2.5 §2.14.9.1-2, v2.7 §2.14.9.2 for the truncation character).
/// Sets `d` and the offset just past MSH-2.
Status ReadDelimiters(std::string_view bytes, Delimiters& d, std::size_t& msh2_end) {
  if (bytes.size() < 3 || bytes.substr(0, 3) != "MSH") {
    return Status::InvalidArgument("message: does not start with MSH");
  }
  if (bytes.size() == 3) {
    return Status::InvalidArgument("MSH-1: missing, the message ends after 'MSH'");
  }
  const char field = bytes[3];
  if (!IsDelimiter(field)) {
    return Status::InvalidArgument(
        "MSH-1: byte " + HexByte(static_cast<unsigned char>(field)) +
        " cannot be the field separator (delimiters are printable ASCII, not letters or digits)");
  }
  std::size_t end = 4;
  while (end < bytes.size() && end < 10 && bytes[end] != field && bytes[end] != '\r' &&
         bytes[end] != '\n') {
    ++end;
  }
  const std::string_view encoding = bytes.substr(4, end - 4);
  if (encoding.size() < 4 || encoding.size() > 5) {
    return Status::InvalidArgument(
        "MSH-2: " +
        std::string(encoding.size() > 5 ? "more than 5" : std::to_string(encoding.size())) +
        " encoding characters; need 4 (component, repetition, escape, subcomponent) or 5 (v2.7 "
        "adds truncation)");
  }
  static constexpr std::array<const char*, 6> kNames = {
      "field separator",  "component separator",    "repetition separator",
      "escape character", "subcomponent separator", "truncation character"};
  const std::array<char, 6> chars = {field,       encoding[0],
                                     encoding[1], encoding[2],
                                     encoding[3], encoding.size() == 5 ? encoding[4] : '\0'};
  const std::size_t count = 1 + encoding.size();
  for (std::size_t i = 1; i < count; ++i) {
    if (!IsDelimiter(chars[i])) {
      return Status::InvalidArgument(
          "MSH-2: byte " + HexByte(static_cast<unsigned char>(chars[i])) + " cannot be the " +
          kNames[i] + " (delimiters are printable ASCII, not letters or digits)");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (chars[i] == chars[j]) {
        return Status::InvalidArgument("MSH-2: the " + std::string(kNames[i]) + " '" +
                                       std::string(1, chars[i]) + "' is also the " + kNames[j]);
      }
    }
  }
  d.field = field;
  d.component = chars[1];
  d.repetition = chars[2];
  d.escape = chars[3];
  d.subcomponent = chars[4];
  d.truncation = chars[5];
  msh2_end = end;
  return Status::Ok();
}

}  // namespace
}  // namespace internal

Result<ParsedMessage> Parse(std::string_view bytes, const ParseLimits& limits) {
  // Offsets are kept as 32 bits: no message may reach 4 GiB whatever the limit says.
  constexpr std::size_t kMaxBytes = 0xFFFFFFFEu;
  const std::size_t max_bytes = std::min(limits.max_message_bytes, kMaxBytes);
  if (bytes.size() > max_bytes) {
    return Status::ResourceExhausted("message has " + std::to_string(bytes.size()) +
                                     " bytes, more than " + std::to_string(max_bytes) +
                                     " (limit max_message_bytes)");
  }
  ParsedMessage msg;
  msg.raw_ = bytes;
  std::size_t msh2_end = 0;
  FHIRBRIDGE_RETURN_IF_ERROR(internal::ReadDelimiters(bytes, msg.delimiters_, msh2_end));
  FHIRBRIDGE_RETURN_IF_ERROR(internal::Scanner(msg, limits).Run(msh2_end));
  return Result<ParsedMessage>(std::move(msg));
}

}  // namespace fhirbridge::hl7v2
