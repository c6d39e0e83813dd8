#pragma once

// What a unit measures: the exponents of the seven UCUM base units, plus one pseudo-base per
// arbitrary unit (UCUM §24: arbitrary units are not commensurable with any other unit).

#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "essence_table.h"

namespace fhirbridge::ucum {

class Dimension {
 public:
  Dimension() = default;                                 ///< dimensionless
  static Dimension OfBase(std::size_t base_index);       ///< 0..6, essence order
  static Dimension OfArbitrary(std::size_t atom_index);  ///< an arbitrary atom's own dimension

  /// this += other × times (multiplying units adds exponents).
  void Add(const Dimension& other, int times);

  bool HasArbitrary() const { return !arbitrary_.empty(); }
  bool operator==(const Dimension& other) const = default;

  /// "m.s-2" style: base units in essence order (m, s, g, rad, K, C, cd), then arbitrary units
  /// in table order; exponent 1 is not written; "" for dimensionless.
  std::string Key(const EssenceTable& table) const;

 private:
  std::array<int, 7> base_{};
  std::vector<std::pair<std::size_t, int>> arbitrary_;  ///< (atom, exponent), sorted, non-zero
};

}  // namespace fhirbridge::ucum
