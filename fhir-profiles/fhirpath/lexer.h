#pragma once

// FHIRPath N1 lexical grammar: identifiers (plain and `delimited`), string, number, date/time
// and quantity-unit tokens, $this/$index/$total, %variables, operators, // and /* */ comments.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/result.h"

namespace fhirbridge::fhirpath {

enum class TokenKind : uint8_t {
  kEnd,
  kIdentifier,  ///< text = the name (backticks removed, escapes applied)
  kDelimitedIdentifier,
  kString,   ///< text = the unescaped value
  kNumber,   ///< text = digits as written ("12", "1.50"); long_suffix for 12L
  kDate,     ///< text after '@' (a Date or a DateTime)
  kTime,     ///< text after '@T'
  kDollar,   ///< $this, $index, $total: text = "this" ...
  kPercent,  ///< %name or %`name`: text = name
  kSymbol,   ///< operators and punctuation: text = the symbol
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  size_t position = 0;  ///< byte offset in the expression
  bool long_suffix = false;
};

/// Limits on what the lexer accepts from outside.
inline constexpr size_t kMaxExpressionBytes = 64 * 1024;

/// Splits `text` into tokens ending with kEnd; InvalidArgument with the position for an
/// unterminated string or comment, a bad escape or date literal, or an unknown character.
Result<std::vector<Token>> Tokenize(std::string_view text);

}  // namespace fhirbridge::fhirpath
