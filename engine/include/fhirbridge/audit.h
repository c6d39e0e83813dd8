#pragma once

// One entry of the audit trail: who did what to which message or patient, when, and how it
// ended (issue 5; FHIR-REST.md, Audit). Entries live only in the store (they may name a patient);
// operational logs never carry them. The store chains them (each entry's hash covers its content
// and the previous hash), `fhirbridge audit export` renders them as FHIR AuditEvents and the ATNA
// forwarder sends them as syslog.

#include <cstdint>
#include <string>

namespace fhirbridge {

struct AuditRecord {
  std::int64_t id = 0;     ///< position in the chain, assigned by the store
  std::int64_t at_us = 0;  ///< when it happened, microseconds since the Unix epoch, UTC
  /// What happened: message.received, message.rejected, message.acknowledged, message.mapped,
  /// message.validated, message.delivered, message.failed, message.dead_lettered,
  /// deadletter.reprocessed, deadletter.discarded, deadletter.read, admin.read, service.started,
  /// service.stopped, config.loaded, payload.purged, ...
  std::string event;
  std::string outcome = "success";  ///< success | failure
  /// Who: "source:<name>", "admin-token:<first 12 hex of SHA-256(token)>", "cert:<subject>",
  /// "cli:<os user>", "fhirbridge" for the engine itself.
  std::string actor;
  std::string peer;             ///< network address of the actor, "" when local
  std::string tls_identity;     ///< client certificate subject, "" when none
  std::string source;           ///< source or destination name the event concerns
  std::int64_t message_id = 0;  ///< 0 when the event concerns no stored message
  std::string control_id;       ///< the sender's message id (MSH-10 etc.)
  std::string patient;          ///< patient identifier "system|value" (PHI: store only)
  std::string detail;           ///< JSON object with event-specific facts (codes, counts, ids)
  std::string prev_hash;        ///< hex SHA-256 of the previous entry ("" before the first)
  std::string hash;             ///< hex SHA-256 over this entry's content and prev_hash
};

}  // namespace fhirbridge
