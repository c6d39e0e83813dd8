// HL7 v2 frames to Intake calls and ACKs: see hl7v2_handler.h for the table it implements.

#include "connectors/mllp/hl7v2_handler.h"

#include <cstdio>
#include <ctime>
#include <utility>

#include "fhirbridge/log.h"

namespace fhirbridge::mllp {
namespace {

using hl7v2::AckCode;
using hl7v2::AckError;
using hl7v2::ErrorCondition;

std::string Base36(std::uint64_t n) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[n % 36]);
    n /= 36;
  } while (n > 0);
  return out;
}

/// Now as an HL7 DTM in UTC with milliseconds: "20261121081334.123+0000".
std::string Hl7Now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) %
                  std::chrono::seconds(1);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y%m%d%H%M%S", &tm);
  char tail[16];
  std::snprintf(tail, sizeof tail, ".%03d+0000", static_cast<int>(ms.count()));
  return std::string(buffer, n) + tail;
}

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AckError MakeError(ErrorCondition condition, std::string text) {
  AckError e;
  e.condition = condition;
  e.text = std::move(text);
  return e;
}

/// ERR-2 of MSH-9 component `component` (1: type, 2: event).
AckError TypeError(ErrorCondition condition, std::size_t component, std::string text) {
  AckError e = MakeError(condition, std::move(text));
  e.segment = "MSH";
  e.sequence = 1;
  e.field = 9;
  e.component = component;
  return e;
}

