#pragma once

// Time of a PHD measurement (docs/connector-phd.md, "Time"). 20601 Absolute-Time-Stamps are
// the agent's local wall-clock time with no zone. In order:
//  1. the source's assume_timezone resolves it (like any local time, MAPPING.md "Time");
//  2. else the coincident time stamp (PHD IG): the agent's clock read at a known receive time
//     relates its time line to UTC, effective = receive time + (time stamp - clock reading);
//  3. else it cannot be placed: a data error.
// A measurement without a time stamp was taken when it arrived: the receive time.

#include <cstdint>
#include <optional>
#include <string>

#include "connectors/ieee11073/phd/agent_session.h"
#include "fhirbridge/issue.h"
#include "fhirbridge/result.h"
#include "fhirbridge/timezone.h"
#include "mappers/hl7_time.h"

namespace fhirbridge::mappers {

struct PhdTimeInputs {
  const TimeZone* zone = nullptr;                 ///< assume_timezone, or null
  const phd::DeviceIdentity* device = nullptr;    ///< the agent's clock reading, if any
  std::int64_t received_at_us = 0;                ///< when the report arrived (UTC)
  std::int64_t clock_skew_warning_seconds = 300;  ///< see PhdOptions
};

/// The effective time. Warnings (a DST overlap, a skewed agent clock, no time stamp) go to
/// `issues` with an empty location.
Result<FhirTime> PhdEffectiveTime(const std::optional<phd::AbsoluteTime>& stamp,
                                  const PhdTimeInputs& in, DataIssues& issues);

/// The time stamp as the agent reported it, for identifiers (PHD IG "Generating the Reported
/// Time Stamp Identifier"): "YYYYMMDDTHHMMSS.ss".
std::string ReportedTimeStampKey(const phd::AbsoluteTime& stamp);

/// A UTC instant (microseconds since the epoch) as a FHIR dateTime with "Z", second precision.
FhirTime UtcFromMicros(std::int64_t utc_us);

}  // namespace fhirbridge::mappers
