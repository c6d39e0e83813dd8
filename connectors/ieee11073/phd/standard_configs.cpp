// The standard configurations of the device specialisations (IEEE 11073-104xx, section 6.4 of
// each: "Standard configuration"), as tables. An agent that associates with one of these
// dev-config-ids sends no configuration report: the manager must know the layout.
//
// Each object: handle, TYPE (MDC_PART_SCADA term code), unit (MDC_PART_DIM term code), and the
// Attribute-Value-Map of its fixed-format observations. The layouts match the fixed scan reports
// of 20601 Annex H and Antidote's test vectors (H241_ID_0190, H241_ID_02BC, H241_ID_05DC).

#include "connectors/ieee11073/phd/configuration.h"

namespace fhirbridge::phd {

namespace {

constexpr std::uint16_t kPartScada = 2;
// MDC_DEV_SPEC_PROFILE_* (MDC_PART_INFRA 8).
constexpr std::uint32_t kProfilePulseOximeter = 528388;
constexpr std::uint32_t kProfileBloodPressure = 528391;
constexpr std::uint32_t kProfileThermometer = 528392;
constexpr std::uint32_t kProfileScale = 528399;
constexpr std::uint32_t kProfileGlucose = 528401;

// MDC_ATTR_METRIC_SPEC_SMALL of the standard objects: mss-avail-intermittent,
// mss-avail-stored-data, mss-upd-aperiodic, mss-msmt-aperiodic, mss-acc-agent-initiated.
constexpr std::uint16_t kEpisodicSpec = 0xF040;

constexpr ValueMapEntry kBasic{attr::kNuValObsBasic, 2};  // SFLOAT
constexpr ValueMapEntry kSimple{attr::kNuValObsSimp, 4};  // FLOAT
constexpr ValueMapEntry kTime{attr::kTimeStampAbs, 8};

ConfigObject Numeric(std::uint16_t handle, std::uint16_t code, std::uint16_t unit,
                     std::vector<ValueMapEntry> map, std::uint16_t spec = kEpisodicSpec) {
  ConfigObject o;
  o.obj_class = object_class::kNumeric;
  o.handle = handle;
  o.type = (static_cast<std::uint32_t>(kPartScada) << 16) | code;
  o.unit = unit;
  o.metric_spec_small = spec;
  o.value_map = std::move(map);
  return o;
}

ConfigObject Compound(std::uint16_t handle, std::uint16_t code, std::uint16_t unit,
                      std::vector<std::uint16_t> parts, std::vector<ValueMapEntry> map) {
  ConfigObject o = Numeric(handle, code, unit, std::move(map));
  for (std::uint16_t p : parts) o.compound_ids.push_back((std::uint32_t{kPartScada} << 16) | p);
  return o;
}

struct Standard {
  std::uint32_t specialization;
  Configuration config;
};

std::vector<Standard> BuildStandards() {
  std::vector<Standard> s;
  // IEEE 11073-10404 pulse oximeter, 400 (0x0190): SpO2 (MDC_PULS_OXIM_SAT_O2 19384, %) and
  // pulse rate (MDC_PULS_OXIM_PULS_RATE 18458, MDC_DIM_BEAT_PER_MIN 2720), SFLOAT + time stamp.
  // The agent reports them periodically or on spot checks; metric-spec-small 0x4040.
  s.push_back({kProfilePulseOximeter,
               {0x0190,
                {Numeric(1, 19384, 544, {kBasic, kTime}, 0x4040),
                 Numeric(10, 18458, 2720, {kBasic, kTime}, 0x4040)}}});
  // IEEE 11073-10407 blood pressure monitor, 700 (0x02BC): the NIBP compound
  // (MDC_PRESS_BLD_NONINV 18948 with systolic 18949, diastolic 18950, mean 18951, mmHg 3872) and
  // pulse rate (MDC_PULS_RATE_NON_INV 18474, beats/min).
  s.push_back(
      {kProfileBloodPressure,
       {0x02BC,
        {Compound(1, 18948, 3872, {18949, 18950, 18951}, {{attr::kNuCmpdValObsBasic, 10}, kTime}),
         Numeric(2, 18474, 2720, {kBasic, kTime})}}});
  // IEEE 11073-10408 thermometer, 800 (0x0320): body temperature (MDC_TEMP_BODY 19292,
  // MDC_DIM_DEGC 6048), SFLOAT + time stamp.
  s.push_back({kProfileThermometer, {0x0320, {Numeric(1, 19292, 6048, {kBasic, kTime})}}});
  // IEEE 11073-10415 weighing scale, 1500 (0x05DC): body weight (MDC_MASS_BODY_ACTUAL 57664,
  // kg 1731), body height (MDC_LEN_BODY_ACTUAL 57668, cm 1297) and BMI
  // (MDC_RATIO_MASS_BODY_LEN_SQ 57680, kg/m2 1952), FLOAT + time stamp; an agent reports the
  // ones it measures (Annex H's example: handles 1 and 3).
  s.push_back(
      {kProfileScale,
       {0x05DC,
        {Numeric(1, 57664, 1731, {kSimple, kTime}), Numeric(2, 57668, 1297, {kSimple, kTime}),
         Numeric(3, 57680, 1952, {kSimple, kTime})}}});
  // IEEE 11073-10417 glucose meter, 1700 (0x06A4): capillary whole-blood glucose
  // (MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD 29112, MDC_DIM_MILLI_G_PER_DL 2130), SFLOAT + time stamp.
  s.push_back({kProfileGlucose, {0x06A4, {Numeric(1, 29112, 2130, {kBasic, kTime})}}});
  return s;
}

const std::vector<Standard>& Standards() {
  static const std::vector<Standard> standards = BuildStandards();
  return standards;
}

}  // namespace

const Configuration* StandardConfiguration(std::uint16_t dev_config_id) {
  for (const Standard& s : Standards())
    if (s.config.id == dev_config_id) return &s.config;
  return nullptr;
}

std::uint32_t SpecializationOfStandardConfig(std::uint16_t dev_config_id) {
  for (const Standard& s : Standards())
    if (s.config.id == dev_config_id) return s.specialization;
  return 0;
}

}  // namespace fhirbridge::phd
