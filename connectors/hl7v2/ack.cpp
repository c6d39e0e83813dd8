// ACK building: see ack.h for the rules.

#include "connectors/hl7v2/ack.h"

#include <charconv>
#include <vector>

namespace fhirbridge::hl7v2 {
namespace {

/// Same rule as the parser (parse.cpp): printable ASCII that is neither a letter nor a digit.
bool IsDelimiter(char c) {
  const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  return c > ' ' && c < 0x7F && !alnum;
}

/// A field may be echoed: not too long, and no control bytes (which could end a segment or an
/// MLLP frame in our reply). Bytes >= 0x80 are text in the sender's charset.
std::string Echoable(std::string_view field) {
  if (field.size() > kMaxAckFieldBytes) return {};
  for (char c : field) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F) return {};
  }
  return std::string(field);
}

std::vector<std::string_view> Split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = s.find(separator, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string_view Component(std::string_view field, char separator, std::size_t n) {
  const auto parts = Split(field, separator);
  return n >= 1 && n <= parts.size() ? parts[n - 1] : std::string_view();
}

/// Reads MSH-2 (4 or 5 encoding characters) into `d`; false when they are unusable.
bool ReadEncodingCharacters(std::string_view msh2, Delimiters& d) {
  if (msh2.size() != 4 && msh2.size() != 5) return false;
  for (std::size_t i = 0; i < msh2.size(); ++i) {
    if (!IsDelimiter(msh2[i]) || msh2[i] == d.field) return false;
    if (msh2.find(msh2[i], i + 1) != std::string_view::npos) return false;
  }
  d.component = msh2[0];
  d.repetition = msh2[1];
  d.escape = msh2[2];
  d.subcomponent = msh2[3];
  d.truncation = msh2.size() == 5 ? msh2[4] : '\0';
  return true;
}

/// True for versions before 2.5 ("2.3.1", "2.4"), which know ERR-1 and MSA-3 but not ERR-2..8.
bool BeforeV25(std::string_view version) {
  if (version.size() < 3 || version.substr(0, 2) != "2.") return false;
  int minor = 0;
  const char* begin = version.data() + 2;
  const auto [end, ec] = std::from_chars(begin, version.data() + version.size(), minor);
  return ec == std::errc() && end != begin && minor < 5;
}

char SeverityCode(ErrorSeverity severity) {
  switch (severity) {
    case ErrorSeverity::kError:
      return 'E';
    case ErrorSeverity::kWarning:
      return 'W';
    case ErrorSeverity::kInformation:
      return 'I';
    case ErrorSeverity::kFatal:
      return 'F';
  }
  return 'E';
}

std::string EncodingCharacters(const Delimiters& d) {
  std::string out{d.component, d.repetition, d.escape, d.subcomponent};
  if (d.truncation != '\0') out.push_back(d.truncation);
  return out;
}

void AppendMsh(const AckHeader& in, const AckContent& content, std::string& out) {
  const Delimiters& d = in.delimiters;
  const char f = d.field;
  const std::string version = in.version.empty() ? "2.5" : in.version;
  std::string control_id = content.control_id;
  if (control_id.empty()) control_id = in.control_id.empty() ? "ACK" : "A" + in.control_id;
  std::string type = "ACK";
  if (!in.trigger_event.empty()) type += d.component + in.trigger_event + d.component + "ACK";

  out += "MSH";
  out += f;
  out += EncodingCharacters(d);
  // MSH-3..6: the receiver of the message is the sender of its acknowledgement.
  for (const std::string* s : {&in.receiving_application, &in.receiving_facility,
                               &in.sending_application, &in.sending_facility, &content.timestamp}) {
    out += f;
    out += *s;
  }
  out += f;  // MSH-8 security
  out += f;
  out += type;
  out += f;
  out += control_id;
  out += f;
  out += in.processing_id.empty() ? "P" : in.processing_id;
  out += f;
  out += version;
  const bool enhanced = in.enhanced_mode();
  if (enhanced || !in.charset.empty()) {
    out += f;  // MSH-13 sequence number
    out += f;  // MSH-14 continuation pointer
    out += f;
    // An ACK is never itself acknowledged (HL7 v2.5 §2.9.3.1): NE/NE in enhanced mode.
    if (enhanced) out += "NE";
    out += f;
    if (enhanced) out += "NE";
  }
  if (!in.charset.empty()) {
    out += f;  // MSH-17 country
    out += f;
    out += in.charset;
  }
  out += '\r';
}

std::string Location(const AckError& e, char c) {
  if (e.segment.empty()) return {};
  std::string out = e.segment;
  if (e.sequence == 0 && e.field == 0) return out;
  out += c;
  if (e.sequence > 0) out += std::to_string(e.sequence);
  if (e.field == 0) return out;
  out += c;
  out += std::to_string(e.field);
  if (e.component > 0) {
    out += c;  // ERL-4 field repetition: left empty
    out += c;
    out += std::to_string(e.component);
  }
  return out;
}

void AppendErr(const AckHeader& in, const AckError& e, bool old_version, std::string& out) {
  const Delimiters& d = in.delimiters;
  const char f = d.field;
  const std::string code = std::to_string(static_cast<int>(e.condition));
  const std::string_view code_text = ErrorConditionText(e.condition);
  out += "ERR";
  out += f;
  if (old_version) {
    // ERR-1 (ELD): segment^sequence^field^code&text&HL70357.
    out += e.segment;
    out += d.component;
    if (e.sequence > 0) out += std::to_string(e.sequence);
    out += d.component;
    if (e.field > 0) out += std::to_string(e.field);
    out += d.component;
    out += code + d.subcomponent + std::string(code_text) + d.subcomponent + "HL70357";
    out += '\r';
    return;
  }
  out += f;
  out += Location(e, d.component);
  out += f;
  out += code + d.component + std::string(code_text) + d.component + "HL70357";
  out += f;
  out += SeverityCode(e.severity);
  out += std::string(4, f);  // ERR-5..7 empty, then ERR-8
  out += EscapeText(e.text, d);
  out += '\r';
}

/// Reads "PID[2]-5" or "MSH-18" or "OBX" into e.segment/sequence/field; false otherwise.
bool ReadLocation(std::string_view loc, AckError& e) {
  if (loc.size() < 3) return false;
  for (std::size_t i = 0; i < 3; ++i) {
    const char c = loc[i];
    if (!((c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9'))) return false;
  }
  std::size_t sequence = 1;
  std::size_t field = 0;
  std::string_view rest = loc.substr(3);
  const auto number = [&rest](std::size_t& value) {
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || end == rest.data()) return false;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    return true;
  };
  if (!rest.empty() && rest[0] == '[') {
    rest.remove_prefix(1);
    if (!number(sequence) || rest.empty() || rest[0] != ']') return false;
    rest.remove_prefix(1);
  }
  if (!rest.empty() && rest[0] == '-') {
    rest.remove_prefix(1);
    if (!number(field)) return false;
  }
  e.segment = std::string(loc.substr(0, 3));
  e.sequence = sequence;
  e.field = field;
  return true;
}

}  // namespace

std::string AckHeader::type_and_trigger() const { return message_type + "^" + trigger_event; }

Result<AckHeader> ReadAckHeader(std::string_view raw) {
  const std::size_t start = raw.find_first_not_of("\r\n \t");
  if (start == std::string_view::npos || raw.substr(start, 3) != "MSH") {
    return Status::InvalidArgument("message: does not start with MSH");
  }
  raw.remove_prefix(start);
  const std::string_view line = raw.substr(0, raw.find_first_of("\r\n"));
  AckHeader h;
  if (line.size() < 4 || !IsDelimiter(line[3])) {
    return Status::InvalidArgument("MSH-1: no usable field separator");
  }
  h.delimiters.field = line[3];
  const auto fields = Split(line.substr(4), h.delimiters.field);  // fields[0] is MSH-2
  if (!ReadEncodingCharacters(fields[0], h.delimiters)) {
    return Status::InvalidArgument("MSH-2: no usable encoding characters");
  }
  const auto msh = [&fields](std::size_t n) {
    return n - 2 < fields.size() ? fields[n - 2] : std::string_view();
  };
  const char c = h.delimiters.component;
  h.sending_application = Echoable(msh(3));
  h.sending_facility = Echoable(msh(4));
  h.receiving_application = Echoable(msh(5));
  h.receiving_facility = Echoable(msh(6));
  h.message_type = Echoable(Component(msh(9), c, 1));
  h.trigger_event = Echoable(Component(msh(9), c, 2));
  h.control_id = Echoable(msh(10));
  h.processing_id = Echoable(msh(11));
  h.version = Echoable(Component(msh(12), c, 1));
  h.accept_ack_type = Echoable(msh(15));
  h.application_ack_type = Echoable(msh(16));
  h.charset = Echoable(msh(18));
  return h;
}

std::string_view AckCodeText(AckCode code, bool enhanced_mode) {
  switch (code) {
    case AckCode::kAccept:
      return enhanced_mode ? "CA" : "AA";
    case AckCode::kError:
      return enhanced_mode ? "CE" : "AE";
    case AckCode::kReject:
      return enhanced_mode ? "CR" : "AR";
  }
  return "AR";
}

namespace {

/// Table 0155 for one outcome; `empty_means` is what an empty field asks for.
bool Wants(std::string_view type, AckCode code, bool empty_means) {
  if (type.empty()) return empty_means;
  if (type == "AL") return true;
  if (type == "ER") return code != AckCode::kAccept;
  if (type == "SU") return code == AckCode::kAccept;
  return false;  // NE, or a value table 0155 does not know
}

}  // namespace

AckPlan PlanAcks(const AckHeader& received, AckCode code) {
  AckPlan plan;
  if (!received.enhanced_mode()) {
    plan.application = true;
    return plan;
  }
  plan.accept = Wants(received.accept_ack_type, code, true);
  plan.application = Wants(received.application_ack_type, code, false);
  return plan;
}

std::string_view ErrorConditionText(ErrorCondition condition) {
  switch (condition) {
    case ErrorCondition::kSegmentSequence:
      return "Segment sequence error";
    case ErrorCondition::kRequiredFieldMissing:
      return "Required field missing";
    case ErrorCondition::kDataType:
      return "Data type error";
    case ErrorCondition::kTableValueNotFound:
      return "Table value not found";
    case ErrorCondition::kUnsupportedMessageType:
      return "Unsupported message type";
    case ErrorCondition::kUnsupportedEventCode:
      return "Unsupported event code";
    case ErrorCondition::kUnsupportedProcessingId:
      return "Unsupported processing id";
    case ErrorCondition::kUnsupportedVersionId:
      return "Unsupported version id";
    case ErrorCondition::kApplicationInternalError:
      return "Application internal error";
  }
  return "Application internal error";
}

std::string BuildAck(const AckHeader& received, const AckContent& content) {
  const char f = received.delimiters.field;
  const bool old_version = BeforeV25(received.version);
  std::string out;
  out.reserve(256);
  AppendMsh(received, content, out);
  out += "MSA";
  out += f;
  out += AckCodeText(content.code, received.enhanced_mode() && !content.application);
  out += f;
  out += received.control_id;
  if (old_version && content.error) {
    out += f;
    out += EscapeText(content.error->text, received.delimiters);  // MSA-3 text message
  }
  out += '\r';
  if (content.error) AppendErr(received, *content.error, old_version, out);
  return out;
}

std::string EscapeText(std::string_view text, const Delimiters& d) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const char* escaped = nullptr;
    if (c == d.field) {
      escaped = "F";
    } else if (c == d.component) {
      escaped = "S";
    } else if (c == d.subcomponent) {
      escaped = "T";
    } else if (c == d.repetition) {
      escaped = "R";
    } else if (c == d.escape) {
      escaped = "E";
    } else if (d.truncation != '\0' && c == d.truncation) {
      escaped = "P";  // v2.7 §2.7.4
    }
    if (escaped != nullptr) {
      out += d.escape;
      out += escaped;
      out += d.escape;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += (b >= 0x20 && b < 0x7F) ? c : '?';
    }
  }
  return out;
}

AckError AckErrorFromParseStatus(const Status& status) {
  AckError e;
  e.condition = ErrorCondition::kDataType;
  e.text = status.message();
  const std::string& msg = status.message();
  const std::size_t colon = msg.find(": ");
  if (colon == std::string::npos) return e;
  const std::string_view loc = std::string_view(msg).substr(0, colon);
  if (loc.rfind("segment ", 0) == 0 || msg.find("a second MSH") != std::string::npos ||
      msg.find("does not start with MSH") != std::string::npos) {
    e.condition = ErrorCondition::kSegmentSequence;
  }
  ReadLocation(loc, e);
  return e;
}

}  // namespace fhirbridge::hl7v2
