#include "fhir-profiles/fhirpath/lexer.h"

#include <cctype>

namespace fhirbridge::fhirpath {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

Status Error(size_t pos, std::string_view what) {
  return Status::InvalidArgument("syntax error at " + std::to_string(pos) + ": " +
                                 std::string(what));
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      Status skipped = SkipSpaceAndComments();
      if (!skipped.ok()) return skipped;
      if (pos_ >= s_.size()) break;
      Result<Token> token = Next();
      if (!token.ok()) return token.status();
      tokens.push_back(std::move(*token));
    }
    Token end;
    end.position = s_.size();
    tokens.push_back(end);
    return tokens;
  }

 private:
  Status SkipSpaceAndComments() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos_;
      } else if (s_.compare(pos_, 2, "//") == 0) {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (s_.compare(pos_, 2, "/*") == 0) {
        size_t end = s_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return Error(pos_, "unterminated comment");
        pos_ = end + 2;
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  Result<Token> Next() {
    Token t;
    t.position = pos_;
    char c = s_[pos_];
    if (IsIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < s_.size() && IsIdentChar(s_[pos_])) ++pos_;
      t.kind = TokenKind::kIdentifier;
      t.text = std::string(s_.substr(start, pos_ - start));
      return t;
    }
    if (c == '`' || c == '\'') {
      Result<std::string> text = Quoted(c);
      if (!text.ok()) return text.status();
      t.kind = c == '`' ? TokenKind::kDelimitedIdentifier : TokenKind::kString;
      t.text = std::move(*text);
      return t;
    }
    if (IsDigit(c)) return Number(t);
    if (c == '@') return DateTime(t);
    if (c == '$') {
      ++pos_;
      size_t start = pos_;
      while (pos_ < s_.size() && IsIdentChar(s_[pos_])) ++pos_;
      t.kind = TokenKind::kDollar;
      t.text = std::string(s_.substr(start, pos_ - start));
      if (t.text != "this" && t.text != "index" && t.text != "total") {
        return Error(t.position, "unknown $ variable");
      }
      return t;
    }
    if (c == '%') {
      ++pos_;
      t.kind = TokenKind::kPercent;
      if (pos_ < s_.size() && (s_[pos_] == '`' || s_[pos_] == '\'')) {
        Result<std::string> text = Quoted(s_[pos_]);
        if (!text.ok()) return text.status();
        t.text = std::move(*text);
        return t;
      }
      size_t start = pos_;
      while (pos_ < s_.size() && (IsIdentChar(s_[pos_]) || s_[pos_] == '-')) ++pos_;
      if (pos_ == start) return Error(t.position, "'%' without a name");
      t.text = std::string(s_.substr(start, pos_ - start));
      return t;
    }
    static constexpr std::string_view kTwo[] = {"<=", ">=", "!=", "!~"};
    for (std::string_view op : kTwo) {
      if (s_.compare(pos_, 2, op) == 0) {
        pos_ += 2;
        t.kind = TokenKind::kSymbol;
        t.text = std::string(op);
        return t;
      }
    }
    if (std::string_view("()[]{}.,+-*/&|=~<>").find(c) != std::string_view::npos) {
      ++pos_;
      t.kind = TokenKind::kSymbol;
      t.text = std::string(1, c);
      return t;
    }
    return Error(pos_, "unexpected character");
  }

  Result<std::string> Quoted(char quote) {
    size_t start = pos_++;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      char c = s_[pos_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) break;
      char e = s_[pos_++];
      switch (e) {
        case '\'':
        case '"':
        case '`':
        case '\\':
        case '/':
          out += e;
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (pos_ + 4 > s_.size()) return Error(pos_, "bad \\u escape");
          uint32_t cp = 0;
          for (int i = 0; i < 4; ++i) {
            char h = s_[pos_++];
            if (!std::isxdigit(static_cast<unsigned char>(h))) return Error(pos_, "bad \\u escape");
            cp = cp * 16 +
                 static_cast<uint32_t>(IsDigit(h) ? h - '0' : (std::tolower(h) - 'a' + 10));
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Error(pos_ - 1, "unknown escape");
      }
    }
    if (pos_ >= s_.size()) return Error(start, "unterminated string");
    ++pos_;
    return out;
  }

  Result<Token> Number(Token& t) {
    size_t start = pos_;
    while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && IsDigit(s_[pos_ + 1])) {
      ++pos_;
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    t.kind = TokenKind::kNumber;
    t.text = std::string(s_.substr(start, pos_ - start));
    if (pos_ < s_.size() && s_[pos_] == 'L') {
      t.long_suffix = true;
      ++pos_;
    }
    return t;
  }

  bool DigitsAt(size_t at, size_t n) const {
    if (at + n > s_.size()) return false;
    for (size_t i = 0; i < n; ++i) {
      if (!IsDigit(s_[at + i])) return false;
    }
    return true;
  }

  // hh[:mm[:ss[.fff]]]
  void TimePart() {
    if (!DigitsAt(pos_, 2)) return;
    pos_ += 2;
    if (s_.compare(pos_, 1, ":") == 0 && DigitsAt(pos_ + 1, 2)) {
      pos_ += 3;
      if (s_.compare(pos_, 1, ":") == 0 && DigitsAt(pos_ + 1, 2)) {
        pos_ += 3;
        if (s_.compare(pos_, 1, ".") == 0 && DigitsAt(pos_ + 1, 1)) {
          ++pos_;
          while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
        }
      }
    }
  }

  bool ZoneAt(size_t at) const {
    if (at >= s_.size()) return false;
    if (s_[at] == 'Z') return true;
    return (s_[at] == '+' || s_[at] == '-') && DigitsAt(at + 1, 2) &&
           s_.compare(at + 3, 1, ":") == 0 && DigitsAt(at + 4, 2);
  }

  Result<Token> DateTime(Token& t) {
    ++pos_;
    if (pos_ < s_.size() && s_[pos_] == 'T') {
      size_t start = ++pos_;
      TimePart();
      if (pos_ == start) return Error(t.position, "bad time literal");
      if (ZoneAt(pos_)) return Error(pos_, "a time literal has no time zone");
      t.kind = TokenKind::kTime;
      t.text = std::string(s_.substr(start, pos_ - start));
      return t;
    }
    size_t start = pos_;
    if (!DigitsAt(pos_, 4)) return Error(t.position, "bad date literal");
    pos_ += 4;
    if (s_.compare(pos_, 1, "-") == 0 && DigitsAt(pos_ + 1, 2)) {
      pos_ += 3;
      if (s_.compare(pos_, 1, "-") == 0 && DigitsAt(pos_ + 1, 2)) pos_ += 3;
    }
    if (pos_ < s_.size() && s_[pos_] == 'T') {
      ++pos_;
      size_t time_start = pos_;
      TimePart();
      if (pos_ > time_start && ZoneAt(pos_)) pos_ += s_[pos_] == 'Z' ? 1 : 6;
    }
    t.kind = TokenKind::kDate;
    t.text = std::string(s_.substr(start, pos_ - start));
    return t;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view text) {
  if (text.size() > kMaxExpressionBytes) {
    return Status::ResourceExhausted("expression longer than " +
                                     std::to_string(kMaxExpressionBytes) + " bytes");
  }
  return Lexer(text).Run();
}

}  // namespace fhirbridge::fhirpath
