#pragma once

// Static checks of a parsed expression against the FHIR type model (FHIRPath N1 §Type safety
// and strict evaluation): a path step that names no element of any type the input can have is
// an error before any data is seen.

#include "fhir-profiles/fhirpath/ast.h"
#include "fhir-profiles/fhirpath/expression.h"
#include "fhirbridge/status.h"

namespace fhirbridge::fhirpath {

/// OK, or InvalidArgument naming the step and the type(s) that lack it.
Status CheckAst(const AstNode& root, const ParseOptions& options);

}  // namespace fhirbridge::fhirpath
