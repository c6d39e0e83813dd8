#pragma once

// An agent's configuration (20601 section 8.4 and A.11.3): the metric and scanner objects it
// reports with, their types and units, and the Attribute-Value-Maps that give the layout of
// fixed-format and grouped scan reports. Either read from the agent's MDC_NOTI_CONFIG report or
// taken from the standard configurations of the device specialisations (standard_configs.cpp).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "connectors/ieee11073/phd/mder.h"
#include "fhirbridge/result.h"

namespace fhirbridge::phd {

/// Object classes (MDC_MOC_*, partition 1).
namespace object_class {
inline constexpr std::uint16_t kEnumeration = 5;  ///< MDC_MOC_VMO_METRIC_ENUM
inline constexpr std::uint16_t kNumeric = 6;      ///< MDC_MOC_VMO_METRIC_NU
inline constexpr std::uint16_t kRtsa = 9;         ///< MDC_MOC_VMO_METRIC_SA_RT
inline constexpr std::uint16_t kScanEpisodic = 18;
inline constexpr std::uint16_t kScanPeriodic = 19;
inline constexpr std::uint16_t kPmStore = 61;
}  // namespace object_class

/// Attribute ids (MDC_ATTR_*, partition 1) the manager reads.
namespace attr {
inline constexpr std::uint16_t kIdModel = 0x0928;               ///< 2344 SystemModel
inline constexpr std::uint16_t kIdProdSpecn = 0x092D;           ///< 2349
inline constexpr std::uint16_t kIdType = 0x092F;                ///< 2351 TYPE
inline constexpr std::uint16_t kMsmtStat = 0x0947;              ///< 2375 MeasurementStatus
inline constexpr std::uint16_t kNuAccurMsmt = 0x094A;           ///< 2378 FLOAT
inline constexpr std::uint16_t kNuCmpdValObs = 0x094B;          ///< 2379 NuObsValueCmp
inline constexpr std::uint16_t kNuValObs = 0x0950;              ///< 2384 NuObsValue
inline constexpr std::uint16_t kSysId = 0x0984;                 ///< 2436
inline constexpr std::uint16_t kSysType = 0x0986;               ///< 2438
inline constexpr std::uint16_t kTimeAbs = 0x0987;               ///< 2439 Date-and-Time
inline constexpr std::uint16_t kTimeStampAbs = 0x0990;          ///< 2448 AbsoluteTime
inline constexpr std::uint16_t kTimeStampRel = 0x0991;          ///< 2449 RelativeTime
inline constexpr std::uint16_t kUnitCode = 0x0996;              ///< 2454 OID-Type
inline constexpr std::uint16_t kDevConfigId = 0x0A44;           ///< 2628
inline constexpr std::uint16_t kMetricSpecSmall = 0x0A46;       ///< 2630
inline constexpr std::uint16_t kSourceHandleRef = 0x0A47;       ///< 2631
inline constexpr std::uint16_t kNuValObsBasic = 0x0A4C;         ///< 2636 SFLOAT
inline constexpr std::uint16_t kScanHandleAttrValMap = 0x0A53;  ///< 2643
inline constexpr std::uint16_t kAttributeValMap = 0x0A55;       ///< 2645
inline constexpr std::uint16_t kNuValObsSimp = 0x0A56;          ///< 2646 FLOAT
inline constexpr std::uint16_t kSysTypeSpecList = 0x0A5A;       ///< 2650 TypeVerList
inline constexpr std::uint16_t kMetricStructSmall = 0x0A73;     ///< 2675
inline constexpr std::uint16_t kNuCmpdValObsSimp = 0x0A74;      ///< 2676 FLOAT list
inline constexpr std::uint16_t kNuCmpdValObsBasic = 0x0A75;     ///< 2677 SFLOAT list
inline constexpr std::uint16_t kIdPhysioList = 0x0A76;          ///< 2678 MetricIdList
}  // namespace attr

/// One entry of an Attribute-Value-Map: an attribute and the byte length of its value.
struct ValueMapEntry {
  std::uint16_t attribute_id = 0;
  std::uint16_t length = 0;
};

/// A metric or scanner object of the agent.
struct ConfigObject {
  std::uint16_t obj_class = 0;
  std::uint16_t handle = 0;
  std::uint32_t type = 0;  ///< context-free code: partition << 16 | term code (0 = none given)
  std::uint16_t unit = 0;  ///< MDC_PART_DIM term code; 0 = none given
  std::uint16_t metric_spec_small = 0;
  /// MDC_ATTR_ID_PHYSIO_LIST: the context-free codes of a compound's values, in order.
  std::vector<std::uint32_t> compound_ids;
  /// MDC_ATTR_ATTRIBUTE_VAL_MAP: the layout of this object's fixed-format observations.
  std::vector<ValueMapEntry> value_map;
  /// MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP of a scanner: per handle, the layout in grouped reports.
  struct HandleMap {
    std::uint16_t handle = 0;
    std::vector<ValueMapEntry> map;
  };
  std::vector<HandleMap> scan_handle_maps;

  bool is_metric() const {
    return obj_class == object_class::kNumeric || obj_class == object_class::kEnumeration ||
           obj_class == object_class::kRtsa;
  }
};

/// An agent's objects under one dev-config-id.
struct Configuration {
  std::uint16_t id = 0;
  std::vector<ConfigObject> objects;

  /// The object with `handle`, or nullptr.
  const ConfigObject* Find(std::uint16_t handle) const;
};

/// 20601 A.11.3: 0x0001..0x3FFF are standard configurations, 0x4000..0x7FFF extended ones.
inline bool IsExtendedConfigId(std::uint16_t id) { return id >= 0x4000 && id <= 0x7FFF; }

/// Decodes a ConfigReport (the event-info of MDC_NOTI_CONFIG). `base_offset` is the position of
/// `info` in the stream. Checks what the reports will rely on: unique non-zero handles, a TYPE
/// on every metric, value maps whose lengths fit their attributes' encodings.
Result<Configuration> DecodeConfigReport(std::span<const std::uint8_t> info,
                                         std::size_t base_offset, const DecodeLimits& limits);

/// The standard configuration `dev_config_id` of a device specialisation we know (pulse
/// oximeter 0x0190, blood pressure 0x02BC, thermometer 0x0320, weighing scale 0x05DC, glucose
/// 0x06A4), or nullptr.
const Configuration* StandardConfiguration(std::uint16_t dev_config_id);

/// The MDC_DEV_SPEC_PROFILE_* context-free code of a standard configuration's specialisation
/// (e.g. 528388 for 0x0190), or 0.
std::uint32_t SpecializationOfStandardConfig(std::uint16_t dev_config_id);

/// The fixed length an attribute's value has in MDER, or 0 when it varies or is not known.
std::uint16_t FixedAttributeLength(std::uint16_t attribute_id);

}  // namespace fhirbridge::phd
