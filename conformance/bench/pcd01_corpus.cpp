#include "conformance/bench/pcd01_corpus.h"

#include <array>
#include <cstdio>

namespace fhirbridge::conformance {

namespace {

struct Metric {
  const char* code;
  const char* unit;
  int base;
};

// Codes and units as IHE PCD-01 monitors report them.
constexpr std::array<Metric, 12> kMetrics = {{
    {"150021^MDC_PRESS_BLD_NONINV_SYS^MDC", "266016^MDC_DIM_MMHG^MDC", 120},
    {"150022^MDC_PRESS_BLD_NONINV_DIA^MDC", "266016^MDC_DIM_MMHG^MDC", 80},
    {"150023^MDC_PRESS_BLD_NONINV_MEAN^MDC", "266016^MDC_DIM_MMHG^MDC", 93},
    {"147842^MDC_ECG_HEART_RATE^MDC", "264864^MDC_DIM_BEAT_PER_MIN^MDC", 72},
    {"150456^MDC_PULS_OXIM_SAT_O2^MDC", "262688^MDC_DIM_PERCENT^MDC", 97},
    {"149530^MDC_PULS_OXIM_PULS_RATE^MDC", "{beat}/min^{beat}/min^UCUM", 71},
    {"151562^MDC_RESP_RATE^MDC", "264928^MDC_DIM_RESP_PER_MIN^MDC", 16},
    {"150364^MDC_TEMP_BODY^MDC", "268192^MDC_DIM_DEGC^MDC", 37},
    {"147232^MDC_ECG_TIME_PD_QT_GL^MDC", "264338^MDC_DIM_MILLI_SEC^MDC", 380},
    {"147236^MDC_ECG_TIME_PD_QTc^MDC", "264338^MDC_DIM_MILLI_SEC^MDC", 410},
    {"150448^MDC_PULS_OXIM_PERF_REL^MDC", "262656^MDC_DIM_DIMLESS^MDC", 3},
    {"151728^MDC_AWAY_CO2_ET^MDC", "266016^MDC_DIM_MMHG^MDC", 38},
}};

void Append(std::string& out, const char* fmt, auto... args) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof buf, fmt, args...);
  out.append(buf, static_cast<std::size_t>(n));
}

}  // namespace

std::string MakePcd01Message(int obx_count, int seed) {
  std::string m;
  m.reserve(static_cast<std::size_t>(obx_count) * 140 + 600);
  Append(m,
         "MSH|^~\\&|MONITOR_GW^0123456789ABCDEF^EUI-64|ICU|||20240315101500-0400||ORU^R01^ORU_R01|"
         "CTL%08d|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^"
         "ISO\r",
         seed);
  Append(m, "PID|||MRN%06d^^^&1.2.840.114350.1.13.1&ISO^MR||Doe^Jane^Q^^^^L||19700101|F\r",
         seed % 1000000);
  m += "PV1||I|ICU^12^1\r";
  Append(m,
         "OBR|1|ORD%d^MONITOR_GW|FIL%d^MONITOR_GW|182777000^monitoring of patient^SCT|||"
         "20240315101200-0400\r",
         seed, seed);
  int obx = 0;
  Append(m,
         "OBX|%d||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||"
         "MON^^001122334455%04X^EUI-64\r",
         ++obx, seed & 0xffff);
  int vmd = 0, metric = 0;
  while (obx < obx_count) {
    // Each VMD has one channel and up to 8 metrics: 2 device rows per 10 OBX, as monitors send.
    ++vmd;
    Append(m, "OBX|%d||70686^MDC_DEV_PRESS_BLD_NONINV_VMD^MDC|1.%d.0.0|||||||X\r", ++obx, vmd);
    if (obx >= obx_count) break;
    Append(m,
           "OBX|%d||70687^MDC_DEV_PRESS_BLD_NONINV_CHAN^MDC|1.%d.1.0|||||||X|||20240315101%01d00-"
           "0400\r",
           ++obx, vmd, vmd % 10);
    for (int k = 1; k <= 8 && obx < obx_count; ++k) {
      const Metric& mt = kMetrics[static_cast<std::size_t>(metric++) % kMetrics.size()];
      ++obx;
      Append(m, "OBX|%d|NM|%s|1.%d.1.%d|%d.%d|%s|50-150|N|||F|||202403151014%02d-0400\r", obx,
             mt.code, vmd, k, mt.base + (seed + k) % 7, (seed + obx) % 10, mt.unit,
             (vmd + seed) % 60);
    }
  }
  return m;
}

std::vector<std::string> MakePcd01Corpus(int count, int min_obx, int max_obx) {
  std::vector<std::string> corpus;
  corpus.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const int span = max_obx - min_obx + 1;
    corpus.push_back(MakePcd01Message(min_obx + i % span, i));
  }
  return corpus;
}

}  // namespace fhirbridge::conformance
