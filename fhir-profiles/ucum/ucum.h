#pragma once

// UCUM (Unified Code for Units of Measure, https://ucum.org/ucum) for FHIR Quantity checks:
// parse and validate case-sensitive unit codes (c/s), compare units by dimension and convert
// values between commensurable units. Multiplying or dividing quantities: combine the unit
// strings as "(a).(b)" or "(a)/(b)" (write "1" for an empty unit) and the values likewise. The
// atom and prefix tables come from UCUM essence (ucum-essence.xml), compiled into the binary:
// nothing is read at run time.
//
// Include as "fhir-profiles/ucum/ucum.h" and link fhirbridge_ucum (docs/ucum.md).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "fhirbridge/result.h"
#include "fhirbridge/status.h"

namespace fhirbridge::ucum {

/// A value expressed in UCUM base units (m, s, g, rad, K, C, cd) together with the dimension of
/// the unit it came from.
struct Canonical {
  double value;               ///< the value in base units (the unit's full factor applied)
  std::string dimension_key;  ///< identifies the base-unit exponent vector: equal keys mean
                              ///< commensurable units (e.g. "m.s-2"; "" for dimensionless)
};

/// The units UCUM defines, and the operations on unit expressions. Thread-safe: every member is
/// const and the parsed-unit cache locks internally.
class UnitSystem {
 public:
  /// The system built from the embedded UCUM essence tables (built once, on first use).
  static const UnitSystem& Embedded();

  /// OK when `unit` is a valid UCUM c/s expression; otherwise InvalidArgument saying what is
  /// wrong and at which character position (0-based).
  Status Validate(std::string_view unit) const;

  /// `value` in unit `from` expressed in unit `to`. InvalidArgument when either unit is invalid
  /// or when they are not commensurable (different dimensions, arbitrary units, or a special
  /// unit such as Cel used where it cannot be converted).
  Result<double> Convert(double value, std::string_view from, std::string_view to) const;

  /// `value` in `unit` expressed in base units, with the unit's dimension key.
  Result<Canonical> ToCanonical(double value, std::string_view unit) const;

  // ---- Beyond the core API.

  /// True when values in `a` can be converted to `b` (same dimension; arbitrary units only with
  /// themselves; a special unit only on its own). InvalidArgument when either is invalid.
  Result<bool> Commensurable(std::string_view a, std::string_view b) const;

  /// Long human-readable form in the style of the UCUM functional tests, e.g. "(millimeter)",
  /// "(meter ^ 3) * (kilogram ^ -1)", "(unity)" for "". UTF-8.
  Result<std::string> DisplayName(std::string_view unit) const;

  /// A system built from a table in the format of ucum_essence.tsv (tests, other versions).
  /// DataLoss when the table is malformed or a definition does not resolve.
  static Result<std::unique_ptr<UnitSystem>> FromTable(std::string_view tsv);

  /// Longest unit expression accepted (longer ones are InvalidArgument).
  static constexpr std::size_t kMaxUnitLength = 256;
  /// Parsed units kept in the cache; when full it is emptied and refilled.
  static constexpr std::size_t kCacheCapacity = 4096;

  ~UnitSystem();
  UnitSystem(const UnitSystem&) = delete;
  UnitSystem& operator=(const UnitSystem&) = delete;

 private:
  struct Impl;
  explicit UnitSystem(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace fhirbridge::ucum
