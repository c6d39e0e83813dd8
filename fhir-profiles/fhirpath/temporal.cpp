#include "fhir-profiles/fhirpath/temporal.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace fhirbridge::fhirpath {

namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

// Reads exactly `n` digits at `pos`.
bool Digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool ParseDatePart(std::string_view s, size_t& pos, Temporal& t) {
  if (!Digits(s, pos, 4, t.year)) return false;
  t.precision = Precision::kYear;
  if (pos < s.size() && s[pos] == '-') {
    ++pos;
    if (!Digits(s, pos, 2, t.month) || t.month < 1 || t.month > 12) return false;
    t.precision = Precision::kMonth;
    if (pos < s.size() && s[pos] == '-') {
      ++pos;
      if (!Digits(s, pos, 2, t.day) || t.day < 1 || t.day > DaysInMonth(t.year, t.month)) {
        return false;
      }
      t.precision = Precision::kDay;
    }
  }
  return true;
}

bool ParseTimePart(std::string_view s, size_t& pos, Temporal& t) {
  if (!Digits(s, pos, 2, t.hour) || t.hour > 23) return false;
  t.precision = Precision::kHour;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!Digits(s, pos, 2, t.minute) || t.minute > 59) return false;
    t.precision = Precision::kMinute;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!Digits(s, pos, 2, t.second) || t.second > 59) return false;
      t.precision = Precision::kSecond;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t start = pos;
        int ms = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (pos - start < 3) ms = ms * 10 + (s[pos] - '0');
          ++pos;
        }
        size_t n = pos - start;
        if (n == 0) return false;
        for (size_t i = n; i < 3; ++i) ms *= 10;
        t.millisecond = ms;
        t.fraction_digits = static_cast<int>(std::min<size_t>(n, 3));
        t.precision = Precision::kMillisecond;
      }
    }
  }
  return true;
}

bool ParseZone(std::string_view s, size_t& pos, Temporal& t) {
  if (pos >= s.size()) return true;
  if (s[pos] == 'Z') {
    ++pos;
    t.has_zone = t.zone_z = true;
    return true;
  }
  if (s[pos] != '+' && s[pos] != '-') return false;
  int sign = s[pos++] == '-' ? -1 : 1;
  int h = 0, m = 0;
  if (!Digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' || !Digits(s, pos, 2, m)) {
    return false;
  }
  if (h > 14 || m > 59) return false;
  t.has_zone = true;
  t.zone_minutes = sign * (h * 60 + m);
  return true;
}

// Milliseconds since the epoch of the fields as written (no zone applied).
int64_t LocalMillis(const Temporal& t) {
  int64_t days = DaysFromCivil(t.year, t.month, t.day);
  return ((days * 24 + t.hour) * 60 + t.minute) * 60000 + t.second * 1000 + t.millisecond;
}

void SetLocalMillis(Temporal& t, int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rest = ms - days * 86400000;
  CivilFromDays(days, t.year, t.month, t.day);
  t.hour = static_cast<int>(rest / 3600000);
  t.minute = static_cast<int>(rest / 60000 % 60);
  t.second = static_cast<int>(rest / 1000 % 60);
  t.millisecond = static_cast<int>(rest % 1000);
}

// The comparison level of a precision: seconds and milliseconds are one level.
int Level(Precision p) {
  return std::min(static_cast<int>(p), static_cast<int>(Precision::kSecond));
}

void Append2(std::string& out, int v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

void AppendTime(std::string& out, const Temporal& t) {
  Append2(out, t.hour);
  if (t.precision < Precision::kMinute) return;
  out += ':';
  Append2(out, t.minute);
  if (t.precision < Precision::kSecond) return;
  out += ':';
  Append2(out, t.second);
  if (t.precision < Precision::kMillisecond) return;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", t.millisecond);
  out.append(frac, 1 + std::max(t.fraction_digits, 1));
}

}  // namespace

std::optional<Temporal> Temporal::ParseDate(std::string_view text) {
  Temporal t;
  t.kind = TemporalKind::kDate;
  size_t pos = 0;
  if (!ParseDatePart(text, pos, t) || pos != text.size()) return std::nullopt;
  return t;
}

