#include "fhirbridge/timezone.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <system_error>

namespace fhirbridge {

// ---------------------------------------------------------------------------------------------
// Calendar math. The idea (count days in 400-year eras of 146097 days, with years starting on
// March 1 so that the leap day is the last day of the year) follows Howard Hinnant's public
// "chrono-Compatible Low-Level Date Algorithms".

std::int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  const std::int64_t year = static_cast<std::int64_t>(y) - (m <= 2 ? 1 : 0);
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const std::int64_t year_of_era = year - era * 400;                         // [0, 399]
  const std::int64_t march_month = (static_cast<std::int64_t>(m) + 9) % 12;  // March = 0
  const std::int64_t day_of_year = (153 * march_month + 2) / 5 + d - 1;      // [0, 365]
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;  // [0, 146096]
  return era * 146097 + day_of_era - 719468;  // 719468: days from 0000-03-01 to 1970-01-01
}

CivilDate CivilFromDays(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t day_of_era = z - era * 146097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t march_month = (5 * day_of_year + 2) / 153;
  CivilDate out;
  out.day = static_cast<unsigned>(day_of_year - (153 * march_month + 2) / 5 + 1);
  out.month = static_cast<unsigned>(march_month < 10 ? march_month + 3 : march_month - 9);
  out.year = static_cast<int>(year_of_era + era * 400 + (out.month <= 2 ? 1 : 0));
  return out;
}

