#pragma once

// FHIRPath N1 grammar → AST (precedence from the grammar, lowest first: implies; or xor; and;
// in contains; = ~ != !~; < > <= >=; |; is as; + - &; * / div mod; unary + -; . and []).

#include <memory>
#include <string_view>

#include "fhir-profiles/fhirpath/ast.h"
#include "fhirbridge/result.h"

namespace fhirbridge::fhirpath {

/// Limits on parsed expressions (input from StructureDefinitions and users).
inline constexpr int kMaxNestingDepth = 200;

/// Parses `text`; InvalidArgument ("syntax error at N: ...") for anything the grammar rejects,
/// an unknown function or a wrong number of arguments, or an unknown type name.
Result<std::unique_ptr<AstNode>> ParseAst(std::string_view text);

}  // namespace fhirbridge::fhirpath
