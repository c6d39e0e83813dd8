#pragma once

// Quantity comparison and arithmetic (FHIRPath N1 §Quantity, §Comparison, §Equivalence).
// Units are compared through a UnitCatalog: the project's UCUM library when it is built in
// (FHIRBRIDGE_FHIRPATH_HAVE_UCUM), otherwise a built-in catalogue of the common UCUM units
// (metric prefixes on m, g, s, L, mol; time; US customary mass and length; %).

#include <optional>
#include <string>
#include <string_view>

#include "fhir-profiles/fhirpath/value.h"

namespace fhirbridge::fhirpath {

/// A value in base units and the key of its dimension (equal keys: commensurable units).
struct CanonicalValue {
  double value = 0;
  std::string dimension;
};

/// Converts UCUM unit expressions to base units.
class UnitCatalog {
 public:
  virtual ~UnitCatalog() = default;
  /// nullopt when `unit` is not a unit this catalogue knows.
  virtual std::optional<CanonicalValue> ToCanonical(double value, std::string_view unit) const = 0;
};

/// The catalogue FHIRPath uses (UCUM library or the built-in one).
const UnitCatalog& DefaultUnitCatalog();
/// The built-in catalogue (exposed for tests).
const UnitCatalog& BuiltinUnitCatalog();

/// -1/0/1, or nullopt when the units are not comparable (N1: then = and < give empty).
std::optional<int> CompareQuantities(const Quantity& a, const Quantity& b);
/// N1 §Equivalence: values converted to one unit, then rounded to the lesser precision.
bool QuantitiesEquivalent(const Quantity& a, const Quantity& b);
/// True when the units are commensurable (comparable()).
bool QuantitiesComparable(const Quantity& a, const Quantity& b);

/// a * b and a / b with the product/quotient unit; nullopt on overflow or division by zero.
std::optional<Quantity> MultiplyQuantities(const Quantity& a, const Quantity& b, bool divide);
/// a ± b: b is converted to a's unit; nullopt when not commensurable.
std::optional<Quantity> AddQuantities(const Quantity& a, const Quantity& b, bool subtract);

/// Parses "4 'mg'", "4 days", "4" (unit '1') as written by toQuantity() inputs.
std::optional<Quantity> ParseQuantity(std::string_view text);

}  // namespace fhirbridge::fhirpath
