#pragma once

// HL7 v2 acknowledgements (ACK^<trigger>^ACK) for messages received over MLLP.
//
// Rules (HL7 v2.5 ch. 2 §2.9 "message processing rules", §2.14.1 ERR, ../shared/design/MAPPING.md
// "ACKs"):
//  - Original mode (MSH-15 and MSH-16 both empty): AA after commit, AE for a message we keep but
//    cannot process, AR for one we refuse (unsupported type, over limits, unreadable header).
//  - Enhanced mode (MSH-15 or MSH-16 present): the accept ACK is CA/CE/CR, sent or not by MSH-15
//    (HL7 table 0155: AL always, NE never, ER only on error/reject, SU only on success; empty is
//    taken as AL); the application ACK (AA/AE/AR) likewise by MSH-16 (empty is taken as NE).
//    PlanAcks() says which of the two an outcome calls for; the caller decides when to send.
//  - The ACK uses the sender's delimiters (MSH-1/MSH-2, with the v2.7 truncation character when
//    given), version (MSH-12) and character set (MSH-18); sending and receiving application and
//    facility are swapped; MSA-2 echoes MSH-10.
//  - ERR: from v2.5 on, ERR-2 (location SEG^sequence^field^repetition^component^subcomponent),
//    ERR-3 (HL7 table 0357 code^text^HL70357), ERR-4 (severity, table 0516) and ERR-8 (the text
//    for a person). Before v2.5 ERR-1 (ELD: segment^sequence^field^code&text&HL70357) and MSA-3
//    carry the same, since those receivers know nothing else.
// The header is read leniently from the raw first segment, so a message whose body (or most of
// MSH) does not parse can still be answered with the sender's delimiters and control id.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/hl7v2/er7.h"
#include "fhirbridge/result.h"

namespace fhirbridge::hl7v2 {

/// The MSH fields an acknowledgement needs, as raw bytes in the sender's encoding.
/// Only fields of printable bytes (no control characters) of at most kMaxAckFieldBytes are
/// kept: anything else is left empty rather than echoed.
struct AckHeader {
  Delimiters delimiters;              ///< MSH-1, MSH-2 (defaults `|^~\&` when unreadable)
  std::string sending_application;    ///< MSH-3
  std::string sending_facility;       ///< MSH-4
  std::string receiving_application;  ///< MSH-5
  std::string receiving_facility;     ///< MSH-6
  std::string message_type;           ///< MSH-9.1, e.g. "ORU"
  std::string trigger_event;          ///< MSH-9.2, e.g. "R01"
  std::string control_id;             ///< MSH-10
  std::string processing_id;          ///< MSH-11 (whole field)
  std::string version;                ///< MSH-12.1, e.g. "2.6"
  std::string accept_ack_type;        ///< MSH-15 (AL, NE, ER, SU)
  std::string application_ack_type;   ///< MSH-16
  std::string charset;                ///< MSH-18 (whole field)

  /// Enhanced acknowledgement mode: MSH-15 or MSH-16 valued (HL7 v2.5 §2.9.3).
  bool enhanced_mode() const { return !accept_ack_type.empty() || !application_ack_type.empty(); }
  /// "ORU^R01" (MSH-9.1 ^ MSH-9.2, with '^' whatever the sender's component separator).
  std::string type_and_trigger() const;
};

/// Longest MSH field echoed into an ACK (v2.7 MSH-10 is ST 199).
inline constexpr std::size_t kMaxAckFieldBytes = 199;

/// Reads the header from the first segment of `raw`. InvalidArgument when `raw` does not start
/// with "MSH" followed by a usable field separator and 4 or 5 encoding characters; the rest of
/// the message is not looked at.
Result<AckHeader> ReadAckHeader(std::string_view raw);

/// Acknowledgement code, written per mode: AA/CA, AE/CE, AR/CR (HL7 table 0008).
enum class AckCode { kAccept, kError, kReject };

/// "AA", "AE", "AR" (original mode) or "CA", "CE", "CR" (enhanced mode).
std::string_view AckCodeText(AckCode code, bool enhanced_mode);

/// Which acknowledgements an outcome calls for.
struct AckPlan {
  bool accept = false;       ///< enhanced mode: an accept ACK (CA/CE/CR), by MSH-15
  bool application = false;  ///< an application ACK (AA/AE/AR): original mode, or by MSH-16
};

/// Original mode: the one ACK is the application ACK. Enhanced mode: the accept ACK per MSH-15
/// (empty: AL) and the application ACK per MSH-16 (empty: NE), HL7 table 0155.
AckPlan PlanAcks(const AckHeader& received, AckCode code);

/// HL7 table 0357 (message error condition codes) entries we send.
enum class ErrorCondition {
  kSegmentSequence = 100,
  kRequiredFieldMissing = 101,
  kDataType = 102,
  kTableValueNotFound = 103,
  kUnsupportedMessageType = 200,
  kUnsupportedEventCode = 201,
  kUnsupportedProcessingId = 202,
  kUnsupportedVersionId = 203,
  kApplicationInternalError = 207,
};

/// The text table 0357 gives the code ("Data type error").
std::string_view ErrorConditionText(ErrorCondition condition);

/// HL7 table 0516 (error severity).
enum class ErrorSeverity { kError, kWarning, kInformation, kFatal };

/// One ERR segment. `text` is plain text without PHI; the builder escapes it.
struct AckError {
  /// ERR-2 (ERL). An empty segment leaves ERR-2 empty (the error has no place, e.g. a limit).
  std::string segment;
  std::size_t sequence = 0;  ///< 1-based occurrence of the segment; 0: left empty
  std::size_t field = 0;     ///< 0: left empty
  std::size_t component = 0;
  ErrorCondition condition = ErrorCondition::kApplicationInternalError;
  ErrorSeverity severity = ErrorSeverity::kError;
  std::string text;  ///< ERR-8 (and MSA-3 before v2.5)
};

/// What the ACK says, apart from what it copies from the received header.
struct AckContent {
  AckCode code = AckCode::kAccept;
  /// In enhanced mode, an application ACK (AA/AE/AR) rather than an accept ACK (CA/CE/CR).
  /// Original mode always writes AA/AE/AR.
  bool application = false;
  /// MSH-10 of the ACK; empty: derived from the received one ("A" + MSH-10, or "ACK").
  std::string control_id;
  /// MSH-7, an HL7 DTM such as "20261121081334.123+0000"; the caller reads the clock.
  std::string timestamp;
  std::optional<AckError> error;
};

/// Builds the ACK: MSH, MSA and (with an error) ERR, each segment ending in CR, unframed.
/// `received` may be a default AckHeader when nothing of the header could be read.
std::string BuildAck(const AckHeader& received, const AckContent& content);

/// Escapes `text` for a field with the sender's escape character (HL7 v2.5 §2.7.4: the field,
/// component, subcomponent, repetition and escape characters become \F\ \S\ \T\ \R\ \E\;
/// v2.7 adds \P\ for truncation). Bytes outside printable ASCII become '?': the texts we send
/// are our own English sentences.
std::string EscapeText(std::string_view text, const Delimiters& delimiters);

/// Turns a Parse() error into an ERR: the "PID[2]-5: ..." location prefix becomes ERR-2, the rest
/// ERR-8; limits and malformed data are table 0357 code 102, bad segment structure 100.
AckError AckErrorFromParseStatus(const Status& status);

}  // namespace fhirbridge::hl7v2
