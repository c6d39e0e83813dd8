// FHIRPath N1 §String manipulation, and the 2.1 string functions the R4 test suite uses
// (trim, split, join, encode, decode, escape, unescape).

#include <cstring>
#include <regex>

#include "fhir-profiles/fhirpath/evaluator.h"

namespace fhirbridge::fhirpath {

namespace {

// FHIRPath regexes run in single-line mode ('.' matches a newline, N1 §matches). std::regex
// (ECMAScript) has no such flag: rewrite '.' outside brackets as [\s\S].
Result<std::regex> Compile(const std::string& pattern) {
  std::string rewritten;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      rewritten += c;
      rewritten += pattern[++i];
      continue;
    }
    if (c == '[') in_class = true;
    if (c == ']') in_class = false;
    if (c == '.' && !in_class) {
      rewritten += "[\\s\\S]";
    } else {
      rewritten += c;
    }
  }
  try {
    return std::regex(rewritten, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    return EvalError("invalid regular expression '" + pattern + "'");
  }
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view in, bool url) {
  const char c62 = url ? '-' : '+';
  const char c63 = url ? '_' : '/';
  auto digit = [&](uint32_t v) { return v == 62 ? c62 : v == 63 ? c63 : kBase64[v]; };
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t rest = in.size() - i;
    uint32_t n = static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << 16;
    if (rest > 1) n |= static_cast<uint32_t>(static_cast<uint8_t>(in[i + 1])) << 8;
    if (rest > 2) n |= static_cast<uint8_t>(in[i + 2]);
    out += digit((n >> 18) & 63);
    out += digit((n >> 12) & 63);
    out += rest > 1 ? digit((n >> 6) & 63) : '=';
    out += rest > 2 ? digit(n & 63) : '=';
  }
  return out;
}

std::optional<std::string> Unbase64(std::string_view in) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v;
    if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else {
      const char* p = std::strchr(kBase64, c);
      if (p == nullptr || c == '\0') return std::nullopt;
      v = static_cast<int>(p - kBase64);
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

std::string Hex(std::string_view in) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : in) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view in) {
  if (in.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < in.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nibble(in[i]), lo = nibble(in[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string EscapeHtml(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string UnescapeHtml(std::string_view in) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'},  {"&lt;", '<'},   {"&gt;", '>'},
      {"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''}};
  std::string out;
  for (size_t i = 0; i < in.size();) {
    bool replaced = false;
    for (const auto& [entity, c] : kEntities) {
      if (in.compare(i, entity.size(), entity) == 0) {
        out += c;
        i += entity.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += in[i++];
  }
  return out;
}

std::string EscapeJson(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string UnescapeJson(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\' || i + 1 == in.size()) {
      out += in[i];
      continue;
    }
    char e = in[++i];
    out += e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
  }
  return out;
}

std::string ReplaceAll(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  if (from.empty()) {
    // 'abc'.replace('', 'x') = 'xaxbxcx' (N1 §replace).
    out += to;
    for (char c : s) {
      out += c;
      out += to;
    }
    return out;
  }
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  out.append(s, pos);
  return out;
}

}  // namespace

Status Evaluator::StringFunction(const AstNode& node, const Collection& input,
                                 const Collection& focus, Collection& out, bool& handled) {
  handled = true;
  switch (node.fn) {
    case Fn::kIndexOf:
    case Fn::kSubstring:
    case Fn::kStartsWith:
    case Fn::kEndsWith:
    case Fn::kContains:
    case Fn::kUpper:
    case Fn::kLower:
    case Fn::kReplace:
    case Fn::kMatches:
    case Fn::kMatchesFull:
    case Fn::kReplaceMatches:
    case Fn::kLength:
    case Fn::kToChars:
    case Fn::kTrim:
    case Fn::kSplit:
    case Fn::kEncode:
    case Fn::kDecode:
    case Fn::kEscape:
    case Fn::kUnescape:
    case Fn::kLastIndexOf:
      break;
    case Fn::kJoin: {
      std::string separator;
      if (node.children.size() > 1) {
        Collection sep;
        FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, sep));
        if (!sep.empty()) separator = ToStringForm(sep[0]).value_or("");
      }
      std::string joined;
      for (size_t i = 0; i < input.size(); ++i) {
        if (i > 0) joined += separator;
        joined += ToStringForm(input[i]).value_or("");
      }
      out.push_back(Item::String(std::move(joined)));
      return Status::Ok();
    }
    default:
      handled = false;
      return Status::Ok();
  }
  auto one = Singleton(input, node.name + "()");
  if (!one.ok()) return one.status();
  if (*one == nullptr) return Status::Ok();
  std::optional<Item> value = ToSystem(**one);
  if (!value || value->kind() != ItemKind::kString) {
    return EvalError(node.name + "() applies to strings, not " + std::string(TypeName(**one)));
  }
  const std::string& s = value->string();
  // The string arguments; any empty argument makes the result empty (N1 §String manipulation).
  std::vector<std::string> args;
  std::vector<int64_t> ints;
  for (size_t i = 1; i < node.children.size(); ++i) {
    Collection a;
    FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, i - 1, focus, a));
    auto arg = Singleton(a, node.name + "() argument");
    if (!arg.ok()) return arg.status();
    if (*arg == nullptr) return Status::Ok();
    std::optional<Item> v = ToSystem(**arg);
    if (!v) return Status::Ok();
    if (v->kind() == ItemKind::kInteger) {
      ints.push_back(v->integer());
      args.emplace_back();
    } else {
      args.push_back(ToStringForm(*v).value_or(""));
      ints.push_back(0);
    }
  }
  switch (node.fn) {
    case Fn::kIndexOf: {
      size_t at = s.find(args[0]);
      out.push_back(Item::Integer(at == std::string::npos ? -1 : static_cast<int64_t>(at)));
      break;
    }
    case Fn::kLastIndexOf: {
      size_t at = s.rfind(args[0]);
      out.push_back(Item::Integer(at == std::string::npos ? -1 : static_cast<int64_t>(at)));
      break;
    }
    case Fn::kSubstring: {
      int64_t start = ints[0];
      if (start < 0 || start >= static_cast<int64_t>(s.size())) break;
      int64_t length = ints.size() > 1 ? ints[1] : static_cast<int64_t>(s.size());
      if (length < 0) length = 0;
      out.push_back(
          Item::String(s.substr(static_cast<size_t>(start), static_cast<size_t>(length))));
      break;
    }
    case Fn::kStartsWith:
      out.push_back(Item::Boolean(s.compare(0, args[0].size(), args[0]) == 0));
      break;
    case Fn::kEndsWith:
      out.push_back(
          Item::Boolean(s.size() >= args[0].size() &&
                        s.compare(s.size() - args[0].size(), args[0].size(), args[0]) == 0));
      break;
    case Fn::kContains:
      out.push_back(Item::Boolean(s.find(args[0]) != std::string::npos));
      break;
    case Fn::kUpper:
    case Fn::kLower: {
      std::string r = s;
      for (char& c : r) {
        c = static_cast<char>(node.fn == Fn::kUpper ? std::toupper(static_cast<unsigned char>(c))
                                                    : std::tolower(static_cast<unsigned char>(c)));
      }
      out.push_back(Item::String(std::move(r)));
      break;
    }
    case Fn::kReplace:
      out.push_back(Item::String(ReplaceAll(s, args[0], args[1])));
      break;
    case Fn::kMatches:
    case Fn::kMatchesFull: {
      auto re = Compile(args[0]);
      if (!re.ok()) return re.status();
      bool m = node.fn == Fn::kMatches ? std::regex_search(s, *re) : std::regex_match(s, *re);
      out.push_back(Item::Boolean(m));
      break;
    }
    case Fn::kReplaceMatches: {
      if (args[0].empty()) {
        out.push_back(Item::String(s));
        break;
      }
      auto re = Compile(args[0]);
      if (!re.ok()) return re.status();
      out.push_back(Item::String(std::regex_replace(s, *re, args[1])));
      break;
    }
    case Fn::kLength:
      out.push_back(Item::Integer(static_cast<int64_t>(s.size())));
      break;
    case Fn::kToChars:
      for (char c : s) out.push_back(Item::String(std::string(1, c)));
      break;
    case Fn::kTrim: {
      size_t b = s.find_first_not_of(" \t\r\n");
      size_t e = s.find_last_not_of(" \t\r\n");
      out.push_back(Item::String(b == std::string::npos ? "" : s.substr(b, e - b + 1)));
      break;
    }
    case Fn::kSplit: {
      const std::string& sep = args[0];
      size_t pos = 0;
      while (!sep.empty()) {
        size_t hit = s.find(sep, pos);
        if (hit == std::string::npos) break;
        out.push_back(Item::String(s.substr(pos, hit - pos)));
        pos = hit + sep.size();
      }
      out.push_back(Item::String(s.substr(pos)));
      break;
    }
    case Fn::kEncode:
    case Fn::kDecode: {
      const std::string& format = args[0];
      std::optional<std::string> r;
      if (format == "hex") {
        r = node.fn == Fn::kEncode ? std::optional<std::string>(Hex(s)) : Unhex(s);
      } else if (format == "base64" || format == "urlbase64") {
        r = node.fn == Fn::kEncode ? std::optional<std::string>(Base64(s, format == "urlbase64"))
                                   : Unbase64(s);
      }
      if (r) out.push_back(Item::String(std::move(*r)));
      break;
    }
    case Fn::kEscape:
    case Fn::kUnescape: {
      const std::string& format = args[0];
      if (format == "html") {
        out.push_back(Item::String(node.fn == Fn::kEscape ? EscapeHtml(s) : UnescapeHtml(s)));
      } else if (format == "json") {
        out.push_back(Item::String(node.fn == Fn::kEscape ? EscapeJson(s) : UnescapeJson(s)));
      }
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

}  // namespace fhirbridge::fhirpath
