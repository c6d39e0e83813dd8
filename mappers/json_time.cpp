#include "mappers/json_time.h"

#include <cmath>
#include <string>

namespace fhirbridge::mappers::json {

namespace {

constexpr std::size_t kMaxFractionDigits = 9;
// Epoch values are accepted for years 1900..9999 (FHIR dateTime has four-digit years).
constexpr std::int64_t kMinEpochSeconds = -2208988800;   // 1900-01-01T00:00:00Z
constexpr std::int64_t kMaxEpochSeconds = 253402300799;  // 9999-12-31T23:59:59Z

Status Invalid(const std::string& what) {
  return Status::InvalidArgument("not an ISO 8601 time: " + what);
}

std::string Pos(std::size_t i) { return "position " + std::to_string(i + 1); }

// `n` digits at `at`, or -1.
int Digits(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

Status CheckRanges(const Hl7Time& t) {
  if (t.month < 1 || t.month > 12) return Invalid("month " + std::to_string(t.month));
  const unsigned days = DaysInMonth(t.year, static_cast<unsigned>(t.month));
  if (t.day < 1 || static_cast<unsigned>(t.day) > days)
    return Invalid("day " + std::to_string(t.day) + " does not exist in that month");
  if (t.hour > 23) return Invalid("hour " + std::to_string(t.hour));
  if (t.minute > 59) return Invalid("minute " + std::to_string(t.minute));
  if (t.second > 59) return Invalid("second " + std::to_string(t.second));
  return Status::Ok();
}

// "Z", "+hh:mm", "+hhmm" or "-…" at `i` to the end.
Status ParseOffset(std::string_view s, std::size_t i, Hl7Time& t) {
  if (s[i] == 'Z' || s[i] == 'z') {
    if (i + 1 != s.size()) return Invalid("unexpected characters after Z at " + Pos(i + 1));
    t.has_offset = true;
    t.minus_zero = true;  // UTC: written back as "Z"
    return Status::Ok();
  }
  if (s[i] != '+' && s[i] != '-') return Invalid("expected Z, + or - at " + Pos(i));
  const int sign = s[i] == '-' ? -1 : 1;
  const int hh = Digits(s, i + 1, 2);
  std::size_t mm_at = i + 3;
  if (mm_at < s.size() && s[mm_at] == ':') ++mm_at;
  const int mm = Digits(s, mm_at, 2);
  if (hh < 0 || mm < 0 || mm_at + 2 != s.size())
    return Invalid("offset must be +hh:mm or +hhmm at " + Pos(i));
  if (hh > 23 || mm > 59) return Invalid("offset out of range at " + Pos(i));
  t.has_offset = true;
  t.offset_minutes = sign * (hh * 60 + mm);
  // RFC 3339 section 4.3: -00:00 is UTC with an unknown local offset.
  t.minus_zero = sign < 0 && hh == 0 && mm == 0;
  return Status::Ok();
}

Result<FhirTime> FromEpoch(double number, TimeFormat format) {
  const double seconds = format == TimeFormat::kEpochMilliseconds ? number / 1000.0 : number;
  if (!std::isfinite(seconds) || seconds < static_cast<double>(kMinEpochSeconds) ||
      seconds > static_cast<double>(kMaxEpochSeconds)) {
    return Status::InvalidArgument("epoch time outside the years 1900..9999");
  }
  // Whole milliseconds: the finest precision vendors send.
  const auto ms = static_cast<std::int64_t>(
      std::llround(format == TimeFormat::kEpochMilliseconds ? number : number * 1000.0));
  std::int64_t secs = ms / 1000;
  std::int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rest = secs % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  Hl7Time t;
  t.year = date.year;
  t.month = static_cast<int>(date.month);
  t.day = static_cast<int>(date.day);
  t.hour = static_cast<int>(rest / 3600);
  t.minute = static_cast<int>(rest / 60 % 60);
  t.second = static_cast<int>(rest % 60);
  if (frac != 0) {
    t.fraction = std::to_string(1000 + frac).substr(1);
  }
  t.precision = Hl7Time::Precision::kSecond;
  t.has_offset = true;
  t.minus_zero = true;  // an epoch is an instant: written as "Z"
  return ToFhirDateTime(t, nullptr, nullptr);
}

}  // namespace

Result<Hl7Time> ParseIsoTime(std::string_view s) {
  using P = Hl7Time::Precision;
  Hl7Time t;
  t.year = Digits(s, 0, 4);
  if (t.year < 0) return Invalid("expected a four-digit year at " + Pos(0));
  t.precision = P::kYear;
  std::size_t i = 4;
  auto field = [&](char sep, int& into, P precision) -> Status {
    if (i >= s.size() || s[i] != sep) return Status::Ok();
    into = Digits(s, i + 1, 2);
    if (into < 0) return Invalid("expected two digits at " + Pos(i + 1));
    t.precision = precision;
    i += 3;
    return Status::Ok();
  };
  FHIRBRIDGE_RETURN_IF_ERROR(field('-', t.month, P::kMonth));
  if (t.precision == P::kMonth) FHIRBRIDGE_RETURN_IF_ERROR(field('-', t.day, P::kDay));
  if (t.precision == P::kDay && i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    t.hour = Digits(s, i + 1, 2);
    if (t.hour < 0 || i + 3 >= s.size() || s[i + 3] != ':')
      return Invalid("expected hh:mm at " + Pos(i + 1));
    i += 3;
    FHIRBRIDGE_RETURN_IF_ERROR(field(':', t.minute, P::kMinute));
    FHIRBRIDGE_RETURN_IF_ERROR(field(':', t.second, P::kSecond));
    if (t.precision == P::kSecond && i < s.size() && (s[i] == '.' || s[i] == ',')) {
      const std::size_t start = ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == start) return Invalid("expected fraction digits at " + Pos(start));
      if (i - start > kMaxFractionDigits) return Invalid("more than 9 fraction digits");
      t.fraction = std::string(s.substr(start, i - start));
    }
  }
  if (i < s.size()) {
    if (t.precision < P::kMinute) return Invalid("unexpected character at " + Pos(i));
    FHIRBRIDGE_RETURN_IF_ERROR(ParseOffset(s, i, t));
  }
  FHIRBRIDGE_RETURN_IF_ERROR(CheckRanges(t));
  return t;
}

Result<FhirTime> ReadTime(const rapidjson::Value& value, const TimeSpec& spec,
                          const TimeZone* source_zone, DataIssues* issues) {
  if (spec.format == TimeFormat::kIso8601) {
    if (!value.IsString()) return Status::InvalidArgument("expected an ISO 8601 time (a string)");
    Result<Hl7Time> t = ParseIsoTime(std::string_view(value.GetString(), value.GetStringLength()));
    if (!t.ok()) return t.status();
    const TimeZone* zone = spec.zone ? spec.zone.get() : source_zone;
    return ToFhirDateTime(*t, zone, issues);
  }
  if (value.IsNumber()) return FromEpoch(value.GetDouble(), spec.format);
  if (value.IsString() && value.GetStringLength() > 0 && value.GetStringLength() <= 18) {
    // Some APIs send epoch numbers as strings of digits.
    std::int64_t n = 0;
    bool digits = true;
    for (rapidjson::SizeType k = 0; k < value.GetStringLength(); ++k) {
      const char c = value.GetString()[k];
      digits = digits && c >= '0' && c <= '9';
      if (digits) n = n * 10 + (c - '0');
    }
    if (digits) return FromEpoch(static_cast<double>(n), spec.format);
  }
  return Status::InvalidArgument(
      std::string("expected epoch ") +
      (spec.format == TimeFormat::kEpochSeconds ? "seconds" : "milliseconds") + " (a number)");
}

}  // namespace fhirbridge::mappers::json
