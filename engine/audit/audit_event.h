#pragma once

// AuditRecord → FHIR R4 AuditEvent, shaped after IHE Basic Audit Log Patterns (BALP): a type and
// subtypes that say what happened, the action (C/R/U/D/E), the outcome, one agent per party with
// its DICOM role (110153 source, 110152 destination) and requestor flag, this node as
// source.observer, and entities for the patient (role 1) and the data (role 4). No extensions, so
// any R4 server and any ATNA repository can read it (FHIR-REST.md, Audit).

#include <cstdint>
#include <string>
#include <string_view>

#include "fhirbridge/audit.h"

namespace fhirbridge::audit {

/// Code system of our own event names (AuditRecord::event), used as an AuditEvent subtype.
inline constexpr std::string_view kEventSystem = "urn:fhirbridge:audit-event";

struct AuditEventOptions {
  /// This fhirbridge node (config `audit.node_name`): source.observer and the agent that stands
  /// for the engine.
  std::string node_name = "fhirbridge";
};

/// What an AuditEvent says about one kind of event: the parts fixed by its name.
struct EventShape {
  std::string_view type_system;
  std::string_view type_code;
  std::string_view type_display;
  std::string_view action;  ///< C | R | U | D | E (R4 audit-event-action, required binding)
  /// A second subtype from a standard code system (restful-interaction, DCM), "" when none.
  std::string_view subtype_system;
  std::string_view subtype_code;
  std::string_view subtype_display;
  /// Who asks: the sender of inbound messages, the engine for deliveries and its own work.
  enum class Flow { kInbound, kOutbound, kInternal, kAccess } flow = Flow::kInternal;
};

/// The shape of `event` (an AuditRecord::event name); unknown names get application activity.
EventShape ShapeOf(std::string_view event);

/// R4 audit-event-outcome: "0" success, "4" minor failure, "8" serious failure (the work was
/// abandoned: dead letters, mapping failures), "12" major failure (the engine failed).
std::string_view OutcomeCode(const AuditRecord& record);

/// The AuditEvent as one line of JSON (no trailing newline). Deterministic: the same record and
/// options give the same bytes.
std::string RenderAuditEvent(const AuditRecord& record, const AuditEventOptions& options);

}  // namespace fhirbridge::audit
