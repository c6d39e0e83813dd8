#include "engine/audit/syslog_message.h"

#include "engine/audit/audit_event.h"
#include "engine/audit/audit_time.h"

namespace fhirbridge::audit {

namespace {

// RFC 5424 §6: header fields are 1*N PRINTUSASCII (33..126), or the nil value "-".
void AppendField(std::string& out, std::string_view value, std::size_t max_length) {
  if (value.empty()) {
    out += '-';
    return;
  }
  for (std::size_t i = 0; i < value.size() && i < max_length; ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    out += c >= 33 && c <= 126 ? static_cast<char>(c) : '_';
  }
}

}  // namespace

int SeverityOf(const AuditRecord& record) {
  const std::string_view outcome = OutcomeCode(record);
  if (outcome == "0") return 5;
  if (outcome == "4") return 4;
  return 3;
}

std::string FormatSyslogMessage(const AuditRecord& record, std::string_view msg,
                                const SyslogHeader& header) {
  std::string out;
  out.reserve(msg.size() + 160);
  out += '<';
  out += std::to_string(header.facility * 8 + SeverityOf(record));
  out += ">1 ";
  out += FormatInstant(record.at_us);
  out += ' ';
  AppendField(out, header.hostname, 255);  // RFC 5424 §6.2.4
  out += ' ';
  AppendField(out, header.app_name, 48);  // §6.2.5
  out += ' ';
  AppendField(out, header.procid, 128);  // §6.2.6
  out += ' ';
  AppendField(out, record.event, 32);  // §6.2.7
  out += " - ";                        // §6.3: no structured data
  out += msg;
  return out;
}

std::string FrameOctetCounted(std::string_view message) {
  std::string frame = std::to_string(message.size());
  frame += ' ';
  frame += message;
  return frame;
}

}  // namespace fhirbridge::audit
