#pragma once

// FHIRPath Decimal: an exact base-10 number that keeps the scale it was written with
// (FHIRPath N1 §System types: "1.0" and "1.00" are equal but print as written). Stored as a
// 128-bit unscaled integer and a count of digits after the point, so 0.1 + 0.2 = 0.3 exactly.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fhirbridge::fhirpath {

/// An exact decimal number: mantissa × 10^-scale.
class Decimal {
 public:
  static constexpr int kMaxScale = 28;      ///< digits kept after the point (like .NET decimal)
  static constexpr int kDivisionScale = 8;  ///< digits a quotient keeps before trailing zeros go

  Decimal() = default;
  static Decimal FromInteger(int64_t value) { return Decimal(value, 0); }
  /// Parses `[-+]digits[.digits][e[-+]digits]` (FHIRPath and JSON number forms).
  static std::optional<Decimal> Parse(std::string_view text);
  /// The shortest decimal that prints like `value` with 15 significant digits (results of sqrt,
  /// ln, exp, power), so floating-point noise does not leak into comparisons.
  static std::optional<Decimal> FromDouble(double value);

  std::string ToString() const;  ///< "1.50", "-3", "0.0"
  double ToDouble() const;
  int scale() const { return scale_; }
  bool IsNegative() const { return mantissa_ < 0; }
  bool IsZero() const { return mantissa_ == 0; }
  /// The integer part when it fits in 64 bits and there is no fraction.
  std::optional<int64_t> ToInteger() const;

  Decimal Negate() const { return Decimal(-mantissa_, scale_); }
  /// A zero that prints as "-0.0": a boundary of a negative number that rounds to zero keeps
  /// its side (FHIRPath lowBoundary, test suite LowBoundaryDecimal15).
  Decimal SignedZero(bool negative) const {
    Decimal d = *this;
    d.negative_zero_ = negative && mantissa_ == 0;
    return d;
  }
  Decimal Abs() const { return mantissa_ < 0 ? Negate() : *this; }
  /// nullopt on overflow of the 38 digits we hold.
  std::optional<Decimal> Add(const Decimal& other) const;
  std::optional<Decimal> Subtract(const Decimal& other) const { return Add(other.Negate()); }
  std::optional<Decimal> Multiply(const Decimal& other) const;
  /// nullopt when `other` is zero (FHIRPath: division by zero gives empty).
  std::optional<Decimal> Divide(const Decimal& other) const;
  /// Truncated division and its remainder (FHIRPath `div` and `mod`).
  std::optional<Decimal> IntegerDivide(const Decimal& other) const;
  std::optional<Decimal> Modulo(const Decimal& other) const;

  enum class Rounding { kHalfAwayFromZero, kTowardZero, kFloor, kCeiling };
  /// The value with `digits` digits after the point (digits >= 0), rounded as asked.
  Decimal Rescale(int digits, Rounding mode) const;
  /// Same value, no trailing zeros after the point.
  Decimal Normalized() const;

  /// -1, 0, 1 by value (1.0 compares equal to 1.00).
  int Compare(const Decimal& other) const;
  /// FHIRPath equivalence: equal after rounding both to the lesser scale.
  bool Equivalent(const Decimal& other) const;

 private:
  Decimal(__int128 mantissa, int scale) : mantissa_(mantissa), scale_(scale) {}
  /// This value with `scale` digits (scale >= scale_); nullopt on overflow.
  std::optional<__int128> Widened(int scale) const;

  __int128 mantissa_ = 0;
  int scale_ = 0;
  bool negative_zero_ = false;
};

}  // namespace fhirbridge::fhirpath
