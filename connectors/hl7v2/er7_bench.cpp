// Throughput of Parse() against plain memchr scans over the same bytes, on a PCD-01 message
// with ~30 OBX segments (~4 KB). Built when Google Benchmark is installed:
//   cmake --build build --target er7_bench && build/connectors/er7_bench

#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "connectors/hl7v2/er7.h"

namespace {

std::string Pcd01Message() {
  std::string m =
      "MSH|^~\\&|PAT_DEVICE_X|ACME|||20240122182658+0000||ORU^R01^ORU_R01|HP0122182658686QQ0|P|"
      "2.6|||AL|NE||UNICODE UTF-8|EN^English^ISO639||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1."
      "1.1^ISO\r"
      "PID|||HO2009001^^^^MR||Hon^Albert^\"\"^^^^L||19610101|M\r"
      "PV1||I|HO Surgery^OR^1\r"
      "OBR|1||201512218265601|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||20240122182656\r";
  for (int i = 1; i <= 30; ++i) {
    m += "OBX|" + std::to_string(i) + "|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1." +
         std::to_string(i) +
         "|117|266016^MDC_DIM_MMHG^MDC|90-160||||R|||20240122115000|||AMEAS^auto-measurement^MDC|"
         "0123456789ABCDEF^EUI-64\r";
  }
  return m;
}

void BM_Parse(benchmark::State& state) {
  const std::string msg = Pcd01Message();
  for (auto _ : state) {
    auto parsed = fhirbridge::hl7v2::Parse(msg);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * msg.size()));
  state.counters["bytes"] = static_cast<double>(msg.size());
}
BENCHMARK(BM_Parse);

/// Finds every occurrence of `c`: what a parser that only splits lines would cost.
void MemchrScan(benchmark::State& state, char c) {
  const std::string msg = Pcd01Message();
  for (auto _ : state) {
    std::size_t hits = 0;
    const char* p = msg.data();
    const char* end = p + msg.size();
    while (const void* hit = std::memchr(p, c, static_cast<std::size_t>(end - p))) {
      ++hits;
      p = static_cast<const char*>(hit) + 1;
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * msg.size()));
}
void BM_MemchrSegments(benchmark::State& state) { MemchrScan(state, '\r'); }
void BM_MemchrFields(benchmark::State& state) { MemchrScan(state, '|'); }
BENCHMARK(BM_MemchrSegments);
BENCHMARK(BM_MemchrFields);

/// Parse, then read every OBX-5 as text: the mapper's typical access pattern.
void BM_ParseAndReadObx5(benchmark::State& state) {
  const std::string msg = Pcd01Message();
  for (auto _ : state) {
    auto parsed = fhirbridge::hl7v2::Parse(msg);
    std::size_t total = 0;
    for (std::size_t i = 0; i < parsed->segment_count(); ++i) {
      const auto seg = parsed->segment(i);
      if (seg.id() == "OBX") total += seg.field(5).Text()->size();
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * msg.size()));
}
BENCHMARK(BM_ParseAndReadObx5);

}  // namespace

BENCHMARK_MAIN();
