#include "fhirbridge/timezone.h"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

namespace fhirbridge {
namespace {

constexpr int kHour = 3600;
const std::string kZoneinfo = "/usr/share/zoneinfo";

std::int64_t Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

std::shared_ptr<const TimeZone> MustLoad(const std::string& name) {
  auto tz = TimeZone::Load(name);
  BOOST_TEST_REQUIRE(tz.ok(), name << ": " << tz.status().ToString());
  return *tz;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string Be(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

std::string Header(std::uint32_t timecnt, std::uint32_t typecnt, std::uint32_t charcnt) {
  return std::string("TZif2") + std::string(15, '\0') + Be(0, 4) + Be(0, 4) + Be(0, 4) +
         Be(timecnt, 4) + Be(typecnt, 4) + Be(charcnt, 4);
}

/// A v2 TZif file: a minimal v1 block (as zic's "slim" output has), then the 64-bit block.
std::string MakeTzif(const std::vector<std::int64_t>& times, const std::vector<int>& type_of,
                     const std::vector<int>& offsets, const std::string& footer) {
  std::string out = Header(0, 1, 1) + Be(0, 4) + '\0' + '\0' + '\0';
  out += Header(static_cast<std::uint32_t>(times.size()),
                static_cast<std::uint32_t>(offsets.size()), 4);
  for (std::int64_t t : times) out += Be(static_cast<std::uint64_t>(t), 8);
  for (int i : type_of) out += static_cast<char>(i);
  for (int o : offsets) out += Be(static_cast<std::uint32_t>(o), 4) + '\0' + '\0';
  out += std::string("XYZ") + '\0';
  return out + "\n" + footer + "\n";
}

/// A zone with no transitions, defined by its footer alone.
std::shared_ptr<const TimeZone> FromFooter(const std::string& footer) {
  auto tz = TimeZone::FromTzif("test", MakeTzif({}, {}, {0}, footer));
  BOOST_TEST_REQUIRE(tz.ok(), footer << ": " << tz.status().ToString());
  return *tz;
}

BOOST_AUTO_TEST_SUITE(timezone)

BOOST_AUTO_TEST_CASE(civil_days_round_trip) {
  BOOST_TEST(DaysFromCivil(1970, 1, 1) == 0);
  BOOST_TEST(DaysFromCivil(2000, 3, 1) == 11017);
  BOOST_TEST(DaysFromCivil(1969, 12, 31) == -1);
  BOOST_TEST(DaysFromCivil(0, 3, 1) == -719468);
  for (std::int64_t days = -800000; days <= 800000; days += 37) {
    const CivilDate c = CivilFromDays(days);
    BOOST_TEST_REQUIRE(DaysFromCivil(c.year, c.month, c.day) == days);
    BOOST_TEST_REQUIRE(c.day <= DaysInMonth(c.year, c.month));
  }
  const CivilDate leap = CivilFromDays(DaysFromCivil(2016, 2, 29));
  BOOST_TEST(leap.year == 2016);
  BOOST_TEST(leap.month == 2u);
  BOOST_TEST(leap.day == 29u);
  BOOST_TEST(IsLeapYear(2000));
  BOOST_TEST(!IsLeapYear(1900));
  BOOST_TEST(IsLeapYear(2016));
  BOOST_TEST(DaysInMonth(2015, 2) == 28u);
  BOOST_TEST(DaysInMonth(2016, 2) == 29u);
  BOOST_TEST(DaysInMonth(2016, 13) == 0u);
}

BOOST_AUTO_TEST_CASE(new_york) {
  auto ny = MustLoad("America/New_York");
  BOOST_TEST(ny->name() == "America/New_York");
  BOOST_TEST(ny->OffsetAt(Utc(2015, 1, 15, 12)) == -5 * kHour);
  BOOST_TEST(ny->OffsetAt(Utc(2015, 7, 15, 12)) == -4 * kHour);
  BOOST_TEST(ny->OffsetAt(Utc(2030, 1, 15, 12)) == -5 * kHour);
  BOOST_TEST(ny->OffsetAt(Utc(2030, 7, 15, 12)) == -4 * kHour);
  // Past Debian's last listed transition (2037): the footer rule EST5EDT,M3.2.0,M11.1.0.
  BOOST_TEST(ny->OffsetAt(Utc(2040, 1, 15, 12)) == -5 * kHour);
  BOOST_TEST(ny->OffsetAt(Utc(2040, 7, 15, 12)) == -4 * kHour);
  BOOST_TEST(ny->OffsetAt(Utc(2100, 3, 14, 6, 59, 59)) == -5 * kHour);  // 2nd Sunday, 01:59:59
  BOOST_TEST(ny->OffsetAt(Utc(2100, 3, 14, 7)) == -4 * kHour);
  // Exactly at the 2015 transitions (07:00 UTC and 06:00 UTC).
  BOOST_TEST(ny->OffsetAt(Utc(2015, 3, 8, 6, 59, 59)) == -5 * kHour);
  BOOST_TEST(ny->OffsetAt(Utc(2015, 3, 8, 7)) == -4 * kHour);
  BOOST_TEST(ny->OffsetAt(Utc(2015, 11, 1, 5, 59, 59)) == -4 * kHour);
  BOOST_TEST(ny->OffsetAt(Utc(2015, 11, 1, 6)) == -5 * kHour);
  // Before 1883 New York kept local mean time, -4:56:02 (type 0).
  BOOST_TEST(ny->OffsetAt(Utc(1850, 1, 1)) == -(4 * kHour + 56 * 60 + 2));
}

BOOST_AUTO_TEST_CASE(new_york_gap_and_overlap) {
  auto ny = MustLoad("America/New_York");
  BOOST_TEST(ny->Resolve(Utc(2015, 3, 8, 2, 30)).count == 0);
  BOOST_TEST(ny->Resolve(Utc(2015, 3, 8, 1, 59, 59)).count == 1);
  BOOST_TEST(ny->Resolve(Utc(2015, 3, 8, 3, 0)).count == 1);
  BOOST_TEST(ny->Resolve(Utc(2015, 3, 8, 3, 0)).offsets[0] == -4 * kHour);

  const TimeZone::LocalResolution overlap = ny->Resolve(Utc(2015, 11, 1, 1, 30));
  BOOST_TEST(overlap.count == 2);
  BOOST_TEST(overlap.offsets[0] == -4 * kHour);  // the first occurrence, still EDT
  BOOST_TEST(overlap.offsets[1] == -5 * kHour);

  const TimeZone::LocalResolution winter = ny->Resolve(Utc(2015, 1, 22, 11, 50));
  BOOST_TEST(winter.count == 1);
  BOOST_TEST(winter.offsets[0] == -5 * kHour);
  BOOST_TEST(ny->Resolve(Utc(2040, 3, 11, 2, 30)).count == 0);  // footer gap
  BOOST_TEST(ny->Resolve(Utc(2040, 11, 4, 1, 30)).count == 2);  // footer overlap
}

BOOST_AUTO_TEST_CASE(berlin_kolkata_lord_howe_utc) {
  auto berlin = MustLoad("Europe/Berlin");
  BOOST_TEST(berlin->OffsetAt(Utc(2015, 1, 15)) == 1 * kHour);
  BOOST_TEST(berlin->OffsetAt(Utc(2015, 7, 15)) == 2 * kHour);
  BOOST_TEST(berlin->OffsetAt(Utc(2015, 3, 29, 0, 59, 59)) == 1 * kHour);  // last Sunday, 01:00Z
  BOOST_TEST(berlin->OffsetAt(Utc(2015, 3, 29, 1)) == 2 * kHour);
  BOOST_TEST(berlin->OffsetAt(Utc(2045, 10, 29, 0, 59, 59)) == 2 * kHour);  // footer, /3 end
  BOOST_TEST(berlin->OffsetAt(Utc(2045, 10, 29, 1)) == 1 * kHour);
  BOOST_TEST(berlin->Resolve(Utc(2015, 3, 29, 2, 30)).count == 0);
  BOOST_TEST(berlin->Resolve(Utc(2015, 10, 25, 2, 30)).count == 2);

  auto kolkata = MustLoad("Asia/Kolkata");
  BOOST_TEST(kolkata->OffsetAt(Utc(2015, 1, 15)) == 5 * kHour + 1800);
  BOOST_TEST(kolkata->OffsetAt(Utc(2040, 7, 15)) == 5 * kHour + 1800);
  BOOST_TEST(kolkata->Resolve(Utc(2015, 6, 1, 12)).count == 1);

  // Lord Howe Island moves its clocks by 30 minutes: +10:30 standard, +11 in summer.
  auto lord_howe = MustLoad("Australia/Lord_Howe");
  BOOST_TEST(lord_howe->OffsetAt(Utc(2015, 1, 15)) == 11 * kHour);
  BOOST_TEST(lord_howe->OffsetAt(Utc(2015, 7, 15)) == 10 * kHour + 1800);
  BOOST_TEST(lord_howe->OffsetAt(Utc(2045, 1, 15)) == 11 * kHour);
  BOOST_TEST(lord_howe->OffsetAt(Utc(2045, 7, 15)) == 10 * kHour + 1800);
  // 2015-10-04 02:00 local standard -> 02:30: a 30-minute gap.
  BOOST_TEST(lord_howe->Resolve(Utc(2015, 10, 4, 2, 15)).count == 0);
  BOOST_TEST(lord_howe->Resolve(Utc(2015, 10, 4, 2, 45)).count == 1);

  auto utc = MustLoad("UTC");
  BOOST_TEST(utc->OffsetAt(Utc(2015, 7, 15)) == 0);
  BOOST_TEST(utc->OffsetAt(Utc(1900, 1, 1)) == 0);
  BOOST_TEST(utc->Resolve(Utc(2015, 7, 15)).count == 1);
  BOOST_TEST(utc->Resolve(Utc(2015, 7, 15)).offsets[0] == 0);
}

BOOST_AUTO_TEST_CASE(fixed_offset) {
  auto tz = TimeZone::FixedOffset("+05:00", 5 * kHour);
  BOOST_TEST(tz->name() == "+05:00");
  BOOST_TEST(tz->OffsetAt(Utc(2015, 1, 1)) == 5 * kHour);
  BOOST_TEST(tz->Resolve(Utc(2015, 1, 1)).count == 1);
  BOOST_TEST(tz->Resolve(Utc(2015, 1, 1)).offsets[0] == 5 * kHour);
  // Extreme inputs clamp instead of overflowing.
  BOOST_TEST(tz->Resolve(std::numeric_limits<std::int64_t>::min()).count == 1);
  BOOST_TEST(
      MustLoad("America/New_York")->Resolve(std::numeric_limits<std::int64_t>::max()).count >= 1);
}

BOOST_AUTO_TEST_CASE(rejects_unsafe_and_missing_names) {
  for (const char* name : {"../etc/passwd", "America/../UTC", "..", "/etc/passwd",
                           "America/New York", "UTC\n", "Europe/Berlin;rm", "", "Zone\\x"}) {
    auto tz = TimeZone::Load(name);
    BOOST_TEST(tz.status().IsInvalidArgument(), name << ": " << tz.status().ToString());
  }
  BOOST_TEST(TimeZone::Load("Mars/Olympus_Mons").status().IsNotFound());
  BOOST_TEST(TimeZone::Load("America").status().IsNotFound());  // a directory
  BOOST_TEST(TimeZone::Load("UTC", "/nonexistent/zoneinfo").status().IsNotFound());
  // A file that exists but is not TZif.
  BOOST_TEST(TimeZone::Load("zone.tab").status().IsInvalidArgument());
}

BOOST_AUTO_TEST_CASE(corrupt_bytes_are_errors) {
  const std::string ny = ReadFile(kZoneinfo + "/America/New_York");
  BOOST_TEST_REQUIRE(ny.size() > 100u);
  BOOST_TEST(TimeZone::FromTzif("x", ny).ok());
  // Every truncation fails cleanly (the last byte is the footer's closing newline).
  for (std::size_t len = 0; len < ny.size(); ++len) {
    BOOST_TEST_REQUIRE(TimeZone::FromTzif("x", ny.substr(0, len)).status().IsInvalidArgument());
  }
  BOOST_TEST(TimeZone::FromTzif("x", "").status().IsInvalidArgument());
  BOOST_TEST(TimeZone::FromTzif("x", "TZif2").status().IsInvalidArgument());
  BOOST_TEST(TimeZone::FromTzif("x", std::string(60, 'x')).status().IsInvalidArgument());

  // Counts that exceed the data: timecnt of the 64-bit header (offset 44 + v1 block + 32).
  std::string huge = MakeTzif({0}, {0}, {3600}, "");
  BOOST_TEST(TimeZone::FromTzif("x", huge).ok());
  const std::size_t second_header = 44 + 6 + 1;
  huge.replace(second_header + 32, 4, Be(0xffffffffu, 4));
  BOOST_TEST(TimeZone::FromTzif("x", huge).status().IsInvalidArgument());
  // ...and in the v1 header.
  std::string v1 = MakeTzif({}, {}, {0}, "UTC0");
  v1.replace(32, 4, Be(0x7fffffffu, 4));
  BOOST_TEST(TimeZone::FromTzif("x", v1).status().IsInvalidArgument());

  BOOST_TEST(TimeZone::FromTzif("x", MakeTzif({0}, {5}, {0}, "")).status().IsInvalidArgument());
  BOOST_TEST(
      TimeZone::FromTzif("x", MakeTzif({10, 5}, {0, 0}, {0}, "")).status().IsInvalidArgument());
  BOOST_TEST(TimeZone::FromTzif("x", MakeTzif({}, {}, {200000}, "")).status().IsInvalidArgument());
  BOOST_TEST(TimeZone::FromTzif("x", MakeTzif({}, {}, {}, "")).status().IsInvalidArgument());
  std::string bad_version = MakeTzif({}, {}, {0}, "");
  bad_version[4] = '1';
  BOOST_TEST(TimeZone::FromTzif("x", bad_version).status().IsInvalidArgument());
  std::string no_footer = MakeTzif({}, {}, {0}, "");
  no_footer.pop_back();
  BOOST_TEST(TimeZone::FromTzif("x", no_footer).status().IsInvalidArgument());
}

BOOST_AUTO_TEST_CASE(footer_forms) {
  BOOST_TEST(FromFooter("<+0330>-3:30")->OffsetAt(Utc(2030, 1, 1)) == 3 * kHour + 1800);
  BOOST_TEST(FromFooter("<-03>3")->OffsetAt(Utc(2030, 1, 1)) == -3 * kHour);
  BOOST_TEST(FromFooter("UTC0")->OffsetAt(Utc(2030, 1, 1)) == 0);
  BOOST_TEST(FromFooter("")->OffsetAt(Utc(2030, 1, 1)) == 0);  // empty: type 0

  auto cet = FromFooter("CET-1CEST,M3.5.0,M10.5.0/3");
  BOOST_TEST(cet->OffsetAt(Utc(2030, 3, 31, 0, 59, 59)) == kHour);
  BOOST_TEST(cet->OffsetAt(Utc(2030, 3, 31, 1)) == 2 * kHour);
  BOOST_TEST(cet->OffsetAt(Utc(2030, 10, 27, 0, 59, 59)) == 2 * kHour);
  BOOST_TEST(cet->OffsetAt(Utc(2030, 10, 27, 1)) == kHour);

  // Southern hemisphere: DST spans the new year.
  auto sydney = FromFooter("AEST-10AEDT,M10.1.0,M4.1.0/3");
  BOOST_TEST(sydney->OffsetAt(Utc(2030, 1, 1)) == 11 * kHour);
  BOOST_TEST(sydney->OffsetAt(Utc(2030, 7, 1)) == 10 * kHour);
  BOOST_TEST(sydney->OffsetAt(Utc(2030, 12, 31)) == 11 * kHour);

  // DST name without rule: POSIX leaves it open; the US rule, one hour ahead.
  auto us_default = FromFooter("EST5EDT");
  BOOST_TEST(us_default->OffsetAt(Utc(2030, 7, 1)) == -4 * kHour);
  BOOST_TEST(us_default->OffsetAt(Utc(2030, 1, 1)) == -5 * kHour);

  // Jn never counts February 29: J60 is March 1 even in 2016.
  auto julian = FromFooter("AAA0BBB,J60/0,J300/0");
  BOOST_TEST(julian->OffsetAt(Utc(2016, 2, 29, 23, 59, 59)) == 0);
  BOOST_TEST(julian->OffsetAt(Utc(2016, 3, 1)) == kHour);
  // n is zero-based and counts February 29: day 59 is Feb 29 in 2016, Mar 1 in 2015.
  auto zero_based = FromFooter("AAA0BBB-2,59/0,300/0");
  BOOST_TEST(zero_based->OffsetAt(Utc(2016, 2, 28, 23, 59, 59)) == 0);
  BOOST_TEST(zero_based->OffsetAt(Utc(2016, 2, 29)) == 2 * kHour);
  BOOST_TEST(zero_based->OffsetAt(Utc(2015, 2, 28, 23, 59, 59)) == 0);
  BOOST_TEST(zero_based->OffsetAt(Utc(2015, 3, 1)) == 2 * kHour);

  // Negative and >24 h rule times (RFC 8536 section 3.3.1), as in America/Nuuk.
  auto nuuk = FromFooter("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  // Last Sunday of March 2030 is the 31st; -1 h is Sat 30th 23:00 local = 01:00 UTC.
  BOOST_TEST(nuuk->OffsetAt(Utc(2030, 3, 31, 0, 59, 59)) == -2 * kHour);
  BOOST_TEST(nuuk->OffsetAt(Utc(2030, 3, 31, 1)) == -1 * kHour);
  // M3.2.0/167: 2nd Sunday of March 2030 is the 10th; +167 h is Sat 16th 23:00 EST.
  auto late = FromFooter("EST5EDT,M3.2.0/167,M11.1.0/-1:30");
  BOOST_TEST(late->OffsetAt(Utc(2030, 3, 17, 3, 59, 59)) == -5 * kHour);
  BOOST_TEST(late->OffsetAt(Utc(2030, 3, 17, 4)) == -4 * kHour);
  // 1st Sunday of November 2030 is the 3rd; -1:30 is Sat 2nd 22:30 EDT = 02:30 UTC.
  BOOST_TEST(late->OffsetAt(Utc(2030, 11, 3, 2, 29, 59)) == -4 * kHour);
  BOOST_TEST(late->OffsetAt(Utc(2030, 11, 3, 2, 30)) == -5 * kHour);

  // All-year DST (RFC 8536 section 3.3.1 example).
  auto all_year = FromFooter("EST5EDT,0/0,J365/25");
  for (std::int64_t t :
       {Utc(2030, 1, 1, 5), Utc(2030, 1, 1, 4, 59), Utc(2030, 7, 1), Utc(2031, 12, 31, 23)}) {
    BOOST_TEST(all_year->OffsetAt(t) == -4 * kHour);
  }

  for (const char* bad : {"EST", "E5", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0",
                          "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,J0,J365", "EST5EDT,M3.2.0/168,J1",
                          "<+03-3", "EST25", "EST5:60", "EST5EDT,M3.2.0,M11.1.0x"}) {
    auto tz = TimeZone::FromTzif("x", MakeTzif({}, {}, {0}, bad));
    BOOST_TEST(tz.status().IsInvalidArgument(), bad);
  }
}

BOOST_AUTO_TEST_CASE(transitions_then_footer) {
  // Slim-style: one transition into EST, then the footer decides.
  auto tz = TimeZone::FromTzif(
      "slim", MakeTzif({Utc(2000, 1, 1)}, {1}, {-17762, -5 * kHour}, "EST5EDT,M3.2.0,M11.1.0"));
  BOOST_TEST_REQUIRE(tz.ok());
  BOOST_TEST((*tz)->OffsetAt(Utc(1999, 6, 1)) == -17762);  // type 0 before the first
  BOOST_TEST((*tz)->OffsetAt(Utc(2015, 7, 1)) == -4 * kHour);
  BOOST_TEST((*tz)->OffsetAt(Utc(2015, 1, 1)) == -5 * kHour);
  BOOST_TEST((*tz)->Resolve(Utc(2015, 11, 1, 1, 30)).count == 2);
}

BOOST_AUTO_TEST_CASE(every_installed_zone_parses) {
  namespace fs = std::filesystem;
  int zones = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kZoneinfo)) {
    std::error_code ec;
    if (!fs::is_regular_file(entry.path(), ec)) continue;  // dirs, dangling "localtime"
    if (ReadFile(entry.path().string()).substr(0, 4) != "TZif") continue;  // *.tab, tzdata.zi
    const std::string name = fs::relative(entry.path(), kZoneinfo).generic_string();
    auto tz = TimeZone::Load(name);
    BOOST_TEST_REQUIRE(tz.ok(), name << ": " << tz.status().ToString());
    ++zones;
    // Every real instant's wall time must resolve back to the offset in force.
    for (std::int64_t t : {Utc(1960, 5, 1), Utc(2000, 1, 1), Utc(2015, 7, 15, 12),
                           Utc(2030, 11, 3, 5, 30), Utc(2050, 4, 1), Utc(2200, 1, 1)}) {
      const int offset = (*tz)->OffsetAt(t);
      const TimeZone::LocalResolution r = (*tz)->Resolve(t + offset);
      const bool found =
          (r.count >= 1 && r.offsets[0] == offset) || (r.count == 2 && r.offsets[1] == offset);
      BOOST_TEST_REQUIRE(found, name << " at " << t);
    }
  }
  BOOST_TEST(zones > 400);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge
