#pragma once

// The stored unit of a `phd-tcp` source (docs/connector-phd.md, "In fhirbridge run"): one
// confirmed scan report together with every non-report APDU the agent sent before it on the
// same connection (AARQ, configuration report, the MDS attributes answer, earlier associations'
// release), each with the manager's receive time. Replayed through a fresh AgentSession, it
// gives exactly that one report with the device identity, configuration and clock reading the
// listener had, so a stored message can be mapped alone, any time later.
//
// Layout: the 8 bytes "FBPHDT1\n", then records of [receive time, µs since 1970 UTC, 8 bytes
// big-endian][one APDU, its own 4-byte header giving its length].

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ieee11073/phd/agent_session.h"
#include "fhirbridge/result.h"

namespace fhirbridge::phd {

inline constexpr std::string_view kTimedCaptureMagic = "FBPHDT1\n";

/// True when `bytes` start with kTimedCaptureMagic (else they are a plain APDU stream).
bool IsTimedCapture(std::string_view bytes);

/// Appends one record (the magic first, when `capture` is empty).
void AppendTimedApdu(std::string& capture, std::int64_t received_at_us, std::string_view apdu);

/// What replaying a capture gave.
struct Replay {
  std::vector<MeasurementReport> reports;
  /// Problems in order: records that do not decode, APDUs the session refused ("byte N: ...",
  /// N the offset in the capture).
  std::vector<Status> problems;
};

/// Replays a timed capture through a fresh manager session with each APDU's own receive time.
Replay ReplayTimedCapture(std::string_view capture, const SessionOptions& options);

}  // namespace fhirbridge::phd
