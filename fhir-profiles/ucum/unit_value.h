#pragma once

// The meaning of a parsed UCUM expression: its magnitude in base units and its dimension, and,
// for a special unit (Cel, [degF], dB[SPL], ...), the function that maps its readings.

#include <cstddef>
#include <optional>
#include <vector>

#include "dimension.h"
#include "essence_table.h"
#include "expression.h"
#include "fhirbridge/result.h"
#include "special_function.h"

namespace fhirbridge::ucum {

struct UnitValue {
  double factor = 1;  ///< one unit in base units (a special unit: one unit of its scale)
  Dimension dimension;
  /// Set when the whole expression is one special unit with exponent 1 ("Cel", "dB[SPL]"): its
  /// readings convert through `function` (UCUM §21).
  const SpecialFunction* function = nullptr;
  double special_prefix = 1;  ///< the prefix on that special unit (dB: 0.1)
  /// Set when a special unit appears inside a larger expression ("Cel/h", "(Cel)"): such
  /// expressions are valid but cannot be converted (UCUM §21: special units are not algebraic).
  std::optional<std::size_t> special_in_compound;  ///< index of that atom
};

/// Evaluates expressions against the atom definitions of an essence table.
class UnitEvaluator {
 public:
  /// Resolves every atom's definition down to base units; fails on a cycle or a definition that
  /// does not parse (the table is then corrupt).
  static Result<UnitEvaluator> Build(const EssenceTable& table);

  UnitValue Evaluate(const Term& term) const;

 private:
  struct AtomValue {
    double factor = 1;
    Dimension dimension;
    const SpecialFunction* function = nullptr;  ///< special atoms only
  };
  enum class State : char { kTodo, kInProgress, kDone };

  explicit UnitEvaluator(const EssenceTable& table)
      : table_(&table), atoms_(table.atoms().size()) {}

  Status Compute(std::size_t atom, std::vector<State>& state);
  Status ComputeReferenced(const Term& term, std::vector<State>& state);
  void Accumulate(const Term& term, UnitValue& out, int sign) const;

  const EssenceTable* table_;
  std::vector<AtomValue> atoms_;
};

}  // namespace fhirbridge::ucum
