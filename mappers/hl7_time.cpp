#include "mappers/hl7_time.h"

#include <cstdlib>

namespace fhirbridge::mappers {
namespace {

// HL7 v2.5 2A.3.22 allows 1-4 fraction digits; the undotted device form is 14 digits plus 3 or 4.
constexpr std::size_t kMaxFractionDigits = 4;
// The longest valid value, "YYYYMMDDHHMMSS.SSSS +ZZZZ", is 25 characters.
constexpr std::size_t kMaxLength = 25;
// FHIR's dateTime regex allows offsets from -14:00 to +14:00.
constexpr int kMaxOffsetMinutes = 14 * 60;

constexpr const char* kMonthNames[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int Digits(std::string_view s, std::size_t pos, std::size_t count) {
  int v = 0;
  for (std::size_t i = 0; i < count; ++i) v = v * 10 + (s[pos + i] - '0');
  return v;
}

std::string Pos(std::size_t index) { return "position " + std::to_string(index + 1); }

Status Invalid(std::string what) { return Status::InvalidArgument("HL7 DTM: " + std::move(what)); }

/// Writes `v` zero-padded to `width` digits (more when it needs more) at `at`; returns the end.
/// `at` has room for 21 bytes.
char* WritePadded(char* at, std::int64_t v, int width) {
  if (width == 2 && v >= 0 && v < 100) {  // months, days, hours, ...: the usual case, no loop
    at[0] = static_cast<char>('0' + v / 10);
    at[1] = static_cast<char>('0' + v % 10);
    return at + 2;
  }
  if (v < 0) {
    *at++ = '-';
    v = -v;  // years and offsets here are far from the int64 limits
  }
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = n; i < width; ++i) *at++ = '0';
  while (n > 0) *at++ = digits[--n];
  return at;
}

/// Appends `v` zero-padded to `width` digits.
void AppendPadded(std::string& out, std::int64_t v, int width) {
  char text[24];
  out.append(text, WritePadded(text, v, width));
}

struct WallClock {
  CivilDate date;
  int hour = 0, minute = 0, second = 0;
};

WallClock FromSeconds(std::int64_t seconds) {
  const std::int64_t days = (seconds >= 0 ? seconds : seconds - 86399) / 86400;
  const std::int64_t rest = seconds - days * 86400;
  return {CivilFromDays(days), static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
          static_cast<int>(rest % 60)};
}

// Writes "2015-01-22T11:50:00" or, with `compact`, "20150122T115000" at `at` (room for 40 bytes
// or more); returns the end.
char* WriteWall(char* at, const WallClock& w, bool compact) {
  at = WritePadded(at, w.date.year, 4);
  if (!compact) *at++ = '-';
  at = WritePadded(at, w.date.month, 2);
  if (!compact) *at++ = '-';
  at = WritePadded(at, w.date.day, 2);
  *at++ = 'T';
  at = WritePadded(at, w.hour, 2);
  if (!compact) *at++ = ':';
  at = WritePadded(at, w.minute, 2);
  if (!compact) *at++ = ':';
  return WritePadded(at, w.second, 2);
}

// ".ffff" when the time has a fraction of a second (at most 4 digits, checked by the parser).
char* WriteFraction(char* at, std::string_view fraction) {
  if (fraction.empty()) return at;
  *at++ = '.';
  for (char c : fraction) *at++ = c;
  return at;
}

Result<int> ParseOffset(std::string_view s, std::size_t sign_pos, bool* minus_zero) {
  const std::size_t first = sign_pos + 1;
  for (std::size_t i = first; i < first + 4; ++i) {
    if (i >= s.size() || !IsDigit(s[i])) {
      return Invalid("expected 4 offset digits at " + Pos(i));
    }
  }
  if (s.size() > first + 4)
    return Invalid("unexpected character after the offset at " + Pos(first + 4));
  const int hours = Digits(s, first, 2);
  const int minutes = Digits(s, first + 2, 2);
  const int total = hours * 60 + minutes;
  if (minutes > 59 || total > kMaxOffsetMinutes) {
    return Invalid("offset " + std::string(s.substr(sign_pos, 5)) + " out of range");
  }
  const bool negative = s[sign_pos] == '-';
  *minus_zero = negative && total == 0;
  return negative ? -total : total;
}

Status ValidateFields(const Hl7Time& t) {
  using P = Hl7Time::Precision;
  if (t.year == 0) return Invalid("year 0000 out of range");
  if (t.precision >= P::kMonth && (t.month < 1 || t.month > 12)) {
    return Invalid("month " + std::to_string(t.month) + " out of range");
  }
  if (t.precision >= P::kDay) {
    if (t.day < 1 || t.day > 31) return Invalid("day " + std::to_string(t.day) + " out of range");
    if (static_cast<unsigned>(t.day) > DaysInMonth(t.year, static_cast<unsigned>(t.month))) {
      return Invalid("day " + std::to_string(t.day) + " does not exist in " +
                     kMonthNames[t.month - 1] + " " + std::to_string(t.year));
    }
  }
  if (t.hour > 23) return Invalid("hour " + std::to_string(t.hour) + " out of range");
  if (t.minute > 59) return Invalid("minute " + std::to_string(t.minute) + " out of range");
  if (t.second == 60) return Invalid("second 60 out of range (leap seconds are not supported)");
  if (t.second > 59) return Invalid("second " + std::to_string(t.second) + " out of range");
  return Status::Ok();
}

}  // namespace

Result<Hl7Time> ParseHl7Time(std::string_view dtm) {
  while (!dtm.empty() && dtm.back() == ' ') dtm.remove_suffix(1);  // devices pad fields
  if (dtm.empty()) return Invalid("value is empty");
  if (dtm.size() > kMaxLength) {
    return Invalid("value is too long (" + std::to_string(dtm.size()) + " characters, at most " +
                   std::to_string(kMaxLength) + ")");
  }

  Hl7Time t;
  std::size_t i = 0;
  while (i < dtm.size() && IsDigit(dtm[i])) ++i;
  std::size_t digits = i;
  if (digits >= 17) {
    // Device quirk: YYYYMMDDHHMMSSmmm with the dot left out.
    if (digits > 14 + kMaxFractionDigits) {
      return Invalid("too many digits (" + std::to_string(digits) + ", at most 18)");
    }
    t.fraction = std::string(dtm.substr(14, digits - 14));
    digits = 14;
    if (i < dtm.size() && dtm[i] == '.') return Invalid("unexpected '.' at " + Pos(i));
  } else if (digits > 14) {
    return Invalid(std::to_string(digits) +
                   " digits do not form a date/time (expected 4, 6, 8, "
                   "10, 12, 14, 17 or 18)");
  } else if (i < dtm.size() && dtm[i] == '.' && digits == 14) {
    const std::size_t start = ++i;
    while (i < dtm.size() && IsDigit(dtm[i])) ++i;
    if (i == start) return Invalid("expected digits at " + Pos(i));
    if (i - start > kMaxFractionDigits) return Invalid("fraction has more than 4 digits");
    t.fraction = std::string(dtm.substr(start, i - start));
  }

  const bool at_offset =
      i < dtm.size() &&
      (dtm[i] == '+' || dtm[i] == '-' ||
       (dtm[i] == ' ' && i + 1 < dtm.size() && (dtm[i + 1] == '+' || dtm[i + 1] == '-')));
  if (i < dtm.size() && !at_offset) {
    // A non-digit where the date/time could have gone on is a digit missing; after seconds
    // (or the fraction) only an offset may follow.
    if (dtm[i] == '.' && digits < 14) return Invalid("a fraction needs seconds, at " + Pos(i));
    if (digits < 14 && t.fraction.empty()) return Invalid("expected digits at " + Pos(i));
    return Invalid("expected '+' or '-' (UTC offset) at " + Pos(i));
  }
  if (digits < 4 || digits % 2 != 0) {
    return Invalid("incomplete value: " + std::to_string(digits) +
                   " digits (expected 4, 6, 8, 10, 12 or 14)");
  }
  if (at_offset) {
    const std::size_t sign_pos = dtm[i] == ' ' ? i + 1 : i;
    auto offset = ParseOffset(dtm, sign_pos, &t.minus_zero);
    if (!offset.ok()) return offset.status();
    t.has_offset = true;
    t.offset_minutes = *offset;
  }

  t.precision = static_cast<Hl7Time::Precision>(digits / 2 - 2);  // 4 digits -> kYear, ...
  t.year = Digits(dtm, 0, 4);
  if (digits >= 6) t.month = Digits(dtm, 4, 2);
  if (digits >= 8) t.day = Digits(dtm, 6, 2);
  if (digits >= 10) t.hour = Digits(dtm, 8, 2);
  if (digits >= 12) t.minute = Digits(dtm, 10, 2);
  if (digits >= 14) t.second = Digits(dtm, 12, 2);
  FHIRBRIDGE_RETURN_IF_ERROR(ValidateFields(t));
  return t;
}

Result<FhirTime> ToFhirDateTime(const Hl7Time& t, const TimeZone* assume, DataIssues* issues) {
  using P = Hl7Time::Precision;
  FhirTime out;
  const std::int64_t days =
      DaysFromCivil(t.year, static_cast<unsigned>(t.month), static_cast<unsigned>(t.day));

  if (t.precision <= P::kDay) {
    // A FHIR date-only dateTime carries no offset (FHIR R4 2.1.28.0.1), so none is needed.
    AppendPadded(out.date_time, t.year, 4);
    AppendPadded(out.utc_key, t.year, 4);
    if (t.precision >= P::kMonth) {
      out.date_time += '-';
      AppendPadded(out.date_time, t.month, 2);
      AppendPadded(out.utc_key, t.month, 2);
    }
    if (t.precision >= P::kDay) {
      out.date_time += '-';
      AppendPadded(out.date_time, t.day, 2);
      AppendPadded(out.utc_key, t.day, 2);
    }
    out.utc_seconds = days * 86400;
    return out;
  }

  const std::int64_t local = days * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
  int offset_seconds = 0;
  bool zulu = false;  // write "Z" rather than "+hh:mm"
  if (t.has_offset) {
    offset_seconds = t.offset_minutes * 60;
    zulu = t.minus_zero;  // "-0000": the instant is UTC, the local offset unknown
  } else if (assume != nullptr) {
    const TimeZone::LocalResolution r = assume->Resolve(local);
    if (r.count == 0) {
      return Status::InvalidArgument("local time does not exist in " + assume->name() +
                                     " (daylight-saving gap)");
    }
    offset_seconds = r.offsets[0];
    if (r.count == 2 && issues != nullptr) {
      issues->push_back(
          DataIssue::Warning("value", "",
                             "local time is ambiguous in " + assume->name() +
                                 " (daylight-saving overlap): the earlier occurrence was taken"));
    }
    if (offset_seconds % 60 != 0 || std::abs(offset_seconds) > kMaxOffsetMinutes * 60) {
      // Local mean time before standard time (e.g. -4:56:02 in New York before 1883) has no
      // +hh:mm form: give the same instant in UTC instead.
      zulu = true;
      if (issues != nullptr) {
        issues->push_back(DataIssue::Warning(
            "value", "",
            "the offset of " + assume->name() +
                " at this local time is not whole minutes; the time is given in UTC"));
      }
    }
  } else {
    return Status::FailedPrecondition(
        "local time without UTC offset: set assume_timezone for this source (or "
        "--assume-timezone)");
  }
  out.utc_seconds = local - offset_seconds;

  const bool shifted = zulu && !t.minus_zero && offset_seconds != 0;
  // Each text is written into a buffer and assigned once. The longest date_time is
  // "-YYYY..-MM-DDThh:mm:ss.<fraction>+hh:mm": 11 + 15 + 1 + fraction + 6 bytes; parsed DTMs
  // have at most 4 fraction digits, other callers may give more.
  char small[64];
  std::string large;
  char* text = small;
  if (t.fraction.size() > 16) {
    large.resize(40 + t.fraction.size());
    text = large.data();
  }
  char* at = WriteWall(text, FromSeconds(shifted ? out.utc_seconds : local), false);
  at = WriteFraction(at, t.fraction);
  if (zulu) {
    *at++ = 'Z';
  } else {
    const int minutes = offset_seconds / 60;
    *at++ = minutes < 0 ? '-' : '+';
    at = WritePadded(at, std::abs(minutes) / 60, 2);
    *at++ = ':';
    at = WritePadded(at, std::abs(minutes) % 60, 2);
  }
  out.date_time.assign(text, at);
  at = WriteWall(text, FromSeconds(out.utc_seconds), true);
  at = WriteFraction(at, t.fraction);
  *at++ = 'Z';
  out.utc_key.assign(text, at);
  return out;
}

std::optional<FhirTime> ToFhirDateTimeNear(std::string_view dtm, std::string_view known_dtm,
                                           const FhirTime& known) {
  FhirTime out;
  if (!ToFhirDateTimeNear(dtm, known_dtm, known, out)) return std::nullopt;
  return out;
}

bool ToFhirDateTimeNear(std::string_view dtm, std::string_view known_dtm, const FhirTime& known,
                        FhirTime& out) {
  // 14 digits then an offset ("+ZZZZ", "-ZZZZ" or " +ZZZZ"): second precision, no fraction,
  // and a whole-minute offset, so the seconds change nothing else in either text.
  constexpr std::size_t kMinutes = 10;
  constexpr std::size_t kSeconds = 12;
  if (dtm.size() != known_dtm.size() || dtm.size() <= kSeconds + 2) return false;
  // An offset must follow ("20240315101400 " is a local time with a trailing space).
  const std::size_t sign = dtm[kSeconds + 2] == ' ' ? kSeconds + 3 : kSeconds + 2;
  if (sign >= dtm.size() || (dtm[sign] != '+' && dtm[sign] != '-')) return false;
  if (dtm.substr(0, kMinutes) != known_dtm.substr(0, kMinutes) ||
      dtm.substr(kSeconds + 2) != known_dtm.substr(kSeconds + 2))
    return false;
  for (std::size_t i = kMinutes; i < kSeconds + 2; ++i)
    if (!IsDigit(dtm[i]) || !IsDigit(known_dtm[i])) return false;
  // Another minute of the same hour: only with a whole-hour offset ("+hh00") are the UTC
  // minutes the local ones, with no carry into the hour.
  const bool same_minute = dtm.substr(kMinutes, 2) == known_dtm.substr(kMinutes, 2);
  if (!same_minute && (dtm.size() != sign + 5 || dtm.substr(sign + 3) != "00")) return false;
  const int minute = Digits(dtm, kMinutes, 2);
  const int second = Digits(dtm, kSeconds, 2);
  if (minute > 59 || second > 59) return false;  // the full path reports it
  if (known.utc_key.size() < 5 || known.date_time.size() < 8) return false;
  // "...mm:ss+hh:mm" or "...mm:ssZ" (an explicit offset never shifts the wall clock);
  // "...mmssZ".
  const std::size_t text_at = known.date_time.size() - (known.date_time.back() == 'Z' ? 3 : 8);
  const std::size_t key_at = known.utc_key.size() - 3;
  out = known;  // copy-assignment keeps out's room: no allocation once it is big enough
  out.utc_seconds +=
      (minute - Digits(known_dtm, kMinutes, 2)) * 60 + second - Digits(known_dtm, kSeconds, 2);
  WritePadded(out.date_time.data() + text_at, second, 2);
  WritePadded(out.utc_key.data() + key_at, second, 2);
  if (!same_minute) {
    WritePadded(out.date_time.data() + text_at - 3, minute, 2);
    WritePadded(out.utc_key.data() + key_at - 2, minute, 2);
  }
  return true;
}

Result<FhirTime> ToFhirInstant(const Hl7Time& t, const TimeZone* assume, DataIssues* issues) {
  // FHIR instant: "YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm)"; ToFhirDateTime already pads hour and
  // minute precision to seconds and always gives an offset once there is a time.
  if (t.precision < Hl7Time::Precision::kHour) {
    return Status::InvalidArgument("HL7 DTM: a FHIR instant needs a time of day, not just a date");
  }
  return ToFhirDateTime(t, assume, issues);
}

}  // namespace fhirbridge::mappers
