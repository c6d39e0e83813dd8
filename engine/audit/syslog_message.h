#pragma once

// Audit entries as syslog messages for IHE ATNA (ITI-20): the RFC 5424 format, framed for TLS
// transport by RFC 5425 octet counting.

#include <string>
#include <string_view>

#include "fhirbridge/audit.h"

namespace fhirbridge::audit {

/// The header fields that do not come from the entry.
struct SyslogHeader {
  int facility = 10;  ///< RFC 5424 §6.2.1: 10 = security/authorization (authpriv)
  std::string hostname = "-";
  std::string app_name = "fhirbridge";
  std::string procid = "-";
};

/// RFC 5424 §6.2.1 severity for an entry: 5 (notice) for a success, 4 (warning) for a minor
/// failure, 3 (error) for a serious or major one (the AuditEvent outcome, see OutcomeCode).
int SeverityOf(const AuditRecord& record);

/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG` (RFC 5424 §6): MSGID is the event
/// name, STRUCTURED-DATA is nil, MSG is `msg` as it is (the AuditEvent JSON, UTF-8; no BOM, so
/// the collector stores exactly the JSON). Header fields are cut to their RFC 5424 lengths and
/// characters outside printable US-ASCII become '_'; an empty field is the nil value "-".
std::string FormatSyslogMessage(const AuditRecord& record, std::string_view msg,
                                const SyslogHeader& header);

/// RFC 5425 §4.3 octet-counting frame: `MSG-LEN SP SYSLOG-MSG`.
std::string FrameOctetCounted(std::string_view message);

}  // namespace fhirbridge::audit
