#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fhirbridge/issue.h"
#include "fhirbridge/result.h"
#include "fhirbridge/timezone.h"

namespace fhirbridge::mappers {

/// An HL7 v2 DTM value, validated. Fields below `precision` hold the start of the period
/// (month and day 1, time 0), so the value is always a real calendar date.
struct Hl7Time {
  enum class Precision { kYear, kMonth, kDay, kHour, kMinute, kSecond };

  int year = 0;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::string fraction;  ///< digits after '.', may be empty (only with second precision)
  Precision precision = Precision::kYear;
  bool has_offset = false;
  int offset_minutes = 0;   ///< east of UTC
  bool minus_zero = false;  ///< "-0000": UTC, local offset unknown (RFC 3339 section 4.3)
};

/// Parses HL7 v2 DTM `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`. Tolerates what devices
/// send: 17 or 18 digits with no dot (YYYYMMDDHHMMSS + 3 or 4 fraction digits), one space before
/// the offset, trailing spaces. Rejects anything else with InvalidArgument saying what is wrong
/// by position and shape, never echoing the value ("expected digits at position 9", "month 13
/// out of range", "day 30 does not exist in February 2015"). Positions count from 1.
Result<Hl7Time> ParseHl7Time(std::string_view dtm);

/// A DTM converted for FHIR.
struct FhirTime {
  /// FHIR dateTime: "2015", "2015-01", "2015-01-22", or "2015-01-22T11:50:00[.fff](Z|+hh:mm)".
  /// FHIR requires seconds once there is a time, so HH or HHMM precision is padded with :00.
  /// "+ZZZZ" -> "+ZZ:ZZ"; "-0000" -> "Z"; "+0000" -> "+00:00".
  std::string date_time;
  /// The instant normalised to UTC for identifiers: "20150122T165000Z", with ".fff" kept when
  /// given: "20150122T165000.123Z"; date-only precision -> just "2015", "201501", "20150122".
  std::string utc_key;
  /// The instant (start of the period for date precision, counted as if UTC).
  std::int64_t utc_seconds = 0;
};

/// Converts to a FHIR dateTime. Times with hour precision or finer and no offset need `assume`
/// (the source's assume_timezone): the offset is the zone's offset for that local time; in a
/// DST overlap the earlier (first) occurrence is taken and a warning is added to `issues` (if
/// non-null); in a DST gap -> InvalidArgument. No offset and no zone -> FailedPrecondition.
/// Dates without time never need a zone (and drop any offset: FHIR dates carry none). Issues
/// added here have an empty `location`; the caller fills it in.
Result<FhirTime> ToFhirDateTime(const Hl7Time& t, const TimeZone* assume, DataIssues* issues);

/// A shortcut for rows of one message, which often differ only in their seconds: converts
/// `dtm` from `known`, the ToFhirDateTime conversion of `known_dtm`, when both are
/// YYYYMMDDHHMMSS followed by the same UTC offset and differ in nothing but the seconds, or the
/// minutes and seconds when the offset is whole hours ("+hh00"; valid ones). Gives exactly
/// what ParseHl7Time + ToFhirDateTime would; nullopt when it does not apply.
std::optional<FhirTime> ToFhirDateTimeNear(std::string_view dtm, std::string_view known_dtm,
                                           const FhirTime& known);
/// The same into `out` (which must not be `known`), reusing its strings' room: false, and
/// `out` unspecified, when the shortcut does not apply.
bool ToFhirDateTimeNear(std::string_view dtm, std::string_view known_dtm, const FhirTime& known,
                        FhirTime& out);

/// Same for FHIR `instant`, which needs a time of day and a UTC offset: hour and minute
/// precision are padded to seconds, date-only precision is InvalidArgument.
Result<FhirTime> ToFhirInstant(const Hl7Time& t, const TimeZone* assume, DataIssues* issues);

}  // namespace fhirbridge::mappers
