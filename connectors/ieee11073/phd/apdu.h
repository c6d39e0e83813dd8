#pragma once

// IEEE 11073-20601 APDUs (section 8 and Annex A/F): typed structures, the MDER decoder for
// everything an agent sends, and the encoder for what a manager answers. Structures view the
// decoded bytes (spans into the caller's buffer): decode, use, then drop them.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "connectors/ieee11073/phd/mder.h"
#include "fhirbridge/result.h"

namespace fhirbridge::phd {

/// APDU choices (20601 Annex A.2: ApduType).
enum class ApduChoice : std::uint16_t {
  kAarq = 0xE200,
  kAare = 0xE300,
  kRlrq = 0xE400,
  kRlre = 0xE500,
  kAbrt = 0xE600,
  kPrst = 0xE700,
};

/// DATA-apdu message choices (20601 Annex A.10).
enum class DataChoice : std::uint16_t {
  kEventReport = 0x0100,
  kConfirmedEventReport = 0x0101,
  kGet = 0x0103,
  kSet = 0x0104,
  kConfirmedSet = 0x0105,
  kAction = 0x0106,
  kConfirmedAction = 0x0107,
  kEventReportResult = 0x0201,
  kGetResult = 0x0203,
  kSetResult = 0x0205,
  kActionResult = 0x0207,
  kError = 0x0300,   ///< ROER
  kReject = 0x0400,  ///< RORJ
};

/// Association results (20601 A.8: AssociateResult).
enum class AssociateResult : std::uint16_t {
  kAccepted = 0,
  kRejectedPermanent = 1,
  kRejectedTransient = 2,
  kAcceptedUnknownConfig = 3,
  kRejectedNoCommonProtocol = 4,
  kRejectedNoCommonParameter = 5,
  kRejectedUnknown = 6,
  kRejectedUnauthorized = 7,
  kRejectedUnsupportedAssocVersion = 8,
};

/// ConfigResult of a configuration report response (20601 A.11.3).
enum class ConfigResult : std::uint16_t {
  kAcceptedConfig = 0,
  kUnsupportedConfig = 1,
  kStandardConfigUnknown = 2,
};

/// Event types (MDC_NOTI_*, partition 1).
namespace event {
inline constexpr std::uint16_t kConfig = 0x0D1C;  ///< MDC_NOTI_CONFIG 3356
inline constexpr std::uint16_t kScanReportFixed = 0x0D1D;
inline constexpr std::uint16_t kScanReportVar = 0x0D1E;
inline constexpr std::uint16_t kScanReportMpFixed = 0x0D1F;
inline constexpr std::uint16_t kScanReportMpVar = 0x0D20;
inline constexpr std::uint16_t kSegmentData = 0x0D21;
inline constexpr std::uint16_t kUnbufScanReportVar = 0x0D22;
inline constexpr std::uint16_t kUnbufScanReportFixed = 0x0D23;
inline constexpr std::uint16_t kUnbufScanReportGrouped = 0x0D24;
inline constexpr std::uint16_t kUnbufScanReportMpVar = 0x0D25;
inline constexpr std::uint16_t kUnbufScanReportMpFixed = 0x0D26;
inline constexpr std::uint16_t kUnbufScanReportMpGrouped = 0x0D27;
inline constexpr std::uint16_t kBufScanReportVar = 0x0D28;
inline constexpr std::uint16_t kBufScanReportFixed = 0x0D29;
inline constexpr std::uint16_t kBufScanReportGrouped = 0x0D2A;
inline constexpr std::uint16_t kBufScanReportMpVar = 0x0D2B;
inline constexpr std::uint16_t kBufScanReportMpFixed = 0x0D2C;
inline constexpr std::uint16_t kBufScanReportMpGrouped = 0x0D2D;
}  // namespace event

/// One AVA-Type: attribute id and its value bytes (still encoded).
struct AttributeValue {
  std::uint16_t id = 0;
  std::span<const std::uint8_t> value;
  std::size_t offset = 0;  ///< of the value's first byte in the stream
};

/// PhdAssociationInformation (20601 A.8): what the agent says about itself when associating.
struct PhdAssociationInformation {
  std::uint32_t protocol_version = 0;
  std::uint16_t encoding_rules = 0;
  std::uint32_t nomenclature_version = 0;
  std::uint32_t functional_units = 0;
  std::uint32_t system_type = 0;
  std::string system_id;  ///< raw bytes; an EUI-64 (8 bytes) for every agent 20601 describes
  std::uint16_t dev_config_id = 0;
  std::uint16_t data_req_mode_flags = 0;
  std::uint8_t data_req_init_agent_count = 0;
  std::uint8_t data_req_init_manager_count = 0;
  std::vector<AttributeValue> option_list;
};

inline constexpr std::uint16_t kDataProtoId20601 = 20601;
inline constexpr std::uint16_t kEncodingMder = 0x8000;          ///< EncodingRules bit mder(0)
inline constexpr std::uint32_t kProtocolVersion1 = 0x80000000;  ///< ProtocolVersion bit 0
inline constexpr std::uint32_t kSystemTypeManager = 0x80000000;
inline constexpr std::uint32_t kSystemTypeAgent = 0x00800000;

struct Aarq {
  std::uint32_t assoc_version = 0;
  std::vector<std::uint16_t> data_proto_ids;  ///< every data protocol the agent offers
  /// The 20601 entry's information, when the agent offers data-proto-id 20601.
  std::optional<PhdAssociationInformation> phd;
};

struct Aare {
  std::uint16_t result = 0;
  std::uint16_t data_proto_id = 0;
  std::optional<PhdAssociationInformation> phd;
};

struct Rlrq {
  std::uint16_t reason = 0;  ///< 0 normal
};
struct Rlre {
  std::uint16_t reason = 0;
};
struct Abrt {
  std::uint16_t reason =
      0;  ///< 0 undefined, 1 buffer-overflow, 2 response-timeout, 3 config-timeout
};

/// EventReportArgumentSimple (ROIV event report, confirmed or not).
struct EventReport {
  std::uint16_t obj_handle = 0;
  std::uint32_t event_time = 0;  ///< RelativeTime, 1/8 ms; 0xFFFFFFFF when not supported
  std::uint16_t event_type = 0;
  std::span<const std::uint8_t> info;
  std::size_t info_offset = 0;
};

/// EventReportResultSimple (RORS of a confirmed event report).
struct EventReportResult {
  std::uint16_t obj_handle = 0;
  std::uint32_t current_time = 0;
  std::uint16_t event_type = 0;
  std::span<const std::uint8_t> reply_info;
};

/// GetResultSimple (RORS of a GET): the object's attributes.
struct GetResult {
  std::uint16_t obj_handle = 0;
  std::vector<AttributeValue> attributes;
};

struct ErrorResult {
  std::uint16_t error_value = 0;
  std::span<const std::uint8_t> parameter;
};

struct RejectResult {
  std::uint16_t problem = 0;
};

/// PRST-apdu content (DataApdu). Exactly one of the members after `body` is filled, by `choice`;
/// the invocations a manager does not serve from an agent (get/set/action) keep only `body`.
struct DataApdu {
  std::uint16_t invoke_id = 0;
  DataChoice choice = DataChoice::kEventReport;
  std::span<const std::uint8_t> body;
  EventReport event;               ///< kEventReport, kConfirmedEventReport
  EventReportResult event_result;  ///< kEventReportResult
  GetResult get_result;            ///< kGetResult
  ErrorResult error;               ///< kError
  RejectResult reject;             ///< kReject
};

/// One decoded APDU.
struct Apdu {
  ApduChoice choice = ApduChoice::kAarq;
  std::size_t offset = 0;  ///< of the APDU's first byte in the stream
  std::variant<Aarq, Aare, Rlrq, Rlre, Abrt, DataApdu> content;
};

/// "AARQ", "PRST", ... for messages; "0xE800" style for an unknown choice.
std::string ApduName(std::uint16_t choice);
/// "ROIV-CONFIRMED-EVENT-REPORT", "RORS-GET", ...
std::string DataChoiceName(std::uint16_t choice);

/// Decodes one complete APDU (header included). `base_offset` is its position in the stream,
/// for error locations. Errors: InvalidArgument or ResourceExhausted "byte N in AARQ/...: what".
Result<Apdu> DecodeApdu(std::span<const std::uint8_t> apdu, std::size_t base_offset,
                        const DecodeLimits& limits);

/// Reads an AttributeList (count, length, AVA-Type entries) with the attribute limit.
std::vector<AttributeValue> ReadAttributeList(ApduReader& r, std::string_view name,
                                              const DecodeLimits& limits);

// ---- what the manager sends ------------------------------------------------------------------

/// AARE with `result`. Accepted results carry the manager's PhdAssociationInformation (MDER,
/// protocol version 1, `manager_system_id`: 8 bytes); rejections carry an empty data protocol.
std::string EncodeAare(AssociateResult result, std::span<const std::uint8_t> manager_system_id);
/// RORS confirmed event report answering a configuration report.
std::string EncodeConfigReportResponse(std::uint16_t invoke_id, std::uint16_t config_report_id,
                                       ConfigResult result);
/// RORS confirmed event report with an empty reply (the answer to a confirmed scan report).
std::string EncodeEventReportResponse(std::uint16_t invoke_id, std::uint16_t obj_handle,
                                      std::uint16_t event_type);
/// ROIV GET of every MDS attribute (obj-handle 0, empty attribute-id list; 20601 8.5.3).
std::string EncodeGetMdsAttributes(std::uint16_t invoke_id);
/// RORJ with `problem` (0 unrecognized-apdu, 2 badly-structured-apdu, 101 unrecognized-operation).
std::string EncodeReject(std::uint16_t invoke_id, std::uint16_t problem);
std::string EncodeRlrq(std::uint16_t reason);
std::string EncodeRlre(std::uint16_t reason);
std::string EncodeAbrt(std::uint16_t reason);

}  // namespace fhirbridge::phd
