#pragma once

// Scan reports (20601 section 8.5.3 and A.11.5): the event-info of MDC_NOTI_SCAN_REPORT_* and
// MDC_NOTI_(UN)BUF_SCAN_REPORT_* decoded against the agent's configuration into measurements.
// Fixed and grouped formats take their layout from the configuration's Attribute-Value-Maps;
// variable formats name every attribute; MP variants add a person-id per block.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "connectors/ieee11073/phd/configuration.h"
#include "connectors/ieee11073/phd/mder.h"
#include "fhirbridge/result.h"

namespace fhirbridge::phd {

/// MeasurementStatus bits (20601 A.11.2, MDC_ATTR_MSMT_STAT).
namespace msmt_status {
inline constexpr std::uint16_t kInvalid = 0x8000;
inline constexpr std::uint16_t kQuestionable = 0x4000;
inline constexpr std::uint16_t kNotAvailable = 0x2000;
inline constexpr std::uint16_t kCalibrationOngoing = 0x1000;
inline constexpr std::uint16_t kTestData = 0x0800;
inline constexpr std::uint16_t kDemoData = 0x0400;
inline constexpr std::uint16_t kValidatedData = 0x0080;
inline constexpr std::uint16_t kEarlyIndication = 0x0040;
inline constexpr std::uint16_t kMsmtOngoing = 0x0020;
}  // namespace msmt_status

/// One numeric value: its code (the object's TYPE, or a compound part's id), number and unit.
struct NumericValue {
  std::uint32_t code = 0;  ///< context-free MDC code
  MderNumber number;
  std::uint16_t unit = 0;  ///< MDC_PART_DIM term code; 0 = none
};

/// What one object reported in one scan report.
struct Measurement {
  std::uint16_t handle = 0;
  std::uint32_t type = 0;                  ///< the object's TYPE (context-free)
  bool compound = false;                   ///< the values are the parts of `type`
  std::vector<NumericValue> values;        ///< empty when the report carried no value
  std::optional<AbsoluteTime> time;        ///< MDC_ATTR_TIME_STAMP_ABS when reported
  std::optional<std::uint16_t> status;     ///< MDC_ATTR_MSMT_STAT when reported
  std::optional<std::uint16_t> person_id;  ///< multi-person reports only
  std::size_t offset = 0;                  ///< of the observation in the stream
};

/// A decoded scan report.
struct ScanReport {
  std::uint16_t event_type = 0;
  std::uint16_t data_req_id = 0;
  std::uint16_t scan_report_no = 0;
  std::vector<Measurement> measurements;
};

/// True for the event types DecodeScanReport reads.
bool IsScanReport(std::uint16_t event_type);

/// Decodes the event-info of a scan report sent by `obj_handle` (0 for the MDS; a scanner's
/// handle for grouped reports). `base_offset` is the position of `info` in the stream. An
/// observation of a handle the configuration does not have, or whose attributes do not match
/// its Attribute-Value-Map, is an error with the location.
Result<ScanReport> DecodeScanReport(std::uint16_t event_type, std::uint16_t obj_handle,
                                    std::span<const std::uint8_t> info, std::size_t base_offset,
                                    const Configuration& config, const DecodeLimits& limits);

}  // namespace fhirbridge::phd
