#include "connectors/ieee11073/phd/apdu.h"

namespace fhirbridge::phd {

namespace {

// Smallest encodings, used to reject counts that cannot fit their lengths before reading.
constexpr std::size_t kAvaMinBytes = 4;        // attribute-id, length
constexpr std::size_t kDataProtoMinBytes = 4;  // data-proto-id, info length
constexpr std::size_t kMaxSystemIdBytes = 32;  // EUI-64 is 8; room for odd agents, no more

PhdAssociationInformation ReadPhdInfo(ApduReader& r, const DecodeLimits& limits) {
  PhdAssociationInformation info;
  info.protocol_version = r.U32("protocol-version");
  info.encoding_rules = r.U16("encoding-rules");
  info.nomenclature_version = r.U32("nomenclature-version");
  info.functional_units = r.U32("functional-units");
  info.system_type = r.U32("system-type");
  const std::uint16_t id_length = r.U16("system-id length");
  if (r.ok() && (id_length == 0 || id_length > kMaxSystemIdBytes))
    r.Fail("system-id length " + std::to_string(id_length) + " is not 1.." +
           std::to_string(kMaxSystemIdBytes));
  std::span<const std::uint8_t> id = r.Bytes(id_length, "system-id");
  info.system_id.assign(reinterpret_cast<const char*>(id.data()), id.size());
  info.dev_config_id = r.U16("dev-config-id");
  info.data_req_mode_flags = r.U16("data-req-mode-flags");
  info.data_req_init_agent_count = r.U8("data-req-init-agent-count");
  info.data_req_init_manager_count = r.U8("data-req-init-manager-count");
  info.option_list = ReadAttributeList(r, "option-list", limits);
  return info;
}

Aarq ReadAarq(ApduReader& r, const DecodeLimits& limits) {
  Aarq aarq;
  aarq.assoc_version = r.U32("assoc-version");
  ReadCountedList(r, "data-proto-list", limits.max_attributes, kDataProtoMinBytes,
                  [&](ApduReader& list, std::size_t i) {
                    const std::uint16_t id = list.U16("data-proto-id");
                    ApduReader info =
                        list.LengthPrefixed("data-proto " + std::to_string(i + 1) + " info");
                    if (!list.ok()) return;
                    aarq.data_proto_ids.push_back(id);
                    if (id != kDataProtoId20601 || aarq.phd) return;
                    aarq.phd = ReadPhdInfo(info, limits);
                    info.ExpectEnd("PhdAssociationInformation");
                  });
  return aarq;
}

Aare ReadAare(ApduReader& r, const DecodeLimits& limits) {
  Aare aare;
  aare.result = r.U16("result");
  aare.data_proto_id = r.U16("data-proto-id");
  ApduReader info = r.LengthPrefixed("data-proto-info");
  if (r.ok() && aare.data_proto_id == kDataProtoId20601 && info.remaining() > 0) {
    aare.phd = ReadPhdInfo(info, limits);
    info.ExpectEnd("PhdAssociationInformation");
  }
  return aare;
}

void ReadEventReport(ApduReader& r, EventReport& e) {
  e.obj_handle = r.U16("obj-handle");
  e.event_time = r.U32("event-time");
  e.event_type = r.U16("event-type");
  const std::uint16_t n = r.U16("event-info length");
  e.info_offset = r.offset();
  e.info = r.Bytes(n, "event-info (declared length " + std::to_string(n) + ")");
}

void ReadEventReportResult(ApduReader& r, EventReportResult& e) {
  e.obj_handle = r.U16("obj-handle");
  e.current_time = r.U32("current-time");
  e.event_type = r.U16("event-type");
  const std::uint16_t n = r.U16("event-reply-info length");
  e.reply_info = r.Bytes(n, "event-reply-info");
}

DataApdu ReadDataApdu(ApduReader& prst, const DecodeLimits& limits) {
  DataApdu d;
  ApduReader r = prst.LengthPrefixed("");
  prst.ExpectEnd("the PRST octet string");
  d.invoke_id = r.U16("invoke-id");
  const std::size_t choice_offset = r.offset();
  const std::uint16_t choice = r.U16("message choice");
  ApduReader body = r.LengthPrefixed(DataChoiceName(choice));
  r.ExpectEnd("the DATA-apdu message");
  if (!r.ok()) return d;
  d.choice = static_cast<DataChoice>(choice);
  ApduReader whole = body;
  d.body = whole.Bytes(whole.remaining(), "message");
  switch (d.choice) {
    case DataChoice::kEventReport:
    case DataChoice::kConfirmedEventReport:
      ReadEventReport(body, d.event);
      break;
    case DataChoice::kEventReportResult:
      ReadEventReportResult(body, d.event_result);
      break;
    case DataChoice::kGetResult:
      d.get_result.obj_handle = body.U16("obj-handle");
      d.get_result.attributes = ReadAttributeList(body, "attribute-list", limits);
      break;
    case DataChoice::kError:
      d.error.error_value = body.U16("error-value");
      d.error.parameter = body.Bytes(body.U16("parameter length"), "parameter");
      break;
    case DataChoice::kReject:
      d.reject.problem = body.U16("problem");
      break;
    case DataChoice::kGet:
    case DataChoice::kSet:
    case DataChoice::kConfirmedSet:
    case DataChoice::kAction:
    case DataChoice::kConfirmedAction:
    case DataChoice::kSetResult:
    case DataChoice::kActionResult:
      return d;  // kept as `body`: a manager does not serve these from an agent
    default:
      r.FailAt(choice_offset, "unknown DATA-apdu message choice " + Hex16(choice));
      return d;
  }
  body.ExpectEnd(DataChoiceName(choice));
  return d;
}

}  // namespace

std::vector<AttributeValue> ReadAttributeList(ApduReader& r, std::string_view name,
                                              const DecodeLimits& limits) {
  std::vector<AttributeValue> out;
  ReadCountedList(r, name, limits.max_attributes, kAvaMinBytes, [&](ApduReader& list, std::size_t) {
    AttributeValue a;
    a.id = list.U16("attribute-id");
    const std::uint16_t n = list.U16("attribute-value length");
    a.offset = list.offset();
    a.value = list.Bytes(n, "attribute " + Hex16(a.id) + " value");
    if (list.ok()) out.push_back(a);
  });
  return out;
}

std::string ApduName(std::uint16_t choice) {
  switch (static_cast<ApduChoice>(choice)) {
    case ApduChoice::kAarq:
      return "AARQ";
    case ApduChoice::kAare:
      return "AARE";
    case ApduChoice::kRlrq:
      return "RLRQ";
    case ApduChoice::kRlre:
      return "RLRE";
    case ApduChoice::kAbrt:
      return "ABRT";
    case ApduChoice::kPrst:
      return "PRST";
  }
  return "APDU " + Hex16(choice);
}

std::string DataChoiceName(std::uint16_t choice) {
  switch (static_cast<DataChoice>(choice)) {
    case DataChoice::kEventReport:
      return "ROIV-EVENT-REPORT";
    case DataChoice::kConfirmedEventReport:
      return "ROIV-CONFIRMED-EVENT-REPORT";
    case DataChoice::kGet:
      return "ROIV-GET";
    case DataChoice::kSet:
      return "ROIV-SET";
    case DataChoice::kConfirmedSet:
      return "ROIV-CONFIRMED-SET";
    case DataChoice::kAction:
      return "ROIV-ACTION";
    case DataChoice::kConfirmedAction:
      return "ROIV-CONFIRMED-ACTION";
    case DataChoice::kEventReportResult:
      return "RORS-CONFIRMED-EVENT-REPORT";
    case DataChoice::kGetResult:
      return "RORS-GET";
    case DataChoice::kSetResult:
      return "RORS-CONFIRMED-SET";
    case DataChoice::kActionResult:
      return "RORS-CONFIRMED-ACTION";
    case DataChoice::kError:
      return "ROER";
    case DataChoice::kReject:
      return "RORJ";
  }
  return "message " + Hex16(choice);
}

Result<Apdu> DecodeApdu(std::span<const std::uint8_t> bytes, std::size_t base_offset,
                        const DecodeLimits& limits) {
  DecodeError error;
  ApduReader top(bytes, base_offset, &error, "");
  Apdu apdu;
  apdu.offset = base_offset;
  const std::uint16_t choice = top.U16("APDU choice");
  const std::uint16_t length = top.U16("APDU length");
  if (!top.ok()) return error.ToStatus();
  if (static_cast<std::size_t>(length) + 4 > limits.max_apdu_bytes) {
    top.FailLimit("APDU length", length + 4u, limits.max_apdu_bytes);
    return error.ToStatus();
  }
  ApduReader r = top.Sub(length, ApduName(choice));
  top.ExpectEnd(ApduName(choice));
  if (!top.ok()) return error.ToStatus();
  apdu.choice = static_cast<ApduChoice>(choice);
  switch (apdu.choice) {
    case ApduChoice::kAarq:
      apdu.content = ReadAarq(r, limits);
      break;
    case ApduChoice::kAare:
      apdu.content = ReadAare(r, limits);
      break;
    case ApduChoice::kRlrq:
      apdu.content = Rlrq{r.U16("release-request-reason")};
      break;
    case ApduChoice::kRlre:
      apdu.content = Rlre{r.U16("release-response-reason")};
      break;
    case ApduChoice::kAbrt:
      apdu.content = Abrt{r.U16("abort-reason")};
      break;
    case ApduChoice::kPrst:
      apdu.content = ReadDataApdu(r, limits);
      break;
    default:
      top.FailAt(base_offset, "unknown APDU choice " + Hex16(choice));
      return error.ToStatus();
  }
  r.ExpectEnd(ApduName(choice));
  if (!r.ok()) return error.ToStatus();
  return apdu;
}

// ---- encoders --------------------------------------------------------------------------------

namespace {

// Wraps a DATA-apdu message into a PRST APDU.
std::string Prst(std::uint16_t invoke_id, DataChoice choice, const std::string& message) {
  ApduWriter w;
  w.U16(static_cast<std::uint16_t>(ApduChoice::kPrst));
  const std::size_t apdu_len = w.BeginLength();
  const std::size_t octets_len = w.BeginLength();
  w.U16(invoke_id);
  w.U16(static_cast<std::uint16_t>(choice));
  const std::size_t msg_len = w.BeginLength();
  w.Bytes(AsBytes(message));
  w.EndLength(msg_len);
  w.EndLength(octets_len);
  w.EndLength(apdu_len);
  return std::move(w.bytes());
}

std::string ReasonApdu(ApduChoice choice, std::uint16_t reason) {
  ApduWriter w;
  w.U16(static_cast<std::uint16_t>(choice));
  w.U16(2);
  w.U16(reason);
  return std::move(w.bytes());
}

}  // namespace

std::string EncodeAare(AssociateResult result, std::span<const std::uint8_t> manager_system_id) {
  ApduWriter w;
  w.U16(static_cast<std::uint16_t>(ApduChoice::kAare));
  const std::size_t len = w.BeginLength();
  w.U16(static_cast<std::uint16_t>(result));
  const bool accepted =
      result == AssociateResult::kAccepted || result == AssociateResult::kAcceptedUnknownConfig;
  w.U16(accepted ? kDataProtoId20601 : 0);
  const std::size_t info = w.BeginLength();
  if (accepted) {
    // 20601 8.7.3.2: the manager answers with MDER, protocol version 1, its own system-id, and
    // dev-config-id 0 (manager-config), no data-request modes, no options.
    w.U32(kProtocolVersion1);
    w.U16(kEncodingMder);
    w.U32(0x80000000);  // nomenclature-version 1
    w.U32(0);           // functional-units
    w.U32(kSystemTypeManager);
    w.U16(static_cast<std::uint16_t>(manager_system_id.size()));
    w.Bytes(manager_system_id);
    w.U16(0);  // dev-config-id
    w.U32(0);  // data-req-mode-capab: flags, init-agent-count, init-manager-count
    w.U16(0);  // option-list count
    w.U16(0);  // option-list length
  }
  w.EndLength(info);
  w.EndLength(len);
  return std::move(w.bytes());
}

std::string EncodeConfigReportResponse(std::uint16_t invoke_id, std::uint16_t config_report_id,
                                       ConfigResult result) {
  ApduWriter m;
  m.U16(0);  // obj-handle: the MDS
  m.U32(0);  // current-time: the manager keeps no relative time
  m.U16(event::kConfig);
  m.U16(4);
  m.U16(config_report_id);
  m.U16(static_cast<std::uint16_t>(result));
  return Prst(invoke_id, DataChoice::kEventReportResult, m.bytes());
}

std::string EncodeEventReportResponse(std::uint16_t invoke_id, std::uint16_t obj_handle,
                                      std::uint16_t event_type) {
  ApduWriter m;
  m.U16(obj_handle);
  m.U32(0);
  m.U16(event_type);
  m.U16(0);  // empty event-reply-info
  return Prst(invoke_id, DataChoice::kEventReportResult, m.bytes());
}

std::string EncodeGetMdsAttributes(std::uint16_t invoke_id) {
  ApduWriter m;
  m.U16(0);  // obj-handle: the MDS
  m.U16(0);  // attribute-id-list count: all attributes
  m.U16(0);  // length
  return Prst(invoke_id, DataChoice::kGet, m.bytes());
}

std::string EncodeReject(std::uint16_t invoke_id, std::uint16_t problem) {
  ApduWriter m;
  m.U16(problem);
  return Prst(invoke_id, DataChoice::kReject, m.bytes());
}

std::string EncodeRlrq(std::uint16_t reason) { return ReasonApdu(ApduChoice::kRlrq, reason); }
std::string EncodeRlre(std::uint16_t reason) { return ReasonApdu(ApduChoice::kRlre, reason); }
std::string EncodeAbrt(std::uint16_t reason) { return ReasonApdu(ApduChoice::kAbrt, reason); }

}  // namespace fhirbridge::phd