bool IsLeapYear(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

unsigned DaysInMonth(int y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return (m == 2 && IsLeapYear(y)) ? 29 : kDays[m - 1];
}

namespace {

constexpr std::int64_t kSecondsPerDay = 86400;
// RFC 8536 section 3.2: utoff SHOULD be in [-89999, 93599] (just over a day either way).
constexpr int kMinOffset = -89999;
constexpr int kMaxOffset = 93599;
constexpr std::uintmax_t kMaxTzifFileSize = 1 << 20;  // real files are < 10 KiB

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// ---------------------------------------------------------------------------------------------
// POSIX TZ strings as RFC 8536 section 3.3 extends them: rule times may have a sign and up to
// 167 hours. Grammar: std offset [dst [offset] [,start[/time],end[/time]]].

class TzStringParser {
 public:
  explicit TzStringParser(std::string_view s) : s_(s) {}

  bool Parse(TimeZone::PosixRule* rule) {
    int west = 0;
    if (!Name() || !Hms(24, &west)) return false;
    rule->std_offset = -west;  // POSIX counts hours west of Greenwich
    if (AtEnd()) return true;
    if (!Name()) return false;
    rule->has_dst = true;
    rule->dst_offset = rule->std_offset + 3600;  // POSIX default: one hour ahead of standard
    if (IsDigit(Peek()) || Peek() == '+' || Peek() == '-') {
      if (!Hms(24, &west)) return false;
      rule->dst_offset = -west;
    }
    if (AtEnd()) {
      // POSIX leaves the rule to the implementation; like glibc and tzcode, use the US rule.
      rule->start = {TimeZone::PosixDate::Kind::kMonthWeekDay, 0, 3, 2, 7200};
      rule->end = {TimeZone::PosixDate::Kind::kMonthWeekDay, 0, 11, 1, 7200};
      return true;
    }
    return Expect(',') && Date(&rule->start) && Expect(',') && Date(&rule->end) && AtEnd();
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  bool Expect(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }

  // An abbreviation: 3+ letters, or 3+ of [A-Za-z0-9+-] inside <...>.
  bool Name() {
    const std::size_t start = pos_;
    if (Expect('<')) {
      while (IsAlpha(Peek()) || IsDigit(Peek()) || Peek() == '+' || Peek() == '-') ++pos_;
      const std::size_t len = pos_ - start - 1;
      return len >= 3 && Expect('>');
    }
    while (IsAlpha(Peek())) ++pos_;
    return pos_ - start >= 3;
  }

  bool Number(int min, int max, int* out) {
    if (!IsDigit(Peek())) return false;
    int value = 0;
    for (int digits = 0; IsDigit(Peek()); ++digits) {
      if (digits == 6) return false;  // keeps `value` far from overflow
      value = value * 10 + (s_[pos_++] - '0');
    }
    if (value < min || value > max) return false;
    *out = value;
    return true;
  }

  // [+|-]hh[:mm[:ss]] in seconds.
  bool Hms(int max_hours, int* seconds) {
    int sign = 1;
    if (Peek() == '+' || Peek() == '-') sign = s_[pos_++] == '-' ? -1 : 1;
    int h = 0, m = 0, s = 0;
    if (!Number(0, max_hours, &h)) return false;
    if (Expect(':')) {
      if (!Number(0, 59, &m)) return false;
      if (Expect(':') && !Number(0, 59, &s)) return false;
    }
    *seconds = sign * (h * 3600 + m * 60 + s);
    return true;
  }

  bool Date(TimeZone::PosixDate* d) {
    using Kind = TimeZone::PosixDate::Kind;
    if (Expect('J')) {
      d->kind = Kind::kJulianNoLeap;
      if (!Number(1, 365, &d->day)) return false;
    } else if (IsDigit(Peek())) {
      d->kind = Kind::kZeroBased;
      if (!Number(0, 365, &d->day)) return false;
    } else if (Expect('M')) {
      d->kind = Kind::kMonthWeekDay;
      if (!Number(1, 12, &d->month) || !Expect('.') || !Number(1, 5, &d->week) || !Expect('.') ||
          !Number(0, 6, &d->day)) {
        return false;
      }
    } else {
      return false;
    }
    d->time = 7200;  // POSIX default 02:00:00
    return !Expect('/') || Hms(167, &d->time);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// Day number (since the epoch) on which `d` falls in `year`.
std::int64_t RuleDay(const TimeZone::PosixDate& d, int year) {
  using Kind = TimeZone::PosixDate::Kind;
  const std::int64_t jan1 = DaysFromCivil(year, 1, 1);
  switch (d.kind) {
    case Kind::kJulianNoLeap:  // 1..365, February 29 is never counted
      return jan1 + d.day - 1 + (IsLeapYear(year) && d.day >= 60 ? 1 : 0);
    case Kind::kZeroBased:  // 0..365, February 29 counts
      return jan1 + d.day;
    case Kind::kMonthWeekDay: {
      const std::int64_t first = DaysFromCivil(year, static_cast<unsigned>(d.month), 1);
      const std::int64_t weekday = (first + 4) % 7 >= 0 ? (first + 4) % 7 : (first + 4) % 7 + 7;
      std::int64_t day = first + (d.day - weekday + 7) % 7 + 7 * (d.week - 1);
      // Week 5 means "the last": step back while past the end of the month.
      const std::int64_t next_month = first + DaysInMonth(year, static_cast<unsigned>(d.month));
      while (day >= next_month) day -= 7;
      return day;
    }
  }
  return jan1;
}

// ---------------------------------------------------------------------------------------------
// TZif (RFC 8536): big-endian header and data blocks.

class ByteReader {
 public:
  explicit ByteReader(std::string_view b) : b_(b) {}
  bool Has(std::uint64_t n) const { return n <= b_.size() - pos_; }
  std::size_t pos() const { return pos_; }
  std::string_view rest() const { return b_.substr(pos_); }
  void Skip(std::uint64_t n) { pos_ += static_cast<std::size_t>(n); }  // after Has(n)
  std::uint8_t U8() { return static_cast<std::uint8_t>(b_[pos_++]); }
  std::uint64_t UBig(int size) {
    std::uint64_t v = 0;
    for (int i = 0; i < size; ++i) v = (v << 8) | U8();
    return v;
  }
  std::int64_t I32() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(UBig(4))); }
  std::int64_t I64() { return static_cast<std::int64_t>(UBig(8)); }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

struct TzifHeader {
  char version = 0;
  std::uint64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  std::uint64_t DataSize(int time_size) const {
    return timecnt * time_size + timecnt + typecnt * 6 + charcnt + leapcnt * (time_size + 4) +
           isstdcnt + isutcnt;
  }
};

Status ReadHeader(ByteReader& r, TzifHeader* h) {
  if (!r.Has(44)) return Status::InvalidArgument("TZif header is truncated");
  if (r.rest().substr(0, 4) != "TZif") return Status::InvalidArgument("not a TZif file");
  r.Skip(4);
  h->version = static_cast<char>(r.U8());
  if (h->version != 0 && h->version < '2') {
    return Status::InvalidArgument("TZif version is unknown");
  }
  r.Skip(15);  // reserved
  h->isutcnt = r.UBig(4);
  h->isstdcnt = r.UBig(4);
  h->leapcnt = r.UBig(4);
  h->timecnt = r.UBig(4);
  h->typecnt = r.UBig(4);
  h->charcnt = r.UBig(4);
  // RFC 8536 section 3.1: typecnt and charcnt MUST NOT be zero; isutcnt and isstdcnt are zero
  // or typecnt. Type indices are one octet, so more than 256 types cannot be referenced.
  if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0) {
    return Status::InvalidArgument("TZif header has an invalid type or character count");
  }
  if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
      (h->isstdcnt != 0 && h->isstdcnt != h->typecnt)) {
    return Status::InvalidArgument("TZif header has invalid indicator counts");
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<std::shared_ptr<const TimeZone>> TimeZone::FromTzif(std::string_view name,
                                                           std::string_view bytes) {
  ByteReader r(bytes);
  TzifHeader h;
  FHIRBRIDGE_RETURN_IF_ERROR(ReadHeader(r, &h));
  int time_size = 4;
  if (h.version != 0) {
    // Version 2+: skip the 32-bit block; the 64-bit one follows with its own header.
    if (!r.Has(h.DataSize(4))) return Status::InvalidArgument("TZif v1 data block is truncated");
    r.Skip(h.DataSize(4));
    FHIRBRIDGE_RETURN_IF_ERROR(ReadHeader(r, &h));
    time_size = 8;
  }
  if (!r.Has(h.DataSize(time_size))) {
    return Status::InvalidArgument("TZif data block is truncated (counts exceed the data)");
  }

  std::shared_ptr<TimeZone> tz(new TimeZone());
  tz->name_ = std::string(name);
  tz->transitions_.reserve(h.timecnt);
  for (std::uint64_t i = 0; i < h.timecnt; ++i) {
    const std::int64_t t = time_size == 8 ? r.I64() : r.I32();
    if (!tz->transitions_.empty() && t <= tz->transitions_.back()) {
      return Status::InvalidArgument("TZif transition times are not ascending");
    }
    tz->transitions_.push_back(t);
  }
  tz->transition_types_.reserve(h.timecnt);
  for (std::uint64_t i = 0; i < h.timecnt; ++i) {
    const std::uint8_t type = r.U8();
    if (type >= h.typecnt) return Status::InvalidArgument("TZif transition type out of range");
    tz->transition_types_.push_back(type);
  }
  for (std::uint64_t i = 0; i < h.typecnt; ++i) {
    const std::int64_t utoff = r.I32();
    const std::uint8_t is_dst = r.U8();
    const std::uint8_t desig = r.U8();
    if (utoff < kMinOffset || utoff > kMaxOffset || is_dst > 1 || desig >= h.charcnt) {
      return Status::InvalidArgument("TZif local time type is invalid");
    }
    tz->type_offsets_.push_back(static_cast<int>(utoff));
  }
  // Abbreviations, leap-second records ("right/" zones) and the std/wall and UT/local
  // indicators only matter to tools that rebuild POSIX rules: skip them.
  r.Skip(h.charcnt + h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt);

  if (time_size == 8) {
    // Footer: "\n" TZ-string "\n" (RFC 8536 section 3.3).
    const std::string_view rest = r.rest();
    const std::size_t close = rest.find('\n', 1);
    if (rest.empty() || rest[0] != '\n' || close == std::string_view::npos) {
      return Status::InvalidArgument("TZif footer is missing or unterminated");
    }
    const std::string_view tz_string = rest.substr(1, close - 1);
    if (!tz_string.empty()) {
      if (!TzStringParser(tz_string).Parse(&tz->footer_) || tz->footer_.std_offset < kMinOffset ||
          tz->footer_.std_offset > kMaxOffset || tz->footer_.dst_offset < kMinOffset ||
          tz->footer_.dst_offset > kMaxOffset) {
        return Status::InvalidArgument("TZif footer TZ string is malformed");
      }
      tz->has_footer_ = true;
    }
  }
  tz->CollectCandidateOffsets();
  return std::shared_ptr<const TimeZone>(std::move(tz));
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(std::string_view name,
                                                       const std::string& zoneinfo_dir) {
  // The name comes from configuration: never let it reach outside zoneinfo_dir.
  if (name.empty() || name.size() > 255) {
    return Status::InvalidArgument("time zone name is empty or too long");
  }
  if (name.find("..") != std::string_view::npos || name.front() == '/') {
    return Status::InvalidArgument("time zone name must not contain '..' or start with '/'");
  }
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '+' || c == '-' || c == '/';
    if (!ok) {
      return Status::InvalidArgument(
          "time zone name may only contain letters, digits, '_', '+', '-' and '/'");
    }
  }
  const std::filesystem::path path = std::filesystem::path(zoneinfo_dir) / std::string(name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound("time zone '" + std::string(name) + "' not found in " + zoneinfo_dir);
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxTzifFileSize) {
    return Status::InvalidArgument("time zone '" + std::string(name) +
                                   "': file is unreadable or too large for TZif");
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return Status::FailedPrecondition("time zone '" + std::string(name) + "': cannot read " +
                                      path.string());
  }
  auto tz = FromTzif(name, bytes);
  if (!tz.ok()) return tz.status().WithContext("time zone '" + std::string(name) + "'");
  return tz;
}

std::shared_ptr<const TimeZone> TimeZone::FixedOffset(std::string name, int offset_seconds) {
  std::shared_ptr<TimeZone> tz(new TimeZone());
  tz->name_ = std::move(name);
  tz->type_offsets_.push_back(offset_seconds);
  tz->CollectCandidateOffsets();
  return tz;
}

void TimeZone::CollectCandidateOffsets() {
  candidate_offsets_ = type_offsets_;
  if (has_footer_) {
    candidate_offsets_.push_back(footer_.std_offset);
    if (footer_.has_dst) candidate_offsets_.push_back(footer_.dst_offset);
  }
  std::sort(candidate_offsets_.begin(), candidate_offsets_.end(), std::greater<int>());
  candidate_offsets_.erase(std::unique(candidate_offsets_.begin(), candidate_offsets_.end()),
                           candidate_offsets_.end());
}

int TimeZone::FooterOffset(std::int64_t utc_seconds) const {
  if (!footer_.has_dst) return footer_.std_offset;
  // Keep years inside `int` whatever the caller passes (2^50 s is ~35 million years).
  constexpr std::int64_t kLimit = std::int64_t{1} << 50;
  const std::int64_t t = std::clamp(utc_seconds, -kLimit, kLimit);
  const int year = CivilFromDays(FloorDiv(t + footer_.std_offset, kSecondsPerDay)).year;
  // Rule times up to 167 h can push a transition into a neighbouring year, and southern zones
  // start DST late in the year: take the latest transition at or before `t` among three years.
  bool found = false;
  std::int64_t best = 0;
  int offset = footer_.std_offset;
  auto consider = [&](std::int64_t when, bool is_dst) {
    // On a tie DST wins: RFC 8536 section 3.3.1 writes all-year DST as a rule whose end
    // coincides with the next start.
    if (when > t || (found && (when < best || (when == best && !is_dst)))) return;
    found = true;
    best = when;
    offset = is_dst ? footer_.dst_offset : footer_.std_offset;
  };
  for (int y = year - 1; y <= year + 1; ++y) {
    consider(RuleDay(footer_.end, y) * kSecondsPerDay + footer_.end.time - footer_.dst_offset,
             false);
    consider(RuleDay(footer_.start, y) * kSecondsPerDay + footer_.start.time - footer_.std_offset,
             true);
  }
  return offset;
}

int TimeZone::OffsetAt(std::int64_t utc_seconds) const {
  // RFC 8536 section 3.2: type 0 before the first transition; the footer from the last one on.
  if (transitions_.empty()) return has_footer_ ? FooterOffset(utc_seconds) : type_offsets_[0];
  if (utc_seconds < transitions_.front()) return type_offsets_[0];
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_seconds);
  const std::size_t index = static_cast<std::size_t>(it - transitions_.begin()) - 1;
  if (index + 1 == transitions_.size() && has_footer_) return FooterOffset(utc_seconds);
  return type_offsets_[transition_types_[index]];
}

TimeZone::LocalResolution TimeZone::Resolve(std::int64_t local_seconds) const {
  // A wall time is real at offset o exactly when the zone's offset at (local - o) is o. Trying
  // every offset the zone knows, largest first, yields the instants in ascending order.
  constexpr std::int64_t kLimit = std::int64_t{1} << 62;  // keeps local - o from overflowing
  const std::int64_t local = std::clamp(local_seconds, -kLimit, kLimit);
  LocalResolution out;
  for (int offset : candidate_offsets_) {
    if (OffsetAt(local - offset) != offset) continue;
    out.offsets[out.count++] = offset;
    if (out.count == 2) break;
  }
  return out;
}

}  // namespace fhirbridge
