#include "mappers/phd_time.h"

#include <cstdio>
#include <cstdlib>

namespace fhirbridge::mappers {

namespace {

// Seconds since the epoch of the agent's wall-clock reading, counted as if it were UTC.
std::int64_t LocalSeconds(const phd::AbsoluteTime& t) {
  return DaysFromCivil(t.year(), static_cast<unsigned>(t.month()), static_cast<unsigned>(t.day())) *
             86400 +
         t.hour() * 3600 + t.minute() * 60 + t.second();
}

Hl7Time FromSeconds(std::int64_t seconds, int hundredths) {
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  const CivilDate d = CivilFromDays(days);
  Hl7Time t;
  t.year = d.year;
  t.month = static_cast<int>(d.month);
  t.day = static_cast<int>(d.day);
  t.hour = static_cast<int>(rest / 3600);
  t.minute = static_cast<int>(rest / 60 % 60);
  t.second = static_cast<int>(rest % 60);
  t.precision = Hl7Time::Precision::kSecond;
  if (hundredths > 0 && hundredths < 100) {
    t.fraction = {static_cast<char>('0' + hundredths / 10),
                  static_cast<char>('0' + hundredths % 10)};
  }
  return t;
}

Result<FhirTime> Utc(std::int64_t seconds, int hundredths) {
  Hl7Time t = FromSeconds(seconds, hundredths);
  t.has_offset = true;
  t.minus_zero = true;  // written as "Z"
  return ToFhirDateTime(t, nullptr, nullptr);
}

bool ClockKnown(const PhdTimeInputs& in) {
  return in.device != nullptr && in.device->clock && in.device->clock->valid() &&
         in.device->clock_received_at_us != 0;
}

std::int64_t FloorSeconds(std::int64_t us) {
  return us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
}

}  // namespace

FhirTime UtcFromMicros(std::int64_t utc_us) {
  Result<FhirTime> t = Utc(FloorSeconds(utc_us), 0);
  return t.ok() ? std::move(t).value() : FhirTime{};
}

Result<FhirTime> PhdEffectiveTime(const std::optional<phd::AbsoluteTime>& stamp,
                                  const PhdTimeInputs& in, DataIssues& issues) {
  if (!stamp) {
    issues.push_back(DataIssue::Info(
        "informational", "",
        "no Absolute-Time-Stamp: the manager's receive time is the effective time"));
    return UtcFromMicros(in.received_at_us);
  }
  if (const std::string problem = stamp->Problem(); !problem.empty())
    return Status::InvalidArgument("Absolute-Time-Stamp: " + problem);
  const std::int64_t local = LocalSeconds(*stamp);
  if (in.zone != nullptr) {
    Hl7Time t = FromSeconds(local, stamp->hundredths());
    Result<FhirTime> out = ToFhirDateTime(t, in.zone, &issues);
    if (out.ok() && ClockKnown(in)) {
      // The agent's clock against the manager's, both as UTC.
      const std::int64_t clock_utc =
          LocalSeconds(*in.device->clock) - in.zone->OffsetAt(out->utc_seconds);
      const std::int64_t skew = clock_utc - FloorSeconds(in.device->clock_received_at_us);
      if (std::llabs(skew) > in.clock_skew_warning_seconds) {
        issues.push_back(DataIssue::Warning(
            "value", "",
            "the agent's clock differs from the manager's by " + std::to_string(skew) +
                " s (read as " + in.zone->name() + "): time stamps used as the agent gave them"));
      }
    }
    return out;
  }
  if (ClockKnown(in)) {
    // PHD IG coincident time stamp: the clock reading and the receive time are the same instant.
    const std::int64_t utc =
        FloorSeconds(in.device->clock_received_at_us) + (local - LocalSeconds(*in.device->clock));
    return Utc(utc, stamp->hundredths());
  }
  return Status::FailedPrecondition(
      "the agent's time stamps carry no zone: set the source's assume_timezone, or let the "
      "manager read the agent's clock (coincident time stamp)");
}

std::string ReportedTimeStampKey(const phd::AbsoluteTime& s) {
  // Every field is two BCD digits (the year four), so the text is always 18 characters.
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d.%02d", s.year() % 10000,
                s.month() % 100, s.day() % 100, s.hour() % 100, s.minute() % 100, s.second() % 100,
                s.hundredths() % 100);
  return buf;
}

}  // namespace fhirbridge::mappers
