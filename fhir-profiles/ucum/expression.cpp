#include "expression.h"

#include <charconv>
#include <utility>

namespace fhirbridge::ucum {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return !s.empty();
}

// UCUM §1: c/s expressions use the printable ASCII characters 33..126 only.
bool IsPrintable(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126;
}

// Characters that end a symbol run outside square brackets.
bool EndsSymbol(char c) {
  return c == '.' || c == '/' || c == '(' || c == ')' || c == '{' || c == '}';
}

// Recursive-descent parser over one expression; positions are byte offsets (0-based).
class Parser {
 public:
  Parser(std::string_view text, const EssenceTable& table, const ExpressionLimits& limits)
      : text_(text), table_(table), limits_(limits) {}

  Result<Term> ParseMain();

 private:
  Status ParseTerm(std::size_t depth, bool leading_divide, Term& term);
  Status ParseComponent(std::size_t depth, Component& out);
  Status ParseAnnotation(std::optional<std::string>& out);
  Status ReadSymbolRun(std::string_view& run);
  Status ParseSimple(std::string_view run, std::size_t start, Component& out);
  Status ParseExponent(std::string_view text, std::size_t start, int& out) const;
  Status ResolveUnit(std::string_view symbol, std::size_t start, Component& out) const;
  Status Error(std::size_t pos, std::string what) const;

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  std::string_view text_;
  const EssenceTable& table_;
  const ExpressionLimits& limits_;
  std::size_t pos_ = 0;
};

Status Parser::Error(std::size_t pos, std::string what) const {
  return Status::InvalidArgument(std::move(what) + " at position " + std::to_string(pos));
}

Result<Term> Parser::ParseMain() {
  if (text_.size() > limits_.max_length) {
    return Status::InvalidArgument("unit is longer than " + std::to_string(limits_.max_length) +
                                   " characters");
  }
  Term term;
  if (text_.empty()) return term;  // unity
  bool leading_divide = Peek() == '/';
  if (leading_divide) ++pos_;
  FHIRBRIDGE_RETURN_IF_ERROR(ParseTerm(0, leading_divide, term));
  if (!AtEnd()) {
    if (Peek() == ')') return Error(pos_, "')' without a matching '('");
    return Error(pos_, "expected '.' or '/' before '" + std::string(1, Peek()) + "'");
  }
  return term;
}

Status Parser::ParseTerm(std::size_t depth, bool leading_divide, Term& term) {
  TermPart first{leading_divide, {}};
  FHIRBRIDGE_RETURN_IF_ERROR(ParseComponent(depth, first.component));
  term.push_back(std::move(first));
  while (!AtEnd() && (Peek() == '.' || Peek() == '/')) {
    TermPart part{Peek() == '/', {}};
    ++pos_;
    FHIRBRIDGE_RETURN_IF_ERROR(ParseComponent(depth, part.component));
    term.push_back(std::move(part));
  }
  if (!AtEnd() && Peek() != ')') {
    if (Peek() == '{' || Peek() == '}') return Error(pos_, "misplaced annotation brace");
    return Error(pos_, "expected '.' or '/' before '" + std::string(1, Peek()) + "'");
  }
  return Status::Ok();
}

Status Parser::ParseComponent(std::size_t depth, Component& out) {
  out.position = pos_;
  if (AtEnd()) {
    return Error(pos_, pos_ > 0
                           ? "'" + std::string(1, text_[pos_ - 1]) + "' is not followed by a unit"
                           : "empty unit");
  }
  char c = Peek();
  if (c == '(') {
    if (depth + 1 > limits_.max_depth) {
      return Error(pos_, "parentheses nested deeper than " + std::to_string(limits_.max_depth));
    }
    ++pos_;
    out.kind = Component::Kind::kGroup;
    FHIRBRIDGE_RETURN_IF_ERROR(ParseTerm(depth + 1, false, out.group));
    if (AtEnd()) return Error(out.position, "'(' is not closed");
    ++pos_;  // ParseTerm stops only at the end or at ')'
    return Status::Ok();
  }
  if (c == '{') {
    out.kind = Component::Kind::kAnnotation;
    return ParseAnnotation(out.annotation);
  }
  if (c == '.' || c == '/' || c == ')' || c == '}') {
    return Error(pos_, "expected a unit, found '" + std::string(1, c) + "'");
  }
  std::string_view run;
  FHIRBRIDGE_RETURN_IF_ERROR(ReadSymbolRun(run));
  FHIRBRIDGE_RETURN_IF_ERROR(ParseSimple(run, out.position, out));
  if (!AtEnd() && Peek() == '{') return ParseAnnotation(out.annotation);
  return Status::Ok();
}