void UpdateMax(std::atomic<std::uint64_t>& max, std::uint64_t value) {
  std::uint64_t seen = max.load(std::memory_order_relaxed);
  while (value > seen && !max.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

}  // namespace

Hl7v2MllpHandler::Hl7v2MllpHandler(Hl7v2MllpHandlerOptions options, Intake& intake)
    : options_(std::move(options)),
      intake_(intake),
      // Unique across restarts (seconds since the epoch) and short: MSH-10 is ST(20) in v2.5.
      control_id_prefix_("FB" + Base36(static_cast<std::uint64_t>(std::time(nullptr))) + ".") {}

Message Hl7v2MllpHandler::MakeMessage(std::string raw, const ConnectionInfo& connection) const {
  Message m;
  m.source = options_.source;
  m.format = "hl7v2";
  m.raw = std::move(raw);
  m.received_at_us = NowMicros();
  m.peer = connection.peer;
  m.tls_identity = connection.tls_identity;
  return m;
}

std::vector<std::string> Hl7v2MllpHandler::OnFrame(std::string content,
                                                   const ConnectionInfo& connection) {
  const TimePoint start = std::chrono::steady_clock::now();
  ++received_;
  Message message = MakeMessage(std::move(content), connection);
  auto read = hl7v2::ReadAckHeader(message.raw);
  const hl7v2::AckHeader header = read.ok() ? *read : hl7v2::AckHeader{};
  message.control_id = header.control_id;
  const std::optional<Verdict> refusal =
      read.ok() ? Check(message, header)
                : Verdict{AckCode::kReject,
                          MakeError(ErrorCondition::kSegmentSequence, read.status().message())};
  const Verdict verdict =
      refusal ? Refuse(std::move(message), *refusal) : Store(std::move(message));
  return Answer(header, verdict, start);
}

std::vector<std::string> Hl7v2MllpHandler::OnOversizedFrame(std::string_view head,
                                                            const ConnectionInfo& connection) {
  const TimePoint start = std::chrono::steady_clock::now();
  ++received_;
  Message message = MakeMessage(std::string(head), connection);
  auto read = hl7v2::ReadAckHeader(message.raw);
  const hl7v2::AckHeader header = read.ok() ? *read : hl7v2::AckHeader{};
  message.control_id = header.control_id;
  Verdict verdict{AckCode::kReject,
                  MakeError(ErrorCondition::kDataType,
                            "message is larger than the frame size limit (max_frame_bytes); "
                            "refused, only its first " +
                                std::to_string(head.size()) + " bytes are kept")};
  return Answer(header, Refuse(std::move(message), std::move(verdict)), start);
}

std::optional<Hl7v2MllpHandler::Verdict> Hl7v2MllpHandler::Check(
    const Message& message, const hl7v2::AckHeader& header) const {
  // HL7 v2.5 §2.9.2: the header (message type) is validated first, and a message we do not take
  // is rejected (AR) without being processed further.
  if (std::optional<Verdict> type = CheckType(header)) return type;
  auto parsed = hl7v2::Parse(message.raw, options_.limits);
  if (parsed.ok()) return std::nullopt;
  AckError error = hl7v2::AckErrorFromParseStatus(parsed.status());
  // An unreadable header or a message over a limit is rejected (AR); content in error gets AE.
  const bool reject = parsed.status().IsResourceExhausted() || error.segment == "MSH";
  return Verdict{reject ? AckCode::kReject : AckCode::kError, std::move(error)};
}

std::optional<Hl7v2MllpHandler::Verdict> Hl7v2MllpHandler::CheckType(
    const hl7v2::AckHeader& header) const {
  const std::string& type = header.message_type;
  const std::string type_and_event = header.type_and_trigger();
  bool type_known = false;
  for (const std::string& accepted : options_.accepted_types) {
    if (accepted == type || accepted == type_and_event) return std::nullopt;
    if (accepted.rfind(type + "^", 0) == 0) type_known = true;
  }
  if (!type_known) {
    return Verdict{AckCode::kReject,
                   TypeError(ErrorCondition::kUnsupportedMessageType, 1,
                             "message type " + type + " is not accepted by this source")};
  }
  return Verdict{AckCode::kReject,
                 TypeError(ErrorCondition::kUnsupportedEventCode, 2,
                           "event " + type_and_event + " is not accepted by this source")};
}

Hl7v2MllpHandler::Verdict Hl7v2MllpHandler::Store(Message message) {
  auto receipt = intake_.Accept(std::move(message));
  if (!receipt.ok()) {
    ++not_stored_;
    Logger::Global().Error("mllp.message_not_stored",
                           {LogField::Source(options_.source),
                            LogField::Code("status", CodeName(receipt.status().code()))});
    // ARCHITECTURE.md guarantee 1: never a positive ACK for what is not committed.
    return Verdict{AckCode::kError, MakeError(ErrorCondition::kApplicationInternalError,
                                              "the message was not stored (" +
                                                  std::string(CodeName(receipt.status().code())) +
                                                  "); send it again later")};
  }
  if (receipt->outcome == IntakeReceipt::Outcome::kDuplicate) {
    ++duplicates_;
  } else {
    ++stored_;
  }
  return Verdict{};
}

Hl7v2MllpHandler::Verdict Hl7v2MllpHandler::Refuse(Message message, Verdict verdict) {
  ++rejected_;
  const Status kept = intake_.Reject(std::move(message), verdict.error->text);
  if (!kept.ok()) {
    ++reject_failures_;
    Logger::Global().Error(
        "mllp.reject_not_kept",
        {LogField::Source(options_.source), LogField::Code("status", CodeName(kept.code()))});
  }
  return verdict;
}

std::string Hl7v2MllpHandler::Build(const hl7v2::AckHeader& header, const Verdict& verdict,
                                    bool application) {
  hl7v2::AckContent content;
  content.code = verdict.code;
  content.application = application;
  content.control_id = NextControlId();
  content.timestamp = Hl7Now();
  content.error = verdict.error;
  (verdict.code == AckCode::kAccept  ? acks_positive_
   : verdict.code == AckCode::kError ? acks_error_
                                     : acks_reject_)++;
  return hl7v2::BuildAck(header, content);
}

std::vector<std::string> Hl7v2MllpHandler::Answer(const hl7v2::AckHeader& header,
                                                  const Verdict& verdict, TimePoint start) {
  const hl7v2::AckPlan plan = hl7v2::PlanAcks(header, verdict.code);
  std::vector<std::string> replies;
  if (plan.accept) replies.push_back(Build(header, verdict, false));
  if (plan.application && (!header.enhanced_mode() || options_.application_ack_at_commit)) {
    replies.push_back(Build(header, verdict, true));
  }
  if (replies.empty()) ++acks_suppressed_;
  if (verdict.code != AckCode::kAccept) {
    Logger::Global().Warn(
        "mllp.message_refused",
        {LogField::Source(options_.source), LogField::Id("control_id", header.control_id),
         LogField::Code("ack", hl7v2::AckCodeText(verdict.code, plan.accept)),
         LogField::Code("error", std::to_string(static_cast<int>(verdict.error->condition)))});
  }
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  latency_total_us_ += static_cast<std::uint64_t>(latency.count());
  UpdateMax(latency_max_us_, static_cast<std::uint64_t>(latency.count()));
  if (options_.on_ack) options_.on_ack(verdict.code, latency);
  return replies;
}

std::string Hl7v2MllpHandler::NextControlId() {
  return control_id_prefix_ + Base36(next_control_id_++);
}

Hl7v2MllpStats Hl7v2MllpHandler::stats() const {
  Hl7v2MllpStats s;
  s.received = received_;
  s.stored = stored_;
  s.duplicates = duplicates_;
  s.not_stored = not_stored_;
  s.rejected = rejected_;
  s.reject_failures = reject_failures_;
  s.acks_positive = acks_positive_;
  s.acks_error = acks_error_;
  s.acks_reject = acks_reject_;
  s.acks_suppressed = acks_suppressed_;
  s.ack_latency_total_us = latency_total_us_;
  s.ack_latency_max_us = latency_max_us_;
  return s;
}

}  // namespace fhirbridge::mllp
