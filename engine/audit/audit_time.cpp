#include "engine/audit/audit_time.h"

#include <cstdio>

#include "fhirbridge/timezone.h"

namespace fhirbridge::audit {

namespace {

constexpr std::int64_t kMicrosPerSecond = 1000000;
constexpr std::int64_t kSecondsPerDay = 86400;

// Reads exactly `n` digits at `pos` into `out`; false when they are not all there.
bool Digits(std::string_view text, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > text.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool Expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// The fraction after '.', as microseconds (digits past the sixth are dropped).
bool Fraction(std::string_view text, std::size_t& pos, std::int64_t& micros) {
  std::size_t digits = 0;
  micros = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (digits < 6) micros = micros * 10 + (text[pos] - '0');
    ++digits;
    ++pos;
  }
  if (digits == 0 || digits > 9) return false;
  for (std::size_t i = digits; i < 6; ++i) micros *= 10;
  return true;
}

// "Z", "+hh:mm" or "-hh:mm" at the end; nothing at all means UTC.
bool Zone(std::string_view text, std::size_t& pos, int& offset_seconds) {
  offset_seconds = 0;
  if (pos == text.size()) return true;
  if (text[pos] == 'Z') return ++pos == text.size();
  if (text[pos] != '+' && text[pos] != '-') return false;
  const int sign = text[pos] == '-' ? -1 : 1;
  ++pos;
  int hours = 0;
  int minutes = 0;
  if (!Digits(text, pos, 2, hours) || !Expect(text, pos, ':') || !Digits(text, pos, 2, minutes)) {
    return false;
  }
  if (hours > 14 || minutes > 59) return false;
  offset_seconds = sign * (hours * 3600 + minutes * 60);
  return pos == text.size();
}

}  // namespace

std::string FormatInstant(std::int64_t at_us) {
  std::int64_t seconds = at_us / kMicrosPerSecond;
  std::int64_t micros = at_us % kMicrosPerSecond;
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --seconds;
  }
  std::int64_t days = seconds / kSecondsPerDay;
  std::int64_t in_day = seconds % kSecondsPerDay;
  if (in_day < 0) {
    in_day += kSecondsPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", date.year, date.month,
                date.day, static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                static_cast<int>(in_day % 60), static_cast<int>(micros));
  return text;
}

Result<std::int64_t> ParseInstant(std::string_view text) {
  const auto invalid = [&] {
    return Status::InvalidArgument(
        "not an ISO 8601 date or date-time (e.g. 2026-03-01 or 2026-03-01T12:00:00Z): " +
        std::string(text.substr(0, 64)));
  };
  std::size_t pos = 0;
  int year = 0;
  int month = 0;
  int day = 0;
  if (!Digits(text, pos, 4, year) || !Expect(text, pos, '-') || !Digits(text, pos, 2, month) ||
      !Expect(text, pos, '-') || !Digits(text, pos, 2, day)) {
    return invalid();
  }
  if (month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month))) {
    return invalid();
  }
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::int64_t micros = 0;
  int offset = 0;
  if (pos < text.size()) {
    if (!Expect(text, pos, 'T') || !Digits(text, pos, 2, hour) || !Expect(text, pos, ':') ||
        !Digits(text, pos, 2, minute)) {
      return invalid();
    }
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!Digits(text, pos, 2, second)) return invalid();
      if (pos < text.size() && text[pos] == '.' && !Fraction(text, ++pos, micros)) {
        return invalid();
      }
    }
    if (hour > 23 || minute > 59 || second > 59 || !Zone(text, pos, offset)) return invalid();
  }
  const std::int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t seconds = days * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset;
  return seconds * kMicrosPerSecond + micros;
}

}  // namespace fhirbridge::audit
