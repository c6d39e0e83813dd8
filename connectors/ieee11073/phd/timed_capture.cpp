#include "connectors/ieee11073/phd/timed_capture.h"

#include "connectors/ieee11073/phd/mder.h"

namespace fhirbridge::phd {

namespace {

constexpr std::size_t kTimeBytes = 8;
constexpr std::size_t kHeaderBytes = 4;  // APDU choice u16 + length u16 (20601 section 8.1)

}  // namespace

bool IsTimedCapture(std::string_view bytes) { return bytes.rfind(kTimedCaptureMagic, 0) == 0; }

void AppendTimedApdu(std::string& capture, std::int64_t received_at_us, std::string_view apdu) {
  if (capture.empty()) capture = kTimedCaptureMagic;
  const auto t = static_cast<std::uint64_t>(received_at_us);
  for (int shift = 56; shift >= 0; shift -= 8) capture += static_cast<char>((t >> shift) & 0xFF);
  capture += apdu;
}

Replay ReplayTimedCapture(std::string_view capture, const SessionOptions& options) {
  Replay replay;
  if (!IsTimedCapture(capture)) {
    replay.problems.push_back(Status::InvalidArgument("byte 0: not a timed APDU capture"));
    return replay;
  }
  AgentSession session(options);
  std::size_t at = kTimedCaptureMagic.size();
  while (at < capture.size()) {
    if (capture.size() - at < kTimeBytes + kHeaderBytes) {
      replay.problems.push_back(Status::InvalidArgument(
          "byte " + std::to_string(at) + ": truncated record (" +
          std::to_string(capture.size() - at) + " bytes left, a record needs at least 12)"));
      break;
    }
    const auto* p = reinterpret_cast<const std::uint8_t*>(capture.data() + at);
    std::uint64_t t = 0;
    for (std::size_t i = 0; i < kTimeBytes; ++i) t = (t << 8) | p[i];
    const std::size_t length = (std::size_t{p[kTimeBytes + 2]} << 8) | p[kTimeBytes + 3];
    const std::size_t apdu_bytes = kHeaderBytes + length;
    if (apdu_bytes > options.limits.max_apdu_bytes ||
        capture.size() - at - kTimeBytes < apdu_bytes) {
      replay.problems.push_back(Status::InvalidArgument(
          "byte " + std::to_string(at) + ": the APDU header says " + std::to_string(apdu_bytes) +
          " bytes, " + std::to_string(capture.size() - at - kTimeBytes) + " are there (limit " +
          std::to_string(options.limits.max_apdu_bytes) + ")"));
      break;
    }
    const std::string_view apdu = capture.substr(at + kTimeBytes, apdu_bytes);
    SessionStep step =
        session.Consume(AsBytes(apdu), at + kTimeBytes, static_cast<std::int64_t>(t));
    if (!step.problem.ok()) replay.problems.push_back(step.problem);
    for (MeasurementReport& r : step.reports) replay.reports.push_back(std::move(r));
    at += kTimeBytes + apdu_bytes;
  }
  return replay;
}

}  // namespace fhirbridge::phd
