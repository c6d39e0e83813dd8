#include "engine/audit/audit_event.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>

#include "engine/audit/audit_time.h"
#include "fhirbridge/json_writer.h"

namespace fhirbridge::audit {

namespace {

constexpr std::string_view kDcm = "http://dicom.nema.org/resources/ontology/DCM";
constexpr std::string_view kEventType = "http://terminology.hl7.org/CodeSystem/audit-event-type";
constexpr std::string_view kRest = "http://hl7.org/fhir/restful-interaction";
constexpr std::string_view kSourceType =
    "http://terminology.hl7.org/CodeSystem/security-source-type";
constexpr std::string_view kEntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr std::string_view kObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr std::string_view kNodeSystem = "urn:fhirbridge:node";

using Flow = EventShape::Flow;

// DICOM PS3.16 CID 400 (audit event IDs) and BALP's RESTful patterns.
constexpr EventShape kImport{kDcm, "110107", "Import", "C", "", "", "", Flow::kInbound};
constexpr EventShape kPatientCreate{kDcm, "110110", "Patient Record", "C", "",
                                    "",   "",       Flow::kInternal};
constexpr EventShape kPatientExecute{kDcm, "110110", "Patient Record", "E", "",
                                     "",   "",       Flow::kInternal};
constexpr EventShape kRestCreate{kEventType, "rest",   "RESTful Operation", "C", kRest,
                                 "create",   "create", Flow::kOutbound};
constexpr EventShape kRestRead{kEventType, "rest", "RESTful Operation", "R", kRest,
                               "read",     "read", Flow::kAccess};
constexpr EventShape kApplication{kDcm, "110100", "Application Activity", "E", "",
                                  "",   "",       Flow::kInternal};

struct NamedShape {
  std::string_view event;
  EventShape shape;
};

constexpr std::array kShapes = {
    NamedShape{"message.received", kImport},
    NamedShape{"message.rejected", kImport},
    NamedShape{"message.resent", kImport},
    NamedShape{"message.acknowledged", {kDcm, "110107", "Import", "E", "", "", "", Flow::kInbound}},
    NamedShape{"message.mapped", kPatientCreate},
    NamedShape{"message.held", kPatientExecute},
    NamedShape{"message.validated", kPatientExecute},
    NamedShape{"message.failed", kPatientExecute},
    NamedShape{"message.delivered", kRestCreate},
    NamedShape{"message.retried", kRestCreate},
    NamedShape{"message.dead_lettered", kRestCreate},
    NamedShape{"deadletter.reprocessed",
               {kDcm, "110110", "Patient Record", "U", "", "", "", Flow::kAccess}},
    NamedShape{"deadletter.discarded",
               {kDcm, "110110", "Patient Record", "D", "", "", "", Flow::kAccess}},
    NamedShape{"payload.purged",
               {kDcm, "110110", "Patient Record", "D", "", "", "", Flow::kInternal}},
    NamedShape{"service.started",
               {kDcm, "110100", "Application Activity", "E", kDcm, "110120", "Application Start",
                Flow::kInternal}},
    NamedShape{"service.stopped",
               {kDcm, "110100", "Application Activity", "E", kDcm, "110121", "Application Stop",
                Flow::kInternal}},
    NamedShape{"config.loaded", kApplication},
};

void Coding(JsonWriter& w, std::string_view system, std::string_view code,
            std::string_view display) {
  w.BeginObject();
  w.KeyString("system", system);
  w.KeyString("code", code);
  if (!display.empty()) w.KeyString("display", display);
  w.EndObject();
}

void CodeableConcept(JsonWriter& w, std::string_view system, std::string_view code,
                     std::string_view display) {
  w.BeginObject();
  w.Key("coding");
  w.BeginArray();
  Coding(w, system, code, display);
  w.EndArray();
  w.EndObject();
}

// A Reference by identifier (agents and entities are not resources we could point to).
void IdentifierReference(JsonWriter& w, std::string_view system, std::string_view value) {
  w.BeginObject();
  w.Key("identifier");
  w.BeginObject();
  if (!system.empty()) w.KeyString("system", system);
  w.KeyString("value", value);
  w.EndObject();
  w.EndObject();
}

// Who an actor string names: "source:icu" → (urn:fhirbridge:source, icu).
std::pair<std::string_view, std::string_view> ActorIdentity(std::string_view actor) {
  const std::size_t colon = actor.find(':');
  if (colon == std::string_view::npos) return {"urn:fhirbridge:actor", actor};
  const std::string_view kind = actor.substr(0, colon);
  const std::string_view value = actor.substr(colon + 1);
  if (kind == "source") return {"urn:fhirbridge:source", value};
  if (kind == "admin-token") return {"urn:fhirbridge:admin-token", value};
  if (kind == "cert") return {"urn:fhirbridge:certificate", value};
  if (kind == "cli") return {"urn:fhirbridge:os-user", value};
  return {"urn:fhirbridge:actor", actor};
}

// "10.1.2.3:5123" → "10.1.2.3"; "[::1]:80" → "::1".
std::string_view PeerHost(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    const std::size_t close = peer.find(']');
    return close == std::string_view::npos ? peer.substr(1) : peer.substr(1, close - 1);
  }
  const std::size_t colon = peer.rfind(':');
  if (colon != std::string_view::npos && peer.find(':') == colon) return peer.substr(0, colon);
  return peer;
}

struct Agent {
  std::string_view role_code;  // DCM 110153 / 110152 / 110150
  std::string_view role_display;
  std::string_view system;
  std::string_view value;
  std::string_view name;
  std::string_view alt_id;
  std::string_view network;
  bool requestor = false;
};

void WriteAgent(JsonWriter& w, const Agent& a) {
  w.BeginObject();
  w.Key("type");
  CodeableConcept(w, kDcm, a.role_code, a.role_display);
  w.Key("who");
  IdentifierReference(w, a.system, a.value);
  if (!a.alt_id.empty()) w.KeyString("altId", a.alt_id);
  if (!a.name.empty()) w.KeyString("name", a.name);
  w.Key("requestor");
  w.Bool(a.requestor);
  if (!a.network.empty()) {
    w.Key("network");
    w.BeginObject();
    w.KeyString("address", PeerHost(a.network));
    w.KeyString("type", "2");  // R4 network-type: IP address
    w.EndObject();
  }
  w.EndObject();
}

constexpr std::string_view kSourceRole = "110153";
constexpr std::string_view kSourceDisplay = "Source Role ID";
constexpr std::string_view kDestinationRole = "110152";
constexpr std::string_view kDestinationDisplay = "Destination Role ID";

bool IsEngine(std::string_view actor) { return actor.empty() || actor == "fhirbridge"; }

// BALP: the party that asks is the source (110153, requestor), the one that serves it the
// destination (110152).
void WriteAgents(JsonWriter& w, const AuditRecord& r, Flow flow, const std::string& node) {
  const Agent engine_source{kSourceRole, kSourceDisplay, kNodeSystem, node, node, "", "", true};
  const Agent engine_destination{
      kDestinationRole, kDestinationDisplay, kNodeSystem, node, node, "", "", false};
  w.Key("agent");
  w.BeginArray();
  if (flow == Flow::kOutbound && !r.source.empty()) {
    WriteAgent(w, engine_source);
    WriteAgent(w, {kDestinationRole, kDestinationDisplay, "urn:fhirbridge:destination", r.source,
                   r.source, "", r.peer, false});
  } else if (flow == Flow::kInbound && IsEngine(r.actor) && !r.source.empty()) {
    WriteAgent(w, {kSourceRole, kSourceDisplay, "urn:fhirbridge:source", r.source, r.source,
                   r.tls_identity, r.peer, true});
    WriteAgent(w, engine_destination);
  } else if (!IsEngine(r.actor)) {
    const auto [system, value] = ActorIdentity(r.actor);
    WriteAgent(w,
               {kSourceRole, kSourceDisplay, system, value, r.actor, r.tls_identity, r.peer, true});
    WriteAgent(w, engine_destination);
  } else {
    WriteAgent(w, {"110150", "Application", kNodeSystem, node, node, "", "", true});
  }
  w.EndArray();
}

void WriteSource(JsonWriter& w, const std::string& node) {
  w.Key("source");
  w.BeginObject();
  w.Key("observer");
  IdentifierReference(w, kNodeSystem, node);
  w.Key("type");
  w.BeginArray();
  Coding(w, kSourceType, "4", "Application Server");
  w.EndArray();
  w.EndObject();
}

void DetailString(JsonWriter& w, std::string_view type, std::string_view value) {
  w.BeginObject();
  w.KeyString("type", type);
  w.KeyString("valueString", value);
  w.EndObject();
}

// The members of the record's detail object as entity.detail (type = member name, value as
// text); a detail that is not a JSON object is kept whole.
void WriteDetails(JsonWriter& w, const AuditRecord& r) {
  if (r.detail.empty()) return;
  rapidjson::Document doc;
  doc.Parse(r.detail.data(), r.detail.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    DetailString(w, "detail", r.detail);
    return;
  }
  for (const auto& member : doc.GetObject()) {
    const std::string_view key(member.name.GetString(), member.name.GetStringLength());
    if (member.value.IsString()) {
      DetailString(w, key, {member.value.GetString(), member.value.GetStringLength()});
      continue;
    }
    rapidjson::StringBuffer text;
    rapidjson::Writer<rapidjson::StringBuffer> writer(text);
    member.value.Accept(writer);
    DetailString(w, key, {text.GetString(), text.GetSize()});
  }
}

bool HasDataEntity(const AuditRecord& r) {
  return r.message_id > 0 || !r.control_id.empty() || !r.detail.empty();
}

void WriteEntities(JsonWriter& w, const AuditRecord& r) {
  if (r.patient.empty() && !HasDataEntity(r)) return;
  w.Key("entity");
  w.BeginArray();
  if (!r.patient.empty()) {
    const std::size_t bar = r.patient.find('|');
    const std::string_view patient = r.patient;
    w.BeginObject();
    w.Key("what");
    if (bar == std::string::npos) {
      IdentifierReference(w, "", patient);
    } else {
      IdentifierReference(w, patient.substr(0, bar), patient.substr(bar + 1));
    }
    w.Key("type");
    Coding(w, kEntityType, "1", "Person");
    w.Key("role");
    Coding(w, kObjectRole, "1", "Patient");
    w.EndObject();
  }
  if (HasDataEntity(r)) {
    w.BeginObject();
    if (r.message_id > 0) {
      w.Key("what");
      IdentifierReference(w, "urn:fhirbridge:message", std::to_string(r.message_id));
    }
    w.Key("type");
    Coding(w, kEntityType, "2", "System Object");
    w.Key("role");
    Coding(w, kObjectRole, "4", "Domain Resource");
    if (!r.control_id.empty() || !r.detail.empty()) {  // ele-1: no empty arrays
      w.Key("detail");
      w.BeginArray();
      if (!r.control_id.empty()) DetailString(w, "control_id", r.control_id);
      WriteDetails(w, r);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
}

// A failure's description: the event and the reason the detail gives, if any.
std::string OutcomeDescription(const AuditRecord& r) {
  std::string text = r.event + " failed";
  rapidjson::Document doc;
  doc.Parse(r.detail.data(), r.detail.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    const auto reason = doc.FindMember("reason");
    if (reason != doc.MemberEnd() && reason->value.IsString()) {
      text += ": ";
      text.append(reason->value.GetString(), reason->value.GetStringLength());
    }
  }
  return text;
}

}  // namespace

EventShape ShapeOf(std::string_view event) {
  for (const NamedShape& s : kShapes) {
    if (s.event == event) return s.shape;
  }
  // admin.read, deadletter.read, ...: BALP "read" of data by someone.
  if (event.size() > 5 && event.substr(event.size() - 5) == ".read") return kRestRead;
  return kApplication;
}

std::string_view OutcomeCode(const AuditRecord& record) {
  if (record.outcome == "success") return "0";
  if (record.event == "message.dead_lettered" || record.event == "message.failed") return "8";
  if (record.event.rfind("service.", 0) == 0) return "12";
  return "4";
}

std::string RenderAuditEvent(const AuditRecord& r, const AuditEventOptions& options) {
  const EventShape shape = ShapeOf(r.event);
  std::string out;
  out.reserve(1024);
  JsonWriter w(out);
  w.BeginObject();
  w.KeyString("resourceType", "AuditEvent");
  if (r.id > 0) w.KeyString("id", std::to_string(r.id));
  w.Key("type");
  Coding(w, shape.type_system, shape.type_code, shape.type_display);
  w.Key("subtype");
  w.BeginArray();
  if (!shape.subtype_code.empty()) {
    Coding(w, shape.subtype_system, shape.subtype_code, shape.subtype_display);
  }
  Coding(w, kEventSystem, r.event.empty() ? std::string_view("unknown") : r.event, "");
  w.EndArray();
  w.KeyString("action", shape.action);
  w.KeyString("recorded", FormatInstant(r.at_us));
  const std::string_view outcome = OutcomeCode(r);
  w.KeyString("outcome", outcome);
  if (outcome != "0") w.KeyString("outcomeDesc", OutcomeDescription(r));
  WriteAgents(w, r, shape.flow, options.node_name);
  WriteSource(w, options.node_name);
  WriteEntities(w, r);
  w.EndObject();
  return out;
}

}  // namespace fhirbridge::audit
