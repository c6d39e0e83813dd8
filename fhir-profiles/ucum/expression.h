#pragma once

// The UCUM case-sensitive (c/s) expression grammar (UCUM §2, "Syntax rules"):
//
//   main-term  ::= "/" term | term
//   term       ::= term "." component | term "/" component | component
//   component  ::= annotatable annotation | annotatable | annotation | factor | "(" term ")"
//   annotatable::= simple-unit exponent | simple-unit
//   simple-unit::= ATOM | PREFIX metric-ATOM
//   exponent   ::= ("+" | "-") digits | digits
//   annotation ::= "{" ASCII 33..126 except braces "}"
//
// Operators associate to the left: "s/m/g" is (s/m)/g. A factor may also carry an annotation
// ("1{cells}"), as the UCUM functional tests and common practice expect.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "essence_table.h"
#include "fhirbridge/result.h"

namespace fhirbridge::ucum {

/// Bounds on what the parser accepts from outside input (each has a test).
struct ExpressionLimits {
  std::size_t max_length = 256;        ///< characters in one expression
  std::size_t max_depth = 16;          ///< nested parentheses
  int max_exponent = 99;               ///< |exponent| of one simple unit
  std::size_t max_factor_digits = 15;  ///< digits of an integer factor (exact in a double)
};

struct TermPart;

/// One component of a term.
struct Component {
  enum class Kind { kUnit, kFactor, kAnnotation, kGroup };
  Kind kind = Kind::kUnit;
  std::size_t position = 0;               ///< 0-based offset in the expression
  std::optional<std::size_t> prefix;      ///< kUnit: index into EssenceTable::prefixes()
  std::size_t atom = 0;                   ///< kUnit: index into EssenceTable::atoms()
  int exponent = 1;                       ///< kUnit
  double factor = 1;                      ///< kFactor
  std::string factor_text;                ///< kFactor: the digits as written
  std::optional<std::string> annotation;  ///< the text between braces, if any
  std::vector<TermPart> group;            ///< kGroup: the parenthesised term
};

/// A component with the operator before it ('.' multiplies, '/' divides; the first part of a
/// term multiplies unless the main term starts with '/').
struct TermPart {
  bool divide = false;
  Component component;
};

using Term = std::vector<TermPart>;

/// Parses a c/s expression. The empty expression is unity (HL7 v3 and the UCUM functional tests
/// treat "" as "1"). Errors are InvalidArgument naming what is wrong and its 0-based position.
Result<Term> ParseExpression(std::string_view text, const EssenceTable& table,
                             const ExpressionLimits& limits = {});

}  // namespace fhirbridge::ucum
