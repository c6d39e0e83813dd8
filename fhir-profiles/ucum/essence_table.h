#pragma once

// The UCUM essence facts fhirbridge uses (prefixes, base units, defined units), read from the
// committed table ucum_essence.tsv (scripts/build-ucum-table.py) that is embedded in the library.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fhirbridge/result.h"

namespace fhirbridge::ucum {

/// Hash for maps keyed by std::string that are searched with std::string_view (no copy).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

/// A UCUM prefix (e.g. "k" = 1e3): allowed only before metric atoms (UCUM §15).
struct Prefix {
  std::string code;  ///< case-sensitive symbol, e.g. "da"
  double value = 1;  ///< the factor it multiplies by
  std::string name;  ///< e.g. "deka"
};

/// A UCUM atom: a base unit or a unit defined in terms of others.
struct Atom {
  std::string code;        ///< case-sensitive symbol, e.g. "[in_i]"
  bool base = false;       ///< one of the seven base units (m, s, g, rad, K, C, cd)
  bool metric = false;     ///< may take a prefix
  bool special = false;    ///< non-ratio scale (Cel, [degF], B[SPL], [pH], ...)
  bool arbitrary = false;  ///< arbitrary unit ([iU], [arb'U], ...): commensurable only with itself
  double value = 1;        ///< factor of the definition (special: of the function's scale)
  std::string unit;        ///< defining expression (special: the function's scale unit)
  std::string function;    ///< special units: the conversion function's name
  std::string name;        ///< first full name, e.g. "meter"
  std::string print_symbol;
  std::string property;  ///< the kind of quantity, e.g. "length"
};

/// All prefixes and atoms with lookups by code.
class EssenceTable {
 public:
  /// Reads the tab-separated table (header line first; '#' lines are comments).
  static Result<EssenceTable> Parse(std::string_view tsv);

  /// The text of the table compiled into the library (ucum_essence.tsv).
  static std::string_view EmbeddedText();

  const std::vector<Prefix>& prefixes() const { return prefixes_; }
  const std::vector<Atom>& atoms() const { return atoms_; }

  /// Index of the atom with this exact code, if any.
  std::optional<std::size_t> FindAtom(std::string_view code) const;
  /// Index of the prefix with this exact code, if any.
  std::optional<std::size_t> FindPrefix(std::string_view code) const;
  /// Position of a base unit among the base units (0..6, essence order), if `atom` is one.
  std::optional<std::size_t> BaseIndex(std::size_t atom) const;
  /// The base units' atom indexes, in essence order (m, s, g, rad, K, C, cd).
  const std::vector<std::size_t>& base_atoms() const { return base_atoms_; }

 private:
  Status AddRow(const std::vector<std::string_view>& fields, std::size_t line);

  std::vector<Prefix> prefixes_;
  std::vector<Atom> atoms_;
  std::vector<std::size_t> base_atoms_;
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> atom_index_;
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> prefix_index_;
};

}  // namespace fhirbridge::ucum
