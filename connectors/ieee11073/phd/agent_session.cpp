#include "connectors/ieee11073/phd/agent_session.h"

#include <variant>
#include <vector>

namespace fhirbridge::phd {

namespace {

// 20601 A.10: RejectResult problems the manager sends.
constexpr std::uint16_t kRejectUnrecognizedOperation = 101;
constexpr std::uint16_t kReleaseNormal = 0;
constexpr std::uint16_t kAbortUndefined = 0;

std::string Location(const Apdu& apdu, std::string_view what) {
  return "byte " + std::to_string(apdu.offset) + " in " +
         ApduName(static_cast<std::uint16_t>(apdu.choice)) + ": " + std::string(what);
}

// The MDS attributes the mapper uses (20601 6.3.2.1, Table 2).
void ReadMdsAttribute(const AttributeValue& a, DeviceIdentity& device, const DecodeLimits& limits,
                      DecodeError& error) {
  ApduReader v(a.value, a.offset, &error, "MDS attribute " + Hex16(a.id));
  switch (a.id) {
    case attr::kIdModel: {
      ApduReader manufacturer = v.LengthPrefixed("manufacturer");
      ApduReader model = v.LengthPrefixed("model-number");
      for (auto [reader, into] :
           {std::pair{&manufacturer, &device.manufacturer}, std::pair{&model, &device.model}}) {
        if (reader->remaining() > limits.max_string_bytes)
          return reader->FailLimit("string bytes", reader->remaining(), limits.max_string_bytes);
        std::span<const std::uint8_t> b = reader->Bytes(reader->remaining(), "text");
        into->assign(reinterpret_cast<const char*>(b.data()), b.size());
        // MDER octet strings are padded to an even length with a zero byte.
        while (!into->empty() && into->back() == '\0') into->pop_back();
      }
      break;
    }
    case attr::kSysTypeSpecList: {
      std::vector<std::uint32_t> specs;
      ReadCountedList(v, "type-ver-list", limits.max_attributes, 4,
                      [&](ApduReader& list, std::size_t) {
                        const std::uint16_t type = list.U16("type");
                        list.U16("version");
                        specs.push_back((8u << 16) | type);  // MDC_PART_INFRA
                      });
      if (v.ok() && !specs.empty()) device.specializations = std::move(specs);
      break;
    }
    case attr::kTimeAbs:
      device.clock = ReadAbsoluteTime(v, "Date-and-Time");
      break;
    default:
      return;  // kept by the agent; nothing the mapping needs
  }
  v.ExpectEnd("MDS attribute " + Hex16(a.id));
}

}  // namespace

std::string_view StateName(AgentSession::State state) {
  switch (state) {
    case AgentSession::State::kUnassociated:
      return "unassociated";
    case AgentSession::State::kWaitingForConfig:
      return "waiting-for-config";
    case AgentSession::State::kOperating:
      return "operating";
  }
  return "unassociated";
}

AgentSession::AgentSession(SessionOptions options) : options_(std::move(options)) {}

const Configuration* AgentSession::configuration() const {
  if (state_ == State::kUnassociated) return nullptr;
  if (extended_) return &*extended_;
  return standard_;
}

void AgentSession::Reset() {
  state_ = State::kUnassociated;
  device_ = DeviceIdentity{};
  standard_ = nullptr;
  extended_.reset();
}

void AgentSession::Abort(SessionStep& step, Status why) {
  step.replies.push_back(EncodeAbrt(kAbortUndefined));
  step.association_ended = true;
  step.problem = std::move(why);
  Reset();
}

SessionStep AgentSession::Consume(std::span<const std::uint8_t> bytes, std::size_t stream_offset,
                                  std::int64_t received_at_us) {
  SessionStep step;
  Result<Apdu> decoded = DecodeApdu(bytes, stream_offset, options_.limits);
  if (!decoded.ok()) {
    // 20601 8.4.2: an APDU the manager cannot decode aborts the association.
    Abort(step, decoded.status());
    return step;
  }
  const Apdu& apdu = *decoded;
  if (const auto* aarq = std::get_if<Aarq>(&apdu.content)) {
    if (state_ != State::kUnassociated) {
      Abort(step, Status::FailedPrecondition(Location(apdu, "AARQ while associated")));
      return step;
    }
    OnAarq(*aarq, step);
  } else if (const auto* data = std::get_if<DataApdu>(&apdu.content)) {
    if (state_ == State::kUnassociated) {
      Abort(step, Status::FailedPrecondition(Location(apdu, "PRST before association")));
      return step;
    }
    OnData(*data, apdu, received_at_us, step);
  } else if (std::holds_alternative<Rlrq>(apdu.content)) {
    step.replies.push_back(EncodeRlre(kReleaseNormal));
    step.association_ended = true;
    Reset();
  } else if (std::holds_alternative<Rlre>(apdu.content) ||
             std::holds_alternative<Abrt>(apdu.content)) {
    step.association_ended = state_ != State::kUnassociated;
    Reset();
  } else {
    Abort(step, Status::FailedPrecondition(Location(apdu, "an agent does not send this APDU")));
  }
  return step;
}

void AgentSession::OnAarq(const Aarq& aarq, SessionStep& step) {
  const std::span<const std::uint8_t> me = AsBytes(options_.manager_system_id);
  AssociateResult reject = AssociateResult::kAccepted;
  if ((aarq.assoc_version & 0x80000000u) == 0) {
    reject = AssociateResult::kRejectedUnsupportedAssocVersion;
  } else if (!aarq.phd) {
    reject = AssociateResult::kRejectedNoCommonProtocol;
  } else if ((aarq.phd->protocol_version & kProtocolVersion1) == 0 ||
             (aarq.phd->encoding_rules & kEncodingMder) == 0 || aarq.phd->system_id.size() != 8) {
    // 20601 8.7.3.1: MDER is mandatory; the system-id is an EUI-64.
    reject = AssociateResult::kRejectedNoCommonParameter;
  }
  if (reject != AssociateResult::kAccepted) {
    step.replies.push_back(EncodeAare(reject, me));
    step.problem = Status::InvalidArgument("association rejected (AARE result " +
                                           std::to_string(static_cast<int>(reject)) + ")");
    return;
  }
  device_ = DeviceIdentity{};
  device_.system_id = aarq.phd->system_id;
  device_.dev_config_id = aarq.phd->dev_config_id;
  standard_ = StandardConfiguration(device_.dev_config_id);
  extended_.reset();
  if (const std::uint32_t spec = SpecializationOfStandardConfig(device_.dev_config_id))
    device_.specializations = {spec};
  if (standard_ == nullptr) {
    for (const Learned& l : learned_)
      if (l.system_id == device_.system_id && l.config.id == device_.dev_config_id)
        extended_ = l.config;
  }
  if (standard_ == nullptr && !extended_) {
    step.replies.push_back(EncodeAare(AssociateResult::kAcceptedUnknownConfig, me));
    state_ = State::kWaitingForConfig;
    return;
  }
  step.replies.push_back(EncodeAare(AssociateResult::kAccepted, me));
  EnterOperating(step);
}

void AgentSession::EnterOperating(SessionStep& step) {
  state_ = State::kOperating;
  if (options_.request_mds_attributes)
    step.replies.push_back(EncodeGetMdsAttributes(next_invoke_id_++));
}

void AgentSession::OnData(const DataApdu& data, const Apdu& apdu, std::int64_t received_at_us,
                          SessionStep& step) {
  switch (data.choice) {
    case DataChoice::kEventReport:
    case DataChoice::kConfirmedEventReport:
      if (data.event.event_type == event::kConfig) return OnConfigReport(data, step);
      if (state_ != State::kOperating) {
        return Abort(step, Status::FailedPrecondition(
                               Location(apdu, "measurements before the configuration was agreed")));
      }
      return OnScanReport(data, apdu, received_at_us, step);
    case DataChoice::kGetResult:
      if (data.get_result.obj_handle == 0) OnMdsAttributes(data.get_result, received_at_us, step);
      return;
    case DataChoice::kError:
    case DataChoice::kReject:
    case DataChoice::kEventReportResult:
    case DataChoice::kSetResult:
    case DataChoice::kActionResult:
      return;  // answers to requests the manager made; nothing to do
    case DataChoice::kGet:
    case DataChoice::kSet:
    case DataChoice::kConfirmedSet:
    case DataChoice::kAction:
    case DataChoice::kConfirmedAction:
      // 20601 8.9: the manager exposes no objects to an agent.
      step.replies.push_back(EncodeReject(data.invoke_id, kRejectUnrecognizedOperation));
      step.problem = Status::InvalidArgument(
          Location(apdu, DataChoiceName(static_cast<std::uint16_t>(data.choice)) +
                             " from an agent is not supported"));
      return;
  }
}

void AgentSession::OnConfigReport(const DataApdu& data, SessionStep& step) {
  Result<Configuration> config =
      DecodeConfigReport(data.event.info, data.event.info_offset, options_.limits);
  const std::uint16_t report_id =
      data.event.info.size() >= 2
          ? static_cast<std::uint16_t>((data.event.info[0] << 8) | data.event.info[1])
          : 0;
  // 20601 8.4.3: whatever id the agent reports (extended, or a standard one this manager does
  // not know), a configuration that decodes and passes the checks is taken.
  ConfigResult result = ConfigResult::kAcceptedConfig;
  if (!config.ok()) {
    result = ConfigResult::kUnsupportedConfig;
    step.problem = config.status();
  }
  if (result == ConfigResult::kAcceptedConfig) {
    extended_ = *config;
    standard_ = nullptr;
    device_.dev_config_id = config->id;
    std::erase_if(learned_, [&](const Learned& l) {
      return l.system_id == device_.system_id && l.config.id == config->id;
    });
    if (learned_.size() < options_.limits.max_configurations_learned)
      learned_.push_back({device_.system_id, *config});
  }
  if (data.choice == DataChoice::kConfirmedEventReport)
    step.replies.push_back(EncodeConfigReportResponse(data.invoke_id, report_id, result));
  if (result == ConfigResult::kAcceptedConfig && state_ != State::kOperating) EnterOperating(step);
}

void AgentSession::OnScanReport(const DataApdu& data, const Apdu& apdu, std::int64_t received_at_us,
                                SessionStep& step) {
  const EventReport& e = data.event;
  if (!IsScanReport(e.event_type)) {
    // MDC_NOTI_SEGMENT_DATA and others: PM-store transfers are not requested by this manager.
    if (data.choice == DataChoice::kConfirmedEventReport)
      step.replies.push_back(EncodeReject(data.invoke_id, kRejectUnrecognizedOperation));
    step.problem = Status::InvalidArgument(
        Location(apdu, "event type " + Hex16(e.event_type) + " is not supported"));
    return;
  }
  Result<ScanReport> scan = DecodeScanReport(e.event_type, e.obj_handle, e.info, e.info_offset,
                                             *configuration(), options_.limits);
  if (!scan.ok()) {
    // The attribute list does not match the configuration: the association cannot go on
    // safely (the agent and manager disagree about the layout).
    return Abort(step, scan.status());
  }
  if (data.choice == DataChoice::kConfirmedEventReport)
    step.replies.push_back(EncodeEventReportResponse(data.invoke_id, e.obj_handle, e.event_type));
  MeasurementReport report;
  report.device = device_;
  report.scan = std::move(scan).value();
  report.received_at_us = received_at_us;
  report.apdu_offset = apdu.offset;
  report.invoke_id = data.invoke_id;
  step.reports.push_back(std::move(report));
}

void AgentSession::OnMdsAttributes(const GetResult& result, std::int64_t received_at_us,
                                   SessionStep& step) {
  DecodeError error;
  DeviceIdentity updated = device_;
  for (const AttributeValue& a : result.attributes) {
    ReadMdsAttribute(a, updated, options_.limits, error);
    if (error.set) break;
  }
  if (error.set) {
    step.problem = error.ToStatus();  // the measurements can still be read without these
    return;
  }
  if (updated.clock) updated.clock_received_at_us = received_at_us;
  device_ = std::move(updated);
}

}  // namespace fhirbridge::phd