Status Parser::ParseAnnotation(std::optional<std::string>& out) {
  std::size_t open = pos_++;
  std::size_t start = pos_;
  while (!AtEnd() && Peek() != '}') {
    if (Peek() == '{') return Error(pos_, "'{' inside an annotation");
    // Do not echo the character: annotations are free text.
    if (!IsPrintable(Peek())) return Error(pos_, "annotation character outside ASCII 33..126");
    ++pos_;
  }
  if (AtEnd()) return Error(open, "'{' is not closed");
  out = std::string(text_.substr(start, pos_ - start));
  ++pos_;
  return Status::Ok();
}

Status Parser::ReadSymbolRun(std::string_view& run) {
  std::size_t start = pos_;
  while (!AtEnd() && !EndsSymbol(Peek())) {
    char c = Peek();
    if (!IsPrintable(c)) {
      return Error(pos_, c == ' ' ? "space not allowed" : "character outside ASCII 33..126");
    }
    if (c == ']') return Error(pos_, "']' without a matching '['");
    if (c == '[') {  // a bracketed part may hold '.', '/' and parentheses: "[m/s2/Hz^(1/2)]"
      std::size_t open = pos_;
      while (!AtEnd() && Peek() != ']') {
        if (!IsPrintable(Peek())) return Error(pos_, "character outside ASCII 33..126");
        ++pos_;
      }
      if (AtEnd()) return Error(open, "'[' is not closed");
    }
    ++pos_;
  }
  run = text_.substr(start, pos_ - start);
  return Status::Ok();
}

Status Parser::ParseSimple(std::string_view run, std::size_t start, Component& out) {
  if (AllDigits(run)) {
    if (run.size() > limits_.max_factor_digits) {
      return Error(start,
                   "number has more than " + std::to_string(limits_.max_factor_digits) + " digits");
    }
    out.kind = Component::Kind::kFactor;
    out.factor_text = std::string(run);
    std::from_chars(run.data(), run.data() + run.size(), out.factor);
    return Status::Ok();
  }
  // A trailing [sign]digits is the exponent: "cm2", "s-1", "10*-3".
  std::size_t digits = run.size();
  while (digits > 0 && IsDigit(run[digits - 1])) --digits;
  std::size_t sign = digits;
  if (digits < run.size() && sign > 0 && (run[sign - 1] == '+' || run[sign - 1] == '-')) --sign;
  std::string_view symbol = run.substr(0, sign);
  if (digits < run.size()) {
    if (symbol.empty()) return Error(start, "exponent without a unit");
    if (AllDigits(symbol)) {
      return Error(start, "number '" + std::string(symbol) +
                              "' cannot take an exponent (powers of ten are written 10*n)");
    }
    FHIRBRIDGE_RETURN_IF_ERROR(ParseExponent(run.substr(sign), start + sign, out.exponent));
  }
  out.kind = Component::Kind::kUnit;
  return ResolveUnit(symbol, start, out);
}

Status Parser::ParseExponent(std::string_view text, std::size_t start, int& out) const {
  std::string_view digits = text;
  bool negative = false;
  if (digits.front() == '+' || digits.front() == '-') {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  long long value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || value > limits_.max_exponent) {
    return Error(start, "exponent beyond +/-" + std::to_string(limits_.max_exponent));
  }
  out = static_cast<int>(negative ? -value : value);
  return Status::Ok();
}

Status Parser::ResolveUnit(std::string_view symbol, std::size_t start, Component& out) const {
  if (auto atom = table_.FindAtom(symbol)) {  // an atom wins over prefix + atom ("Pa", "cd")
    out.atom = *atom;
    return Status::Ok();
  }
  for (std::size_t length : {std::size_t{2}, std::size_t{1}}) {  // "da", "Ki" before "d", "K"
    if (symbol.size() <= length) continue;
    auto prefix = table_.FindPrefix(symbol.substr(0, length));
    auto atom = prefix ? table_.FindAtom(symbol.substr(length)) : std::nullopt;
    if (!atom) continue;
    if (!table_.atoms()[*atom].metric) {  // UCUM §15: only metric units take prefixes
      return Error(start, "prefix '" + std::string(symbol.substr(0, length)) +
                              "' cannot be used with non-metric unit '" +
                              std::string(symbol.substr(length)) + "'");
    }
    out.prefix = prefix;
    out.atom = *atom;
    return Status::Ok();
  }
  std::size_t digits = 0;
  while (digits < symbol.size() && IsDigit(symbol[digits])) ++digits;
  if (digits > 0) {
    return Error(start, "number '" + std::string(symbol.substr(0, digits)) +
                            "' must be followed by '.' or '/' before a unit");
  }
  return Error(start, "unknown unit '" + std::string(symbol) + "'");
}

}  // namespace

Result<Term> ParseExpression(std::string_view text, const EssenceTable& table,
                             const ExpressionLimits& limits) {
  return Parser(text, table, limits).ParseMain();
}

}  // namespace fhirbridge::ucum
