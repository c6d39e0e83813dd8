// Element::Text(): HL7 escape sequences and character set conversion to UTF-8.
//
// HL7 v2.5 §2.7: an escape sequence is the escape character, an escape code and its data, and
// the escape character again. §2.7.1-2.7.6 define \F\ \S\ \T\ \R\ \E\ (delimiters),
// \Xhh..\ (hex bytes), \Zxx\ (local), \H\ \N\ (highlighting), \.br\ \.sp\ ... (formatted text, FT)
// and \Cxxyy\ \Mxxyyzz\ (ISO 2022 character set switches); v2.7 adds \P\ (truncation character).

#include <cstring>

#include "connectors/hl7v2/charset.h"
#include "connectors/hl7v2/er7.h"

namespace fhirbridge::hl7v2 {
namespace {

using internal::AppendLatin1AsUtf8;
using internal::HexByte;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool AllHex(std::string_view s) {
  for (char c : s) {
    if (HexValue(c) < 0) return false;
  }
  return true;
}

bool HasHighByte(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

/// Decodes one value. `offset` is where the value starts in the message, for error messages.
class TextDecoder {
 public:
  TextDecoder(const Delimiters& d, Charset charset, std::size_t offset)
      : d_(d), charset_(charset), offset_(offset) {}

  Result<std::string> Decode(std::string_view raw) {
    out_.reserve(raw.size());
    std::size_t i = 0;
    while (i < raw.size()) {
      const std::size_t open = raw.find(d_.escape, i);
      AppendLiteral(raw.substr(i, open == std::string_view::npos ? raw.size() - i : open - i));
      if (open == std::string_view::npos) break;
      const std::size_t close = raw.find(d_.escape, open + 1);
      if (close == std::string_view::npos) {
        return Status::InvalidArgument("unterminated escape sequence at byte " +
                                       std::to_string(offset_ + open));
      }
      FHIRBRIDGE_RETURN_IF_ERROR(ApplyEscape(raw.substr(open, close + 1 - open),
                                             raw.substr(open + 1, close - open - 1),
                                             offset_ + open));
      i = close + 1;
    }
    if (hex_high_ && charset_ == Charset::kUtf8) {
      // The \X bytes were not part of the parse-time check: the result must still be UTF-8.
      const char* reason = nullptr;
      if (internal::FindInvalidUtf8(out_, &reason) != std::string::npos) {
        return Status::InvalidArgument("\\X escape sequences in the value at byte " +
                                       std::to_string(offset_) + " make invalid UTF-8 (" +
                                       std::string(reason) + ")");
      }
    }
    return std::move(out_);
  }

 private:
  /// Bytes of the message as they are, converted to UTF-8.
  void AppendLiteral(std::string_view bytes) {
    if (charset_ == Charset::kLatin1) {
      AppendLatin1AsUtf8(bytes, out_);
    } else {
      out_.append(bytes);  // ASCII and UTF-8 were checked when the message was parsed
    }
  }

  Status ApplyEscape(std::string_view whole, std::string_view code, std::size_t at) {
    if (code.size() == 1) {
      switch (code[0]) {
        case 'F':
          out_.push_back(d_.field);
          return Status::Ok();
        case 'S':
          out_.push_back(d_.component);
          return Status::Ok();
        case 'T':
          out_.push_back(d_.subcomponent);
          return Status::Ok();
        case 'R':
          out_.push_back(d_.repetition);
          return Status::Ok();
        case 'E':
          out_.push_back(d_.escape);
          return Status::Ok();
        case 'P':
          if (d_.truncation == '\0') break;  // not declared: an unknown escape
          out_.push_back(d_.truncation);
          return Status::Ok();
        case 'H':
        case 'N':
          return Status::Ok();  // highlighting has no meaning in plain text
        default:
          break;
      }
    }
    if (!code.empty() && code[0] == 'X') return AppendHex(code.substr(1), at);
    if (IsDroppedEscape(code)) return Status::Ok();
    if (code == ".br") {
      out_.push_back('\n');
      return Status::Ok();
    }
    // Not an escape we know: keep it as sent so that nothing is lost (a sender that did not
    // escape a backslash, or a local convention a person can still read).
    AppendLiteral(whole);
    return Status::Ok();
  }

  /// Formatting commands of FT (§2.7.6), character set switches (§2.7.4-5) and local escapes
  /// (\Z..\): they say how to display or store text, not what it is.
  static bool IsDroppedEscape(std::string_view code) {
    if (code.size() >= 3 && code[0] == '.') {
      const std::string_view command = code.substr(1, 2);
      const std::string_view argument = code.substr(3);
      // .sp/.in/.ti/.sk take an optional signed number; .fi/.nf/.ce take none.
      if (command == "sp" || command == "in" || command == "ti" || command == "sk") {
        return IsNumberArgument(argument);
      }
      return argument.empty() && (command == "fi" || command == "nf" || command == "ce");
    }
    if (code.empty()) return false;
    if (code[0] == 'Z') return true;
    const std::string_view args = code.substr(1);
    if (code[0] == 'C') return args.size() == 4 && AllHex(args);
    if (code[0] == 'M') return (args.size() == 4 || args.size() == 6) && AllHex(args);
    return false;
  }

  /// "", "2", " 2", "+2", "-1": the argument of a formatting command.
  static bool IsNumberArgument(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (s.empty()) return true;
    if (s.front() == '+' || s.front() == '-') s.remove_prefix(1);
    if (s.empty()) return false;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  }

  Status AppendHex(std::string_view digits, std::size_t at) {
    if (digits.size() % 2 != 0) {
      return Status::InvalidArgument("odd number of hex digits in \\X escape sequence at byte " +
                                     std::to_string(at));
    }
    for (std::size_t i = 0; i < digits.size(); i += 2) {
      const int hi = HexValue(digits[i]);
      const int lo = HexValue(digits[i + 1]);
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("invalid hex digit in \\X escape sequence at byte " +
                                       std::to_string(at));
      }
      FHIRBRIDGE_RETURN_IF_ERROR(AppendByte(static_cast<unsigned char>(hi * 16 + lo), at));
    }
    return Status::Ok();
  }

  /// One byte from \Xhh\, in the message's character set.
  Status AppendByte(unsigned char b, std::size_t at) {
    if (b == 0) {
      return Status::InvalidArgument("\\X escape sequence at byte " + std::to_string(at) +
                                     " decodes to a NUL byte");
    }
    if (b >= 0x80 && charset_ == Charset::kAscii) {
      return Status::InvalidArgument("\\X escape sequence at byte " + std::to_string(at) +
                                     " decodes to byte " + HexByte(b) +
                                     ", which is not ASCII (MSH-18 declares ASCII)");
    }
    const char c = static_cast<char>(b);
    if (charset_ == Charset::kLatin1) {
      AppendLatin1AsUtf8(std::string_view(&c, 1), out_);
    } else {
      out_.push_back(c);
      if (b >= 0x80) hex_high_ = true;
    }
    return Status::Ok();
  }

  const Delimiters& d_;
  const Charset charset_;
  const std::size_t offset_;
  std::string out_;
  bool hex_high_ = false;  ///< a \X byte >= 0x80 was added
};

}  // namespace

Result<std::string> Element::Text() const {
  if (raw_.empty() || is_null()) return std::string();
  if (level_ == Level::kLiteral) return std::string(raw_);
  const Charset charset = msg_ != nullptr ? msg_->charset_ : Charset::kAscii;
  const Delimiters& d = delimiters();
  // Fast path: nothing to decode, and the bytes were checked at parse time.
  const bool has_escape = std::memchr(raw_.data(), d.escape, raw_.size()) != nullptr;
  if (!has_escape && (charset != Charset::kLatin1 || !HasHighByte(raw_))) {
    return std::string(raw_);
  }
  const std::size_t offset =
      msg_ != nullptr ? static_cast<std::size_t>(raw_.data() - msg_->raw_.data()) : 0;
  return TextDecoder(d, charset, offset).Decode(raw_);
}

}  // namespace fhirbridge::hl7v2
