#pragma once

// FHIRPath Date, DateTime and Time values with their precision (N1 §Date/Time literals,
// §Comparison, §Date/Time Arithmetic): a value knows how much of it was given (2015, 2015-02,
// ... to milliseconds) and whether it carries a time-zone offset, so that comparisons across
// precisions give "unknown" (empty) as the specification requires.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fhirbridge::fhirpath {

enum class TemporalKind : uint8_t { kDate, kDateTime, kTime };

/// How much of a date/time is known. Seconds and milliseconds compare as one unit.
enum class Precision : uint8_t { kYear, kMonth, kDay, kHour, kMinute, kSecond, kMillisecond };

/// A calendar unit that date/time arithmetic accepts (FHIRPath N1 §Date/Time Arithmetic).
enum class CalendarUnit : uint8_t { kYear, kMonth, kWeek, kDay, kHour, kMinute, kSecond, kMs };

struct Temporal {
  TemporalKind kind = TemporalKind::kDate;
  Precision precision = Precision::kYear;
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, millisecond = 0;
  int fraction_digits = 0;  ///< digits written after the seconds' point (kept for printing)
  bool has_zone = false;
  bool zone_z = false;   ///< written as "Z" rather than "+00:00"
  int zone_minutes = 0;  ///< offset east of UTC

  /// "2015-02-04", "2015-02", "2015" (the part after '@').
  static std::optional<Temporal> ParseDate(std::string_view text);
  /// "2015-02-04T14:34:28.123+10:00", "2015T", "2015-02-04T14", or a date without 'T'.
  static std::optional<Temporal> ParseDateTime(std::string_view text);
  /// "14:34:28.123", "14" (the part after '@T'); no time-zone offset allowed.
  static std::optional<Temporal> ParseTime(std::string_view text);

  /// The FHIRPath string form without '@' ("2015-02-04T14:34:28+10:00", "14:34").
  std::string ToString() const;
  /// The literal form used by the test suite's outputs: '@' and, for a Time, '@T'.
  std::string ToLiteral() const;

  /// -1/0/1, or nullopt when precision or time zones leave the order unknown. Dates and
  /// DateTimes compare with each other; a Time only with a Time (the caller checks kinds).
  static std::optional<int> Compare(const Temporal& a, const Temporal& b);
  /// FHIRPath equivalence: same precision and equal (unknown counts as not equivalent).
  static bool Equivalent(const Temporal& a, const Temporal& b);

  /// Adds `amount` of `unit` (negative to subtract); nullopt for a unit the kind cannot take
  /// (a Time plus days) or a result outside years 1..9999.
  std::optional<Temporal> Add(int64_t amount, CalendarUnit unit) const;

  /// FHIRPath lowBoundary()/highBoundary(): the earliest/latest value the imprecise value may
  /// stand for, at `digits` of precision (Date 4/6/8, DateTime up to 17, Time 2..9).
  std::optional<Temporal> Boundary(int digits, bool high) const;
  /// FHIRPath precision(): digits of precision (Date 4/6/8, DateTime up to 17, Time up to 9).
  int PrecisionDigits() const;

  /// The current local date-time (millisecond precision, with the machine's offset).
  static Temporal Now();
};

/// A calendar unit named by a FHIRPath keyword (year, months, ...) or a definite-duration UCUM
/// code ('d', 'wk', 'h', 'min', 's', 'ms'); nullopt otherwise ('a' and 'mo' are not calendar
/// durations: N1 §Time-valued quantities).
std::optional<CalendarUnit> ParseCalendarUnit(std::string_view unit);

}  // namespace fhirbridge::fhirpath
