#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/result.h"

namespace fhirbridge {

/// A date in the proleptic Gregorian calendar.
struct CivilDate {
  int year = 1970;
  unsigned month = 1;  ///< 1..12
  unsigned day = 1;    ///< 1..31
};

/// Days from 1970-01-01 to y-m-d (negative before it). `m` is 1..12 and `d` 1..31; a day past
/// the end of the month simply runs on into the next one (2015-02-30 == 2015-03-02).
std::int64_t DaysFromCivil(int y, unsigned m, unsigned d);

/// The inverse of DaysFromCivil. Defined for |days| < 2^38 (years well inside `int`).
CivilDate CivilFromDays(std::int64_t days);

/// Gregorian leap year rule: every 4th year, except centuries not divisible by 400.
bool IsLeapYear(int y);

/// 28..31; 0 when `m` is not 1..12.
unsigned DaysInMonth(int y, unsigned m);

/// An IANA time zone (or a fixed offset) read from a compiled TZif file (RFC 8536), because
/// GCC 12's libstdc++ has no std::chrono::tzdb. Immutable once built, so one instance can be
/// shared by all threads.
class TimeZone {
 public:
  /// Loads `name` (e.g. "America/New_York", "UTC") from `zoneinfo_dir`. Rejects names with "..",
  /// absolute paths, or characters outside [A-Za-z0-9_+\-/] (InvalidArgument) so a configuration
  /// value can never name a file outside the directory; NotFound when no such zone;
  /// InvalidArgument when the file is not valid TZif.
  static Result<std::shared_ptr<const TimeZone>> Load(
      std::string_view name, const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

  /// Builds from TZif bytes (for tests and embedded zones). Any version; for v2+ files the
  /// 64-bit block and the footer are used.
  static Result<std::shared_ptr<const TimeZone>> FromTzif(std::string_view name,
                                                          std::string_view bytes);

  /// A fixed offset zone, e.g. for tests: FixedOffset("+05:00", 5*3600).
  static std::shared_ptr<const TimeZone> FixedOffset(std::string name, int offset_seconds);

  const std::string& name() const { return name_; }

  /// UTC offset in seconds (east positive) in force at the UTC instant.
  int OffsetAt(std::int64_t utc_seconds) const;

  /// Offsets that make a wall-clock time a real instant.
  struct LocalResolution {
    int count = 0;            ///< 0 in a spring-forward gap, 2 in a fall-back overlap, else 1
    int offsets[2] = {0, 0};  ///< earlier instant (larger offset) first
  };

  /// Resolves `local_seconds` (a wall-clock time counted as if it were UTC seconds since the
  /// epoch): none in a spring-forward gap, two (earlier offset first, i.e. the first occurrence)
  /// in a fall-back overlap, else one.
  LocalResolution Resolve(std::int64_t local_seconds) const;

  /// The rule of a POSIX TZ string (the TZif footer) for instants after the last transition.
  /// Public only so that the parser in timezone.cpp can fill it; not part of the API.
  struct PosixDate {
    enum class Kind { kJulianNoLeap, kZeroBased, kMonthWeekDay };  ///< "Jn", "n", "Mm.w.d"
    Kind kind = Kind::kMonthWeekDay;
    int day = 0;      ///< n for Jn/n forms; d (0 = Sunday) for Mm.w.d
    int month = 0;    ///< Mm.w.d only
    int week = 0;     ///< Mm.w.d only, 1..5 (5 = last)
    int time = 7200;  ///< seconds after local midnight, -167h..167h (RFC 8536 section 3.3.1)
  };
  struct PosixRule {
    int std_offset = 0;  ///< seconds east of UTC (POSIX writes it west, we store east)
    bool has_dst = false;
    int dst_offset = 0;
    PosixDate start;  ///< in standard time
    PosixDate end;    ///< in daylight time
  };

 private:
  TimeZone() = default;

  int FooterOffset(std::int64_t utc_seconds) const;
  void CollectCandidateOffsets();

  std::string name_;
  std::vector<std::int64_t> transitions_;       ///< strictly ascending UTC instants
  std::vector<std::uint8_t> transition_types_;  ///< index into type_offsets_, per transition
  std::vector<int> type_offsets_;               ///< local time types; never empty
  bool has_footer_ = false;
  PosixRule footer_;
  std::vector<int> candidate_offsets_;  ///< every offset the zone can have, descending
};

}  // namespace fhirbridge
