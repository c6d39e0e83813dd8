// libFuzzer target for the IEEE 11073-20601 APDU decoder and the manager session. Built only
// with -DFHIRBRIDGE_FUZZ=ON (clang); see connectors/CMakeLists.txt for how to run it.
//
// The first input byte picks a prelude the session has consumed before the rest of the input
// arrives as a stream (nothing; an AARQ of standard configuration 0x0190, 0x02BC or 0x05DC; an
// AARQ of an extended configuration, so that a configuration report is expected), which lets
// the fuzzer reach scan-report and configuration decoding. The rest is also decoded directly as
// one APDU, one configuration report and one scan report of each standard configuration. Small
// limits make the limit paths reachable with small inputs.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "connectors/ieee11073/phd/agent_session.h"
#include "connectors/ieee11073/phd/apdu_stream.h"

namespace {

using namespace fhirbridge::phd;
using fhirbridge::Result;

/// Every check here is something the decoder promises; abort() makes libFuzzer report it.
void Require(bool condition) {
  if (!condition) std::abort();
}

std::string AarqBytes(std::uint16_t config) {
  // 20601 Annex H.2.1 AARQ with the given dev-config-id.
  std::string a(
      "\xE2\x00\x00\x32\x80\x00\x00\x00\x00\x01\x00\x2A\x50\x79\x00\x26\x80\x00\x00\x00\xA0\x00"
      "\x80\x00\x00\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x08\x11\x22\x33\x44\x55\x66\x77\x88"
      "\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00",
      54);
  a[44] = static_cast<char>(config >> 8);
  a[45] = static_cast<char>(config & 0xFF);
  return a;
}

DecodeLimits SmallLimits() {
  DecodeLimits l;
  l.max_apdu_bytes = 4096;
  l.max_config_objects = 8;
  l.max_attributes = 8;
  l.max_value_map_entries = 4;
  l.max_observations = 8;
  l.max_persons = 3;
  l.max_compound_values = 4;
  l.max_string_bytes = 16;
  l.max_configurations_learned = 2;
  return l;
}

void RequireLocated(const fhirbridge::Status& s) {
  Require(!s.ok());
  Require(s.message().rfind("byte ", 0) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const DecodeLimits limits = SmallLimits();
  const std::span<const std::uint8_t> rest(data + 1, size - 1);

  Result<Apdu> apdu = DecodeApdu(rest, 0, limits);
  if (!apdu.ok()) RequireLocated(apdu.status());

  Result<Configuration> config = DecodeConfigReport(rest, 0, limits);
  if (!config.ok()) RequireLocated(config.status());
  for (std::uint16_t id : {0x0190, 0x02BC, 0x05DC}) {
    Result<ScanReport> scan =
        DecodeScanReport(event::kScanReportFixed, 0, rest, 0, *StandardConfiguration(id), limits);
    if (!scan.ok()) RequireLocated(scan.status());
    if (config.ok()) {
      Result<ScanReport> grouped =
          DecodeScanReport(event::kUnbufScanReportGrouped, 1, rest, 0, *config, limits);
      if (grouped.ok()) Require(grouped->measurements.size() <= limits.max_observations);
    }
  }

  SessionOptions options;
  options.limits = limits;
  AgentSession session(options);
  static const std::uint16_t kPreludes[] = {0, 0x0190, 0x02BC, 0x05DC, 0x4000};
  const std::uint16_t prelude = kPreludes[data[0] % 5];
  if (prelude != 0) {
    const std::string aarq = AarqBytes(prelude);
    (void)session.Consume(AsBytes(aarq), 0, 0);
  }
  ApduFramer framer(limits.max_apdu_bytes);
  framer.Append(rest);
  while (true) {
    Result<ApduFrame> frame = framer.Next();
    if (!frame.ok()) break;
    const SessionStep step = session.Consume(AsBytes(frame->bytes), frame->offset, 0);
    Require(step.reports.size() <= 1);
    for (const MeasurementReport& r : step.reports)
      Require(r.scan.measurements.size() <= limits.max_observations);
    for (const std::string& reply : step.replies) Require(DecodeApdu(AsBytes(reply), 0, {}).ok());
  }
  return 0;
}