std::optional<Temporal> Temporal::ParseDateTime(std::string_view text) {
  Temporal t;
  t.kind = TemporalKind::kDateTime;
  size_t pos = 0;
  if (!ParseDatePart(text, pos, t)) return std::nullopt;
  if (pos < text.size() && text[pos] == 'T') {
    ++pos;
    if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (t.precision != Precision::kDay || !ParseTimePart(text, pos, t)) return std::nullopt;
      if (!ParseZone(text, pos, t)) return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  return t;
}

std::optional<Temporal> Temporal::ParseTime(std::string_view text) {
  Temporal t;
  t.kind = TemporalKind::kTime;
  size_t pos = 0;
  if (!ParseTimePart(text, pos, t) || pos != text.size()) return std::nullopt;
  return t;
}

std::string Temporal::ToString() const {
  std::string out;
  if (kind == TemporalKind::kTime) {
    AppendTime(out, *this);
    return out;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", year);
  out = buf;
  if (precision >= Precision::kMonth) {
    out += '-';
    Append2(out, month);
  }
  if (precision >= Precision::kDay) {
    out += '-';
    Append2(out, day);
  }
  if (kind == TemporalKind::kDateTime && precision >= Precision::kHour) {
    out += 'T';
    AppendTime(out, *this);
    if (has_zone) {
      if (zone_z) {
        out += 'Z';
      } else {
        int z = zone_minutes < 0 ? -zone_minutes : zone_minutes;
        out += zone_minutes < 0 ? '-' : '+';
        Append2(out, z / 60);
        out += ':';
        Append2(out, z % 60);
      }
    }
  }
  return out;
}

std::string Temporal::ToLiteral() const {
  return (kind == TemporalKind::kTime ? "@T" : "@") + ToString();
}

std::optional<int> Temporal::Compare(const Temporal& a0, const Temporal& b0) {
  Temporal a = a0;
  Temporal b = b0;
  bool a_time = a.precision >= Precision::kHour && a.kind != TemporalKind::kDate;
  bool b_time = b.precision >= Precision::kHour && b.kind != TemporalKind::kDate;
  if (a_time && b_time && a.kind == TemporalKind::kDateTime) {
    if (a.has_zone != b.has_zone) return std::nullopt;
    if (a.has_zone) {
      SetLocalMillis(a, LocalMillis(a) - a.zone_minutes * 60000LL);
      SetLocalMillis(b, LocalMillis(b) - b.zone_minutes * 60000LL);
    }
  }
  const int fields_a[] = {a.year, a.month,  a.day,
                          a.hour, a.minute, a.second * 1000 + a.millisecond};
  const int fields_b[] = {b.year, b.month,  b.day,
                          b.hour, b.minute, b.second * 1000 + b.millisecond};
  int first = a.kind == TemporalKind::kTime ? Level(Precision::kHour) : 0;
  int la = Level(a.precision);
  int lb = Level(b.precision);
  int common = std::min(la, lb);
  for (int i = first; i <= common; ++i) {
    if (fields_a[i] != fields_b[i]) return fields_a[i] < fields_b[i] ? -1 : 1;
  }
  if (la != lb) return std::nullopt;
  return 0;
}

bool Temporal::Equivalent(const Temporal& a, const Temporal& b) {
  if (Level(a.precision) != Level(b.precision)) return false;
  std::optional<int> c = Compare(a, b);
  return c && *c == 0;
}

std::optional<CalendarUnit> ParseCalendarUnit(std::string_view u) {
  if (!u.empty() && u.back() == 's' && u != "s" && u != "ms") u.remove_suffix(1);
  if (u == "year") return CalendarUnit::kYear;
  if (u == "month") return CalendarUnit::kMonth;
  if (u == "week" || u == "wk") return CalendarUnit::kWeek;
  if (u == "day" || u == "d") return CalendarUnit::kDay;
  if (u == "hour" || u == "h") return CalendarUnit::kHour;
  if (u == "minute" || u == "min") return CalendarUnit::kMinute;
  if (u == "second" || u == "s") return CalendarUnit::kSecond;
  if (u == "millisecond" || u == "ms") return CalendarUnit::kMs;
  return std::nullopt;
}

std::optional<Temporal> Temporal::Add(int64_t amount, CalendarUnit unit) const {
  Temporal t = *this;
  if (kind == TemporalKind::kTime && unit <= CalendarUnit::kDay) return std::nullopt;
  if (kind == TemporalKind::kDate && unit > CalendarUnit::kDay) {
    // A Date has no time of day: hours and smaller count in whole days.
    static constexpr int64_t kPerDay[] = {24, 1440, 86400, 86400000};
    amount /= kPerDay[static_cast<int>(unit) - static_cast<int>(CalendarUnit::kHour)];
    unit = CalendarUnit::kDay;
  }
  switch (unit) {
    case CalendarUnit::kYear:
    case CalendarUnit::kMonth: {
      int64_t months =
          t.year * 12LL + (t.month - 1) + (unit == CalendarUnit::kYear ? 12 : 1) * amount;
      t.year = static_cast<int>(months / 12);
      t.month = static_cast<int>(months % 12) + 1;
      t.day = std::min(t.day, DaysInMonth(t.year, t.month));
      break;
    }
    case CalendarUnit::kWeek:
    case CalendarUnit::kDay: {
      int64_t days =
          DaysFromCivil(t.year, t.month, t.day) + amount * (unit == CalendarUnit::kWeek ? 7 : 1);
      CivilFromDays(days, t.year, t.month, t.day);
      break;
    }
    default: {
      static constexpr int64_t kMs[] = {3600000, 60000, 1000, 1};
      int64_t delta = amount * kMs[static_cast<int>(unit) - static_cast<int>(CalendarUnit::kHour)];
      if (kind == TemporalKind::kTime) {
        int64_t ms = ((t.hour * 60LL + t.minute) * 60 + t.second) * 1000 + t.millisecond + delta;
        ms = ((ms % 86400000) + 86400000) % 86400000;
        t.year = 1970;
        t.month = t.day = 1;
        SetLocalMillis(t, ms);
      } else {
        SetLocalMillis(t, LocalMillis(t) + delta);
      }
      break;
    }
  }
  if (t.kind != TemporalKind::kTime && (t.year < 1 || t.year > 9999)) return std::nullopt;
  return t;
}

int Temporal::PrecisionDigits() const {
  static constexpr int kDate[] = {4, 6, 8, 10, 12, 14, 17};
  static constexpr int kTime[] = {0, 0, 0, 2, 4, 6, 9};
  return kind == TemporalKind::kTime ? kTime[static_cast<int>(precision)]
                                     : kDate[static_cast<int>(precision)];
}

std::optional<Temporal> Temporal::Boundary(int digits, bool high) const {
  Precision target;
  if (kind == TemporalKind::kTime) {
    switch (digits) {
      case 2:
        target = Precision::kHour;
        break;
      case 4:
        target = Precision::kMinute;
        break;
      case 6:
        target = Precision::kSecond;
        break;
      case 9:
        target = Precision::kMillisecond;
        break;
      default:
        return std::nullopt;
    }
  } else {
    switch (digits) {
      case 4:
        target = Precision::kYear;
        break;
      case 6:
        target = Precision::kMonth;
        break;
      case 8:
        target = Precision::kDay;
        break;
      case 10:
        target = Precision::kHour;
        break;
      case 12:
        target = Precision::kMinute;
        break;
      case 14:
        target = Precision::kSecond;
        break;
      case 17:
        target = Precision::kMillisecond;
        break;
      default:
        return std::nullopt;
    }
    if (kind == TemporalKind::kDate && target > Precision::kDay) return std::nullopt;
  }
  Temporal t = *this;
  // An hour alone is not a FHIR time: T08 stands for 08:00 (test suite, HighBoundary notes).
  if (t.kind == TemporalKind::kDateTime && t.precision == Precision::kHour) {
    t.precision = Precision::kMinute;
  }
  if (t.precision < target) {
    int p = static_cast<int>(t.precision);
    if (p < 1) t.month = high ? 12 : 1;
    if (p < 2) t.day = high ? DaysInMonth(t.year, t.month) : 1;
    if (p < 3) t.hour = high ? 23 : 0;
    if (p < 4) t.minute = high ? 59 : 0;
    if (p < 5) t.second = high ? 59 : 0;
    if (p < 6) t.millisecond = high ? 999 : 0;
    if (t.kind == TemporalKind::kDateTime && !t.has_zone && target >= Precision::kHour) {
      // The unknown offset spans +14:00 (earliest instant) to -12:00 (latest).
      t.has_zone = true;
      t.zone_z = false;
      t.zone_minutes = high ? -12 * 60 : 14 * 60;
    }
  }
  t.precision = target;
  if (target == Precision::kMillisecond) t.fraction_digits = 3;
  return t;
}

Temporal Temporal::Now() {
  auto now = std::chrono::system_clock::now();
  int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm local{};
  localtime_r(&secs, &local);
  Temporal t;
  t.kind = TemporalKind::kDateTime;
  t.precision = Precision::kMillisecond;
  t.fraction_digits = 3;
  t.has_zone = true;
  t.zone_minutes = static_cast<int>(local.tm_gmtoff / 60);
  SetLocalMillis(t, ms + local.tm_gmtoff * 1000);
  return t;
}

}  // namespace fhirbridge::fhirpath
