#pragma once

// HL7 v2 over MLLP: every frame is parsed, handed to the engine's Intake, and acknowledged per
// connectors/hl7v2/ack.h only after the Intake answered (ARCHITECTURE.md: no ACK before
// durability).
//
//   frame                                  Intake        original  enhanced  ERR-3 (0357)
//   header unreadable (no usable MSH)      Reject        AR        —         100
//   type/event not in accepted_types       Reject        AR        CR        200 / 201
//   over a parse limit, or MSH malformed   Reject        AR        CR        102 (ERR-2 there)
//   body malformed (after MSH)             Reject        AE        CE        102 (ERR-2 there)
//   frame over the server's size limit     Reject head   AR        CR        102
//   well-formed, accepted type             Accept ok     AA        CA        —
//                                          Accept fails  AE        CE        207 "not stored"
// A resend of a stored message is acknowledged again (the Intake says kDuplicate). In enhanced
// mode MSH-15 decides whether the accept ACK (CA/CE/CR) is sent, and MSH-16 whether the
// application ACK (AA/AE/AR) is, which is sent right after the accept ACK, at commit (see
// application_ack_at_commit; an application ACK after mapping or delivery is not implemented:
// docs/connector-mllp.md).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "connectors/hl7v2/ack.h"
#include "connectors/hl7v2/er7.h"
#include "connectors/mllp/frame_handler.h"
#include "fhirbridge/intake.h"

namespace fhirbridge::mllp {

struct Hl7v2MllpHandlerOptions {
  std::string source = "mllp";  ///< Message::source: the configured source name
  /// "TYPE^EVENT" (MSH-9.1^MSH-9.2) accepted for storing, or "TYPE" for any event of it.
  std::vector<std::string> accepted_types = {"ORU^R01"};
  hl7v2::ParseLimits limits;  ///< per message; over a limit is AR
  /// Enhanced mode: when MSH-16 asks for an application ACK (AA/AE/AR), send it right after the
  /// commit, since for fhirbridge accepting a message is committing it (later mapping or
  /// delivery problems go to the dead-letter queue, not back to the sender). IHE PCD gateways
  /// commonly send MSH-15 NE / MSH-16 AL and wait for it. false: accept ACKs (MSH-15) only.
  bool application_ack_at_commit = true;
  /// Called after every ACK decision (also when MSH-15 suppresses the ACK) with the code and
  /// the time from the frame's arrival to the ACK being ready (the commit included): for the
  /// engine's metrics. Must be thread-safe; may be empty.
  std::function<void(hl7v2::AckCode, std::chrono::microseconds)> on_ack;
};

/// Counters since construction; a snapshot of atomics.
struct Hl7v2MllpStats {
  std::uint64_t received = 0;              ///< frames handled (oversized ones included)
  std::uint64_t stored = 0;                ///< Accept said kStored
  std::uint64_t duplicates = 0;            ///< Accept said kDuplicate (acknowledged again)
  std::uint64_t not_stored = 0;            ///< Accept failed: AE/CE "resend"
  std::uint64_t rejected = 0;              ///< refused input handed to Intake::Reject
  std::uint64_t reject_failures = 0;       ///< Reject itself failed (the input could not be kept)
  std::uint64_t acks_positive = 0;         ///< AA/CA sent
  std::uint64_t acks_error = 0;            ///< AE/CE sent
  std::uint64_t acks_reject = 0;           ///< AR/CR sent
  std::uint64_t acks_suppressed = 0;       ///< not sent because of MSH-15
  std::uint64_t ack_latency_total_us = 0;  ///< sum over all ACK decisions
  std::uint64_t ack_latency_max_us = 0;
};

/// FrameHandler for HL7 v2 (see the file comment). Thread-safe; `intake` must outlive it.
class Hl7v2MllpHandler : public FrameHandler {
 public:
  Hl7v2MllpHandler(Hl7v2MllpHandlerOptions options, Intake& intake);

  std::vector<std::string> OnFrame(std::string content, const ConnectionInfo& connection) override;
  std::vector<std::string> OnOversizedFrame(std::string_view head,
                                            const ConnectionInfo& connection) override;

  Hl7v2MllpStats stats() const;

 private:
  struct Verdict {
    hl7v2::AckCode code = hl7v2::AckCode::kAccept;
    std::optional<hl7v2::AckError> error;
  };
  using TimePoint = std::chrono::steady_clock::time_point;

  Message MakeMessage(std::string raw, const ConnectionInfo& connection) const;
  /// Why this message (whose header was read) is refused by the parser or by its type, or
  /// nullopt to store it.
  std::optional<Verdict> Check(const Message& message, const hl7v2::AckHeader& header) const;
  /// AR when MSH-9 is not in accepted_types.
  std::optional<Verdict> CheckType(const hl7v2::AckHeader& header) const;
  Verdict Store(Message message);
  Verdict Refuse(Message message, Verdict verdict);
  std::vector<std::string> Answer(const hl7v2::AckHeader& header, const Verdict& verdict,
                                  TimePoint start);
  std::string Build(const hl7v2::AckHeader& header, const Verdict& verdict, bool application);
  std::string NextControlId();

  Hl7v2MllpHandlerOptions options_;
  Intake& intake_;
  std::string control_id_prefix_;
  std::atomic<std::uint64_t> next_control_id_{1};
  std::atomic<std::uint64_t> received_{0}, stored_{0}, duplicates_{0}, not_stored_{0}, rejected_{0},
      reject_failures_{0}, acks_positive_{0}, acks_error_{0}, acks_reject_{0}, acks_suppressed_{0},
      latency_total_us_{0}, latency_max_us_{0};
};

}  // namespace fhirbridge::mllp
