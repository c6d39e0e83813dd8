#pragma once

// Human-readable long form of a UCUM expression, in the style of the UCUM functional tests:
// "(meter ^ 3) * (kilogram ^ -1)", "4 * (the number pi) / (ampère ^ 2)", "(unity)".

#include <string>

#include "essence_table.h"
#include "expression.h"

namespace fhirbridge::ucum {

/// The display name of a parsed expression (UTF-8: essence names such as "ampère").
std::string DisplayName(const Term& term, const EssenceTable& table);

}  // namespace fhirbridge::ucum
