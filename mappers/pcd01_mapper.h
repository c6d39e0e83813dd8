#pragma once

// IHE PCD-01 (ORU^R01 device observations) → one FHIR R4 transaction Bundle per message.
// The rules are in docs/mapping-pcd01.md; each one names its source (IHE PCD TF-2, the FHIR
// vital-signs profiles, the V2-to-FHIR IG) or says which per-source setting chooses it.
//
// The mapper is pure: no I/O, no clock, no globals. The same bytes and options give the same
// output bytes, which is what makes deterministic identifiers and conditional creates work.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/hl7v2/er7.h"
#include "fhirbridge/issue.h"
#include "fhirbridge/mapper.h"
#include "fhirbridge/timezone.h"
#include "mappers/terminology.h"

namespace fhirbridge::mappers {

/// Per-source mapping settings (declared, with their help text, in engine/src/config_schema.cpp).
struct Pcd01Options {
  /// The configured source name; scopes identifiers that have no global system.
  std::string source_name = "default";
  /// Resolves local times that carry no UTC offset; null = such times are a data error.
  std::shared_ptr<const TimeZone> assume_timezone;
  /// PID-3 assigning-authority name (CX-4 HD-1) → identifier system URI; key "" = no authority.
  std::map<std::string, std::string, std::less<>> identifier_systems;
  /// What to do with a PID-3 whose authority is neither an ISO OID nor configured.
  enum class UnknownAuthority { kScopeToSender, kHold };
  UnknownAuthority unknown_assigning_authority = UnknownAuthority::kScopeToSender;
  /// HL7 coding-system name (99MNDRY, MDIL, ...) → FHIR code system URI.
  std::map<std::string, std::string, std::less<>> code_systems;
  /// FHIR status for OBX-11 = R (device result not yet verified).
  std::string status_for_r = "preliminary";
  /// Deliver observations flagged DEMO/TEST in OBX-8 (tagged HTEST) instead of leaving them out.
  bool deliver_test_data = false;
  /// System of the deterministic Observation identifiers.
  std::string observation_identifier_system = "urn:fhirbridge:observation";
  hl7v2::ParseLimits limits;
  /// Fill Mapped::facts for conditional routes (the service does; `convert` need not pay).
  bool route_facts = false;
};

/// What mapping one message produced.
struct Mapped {
  /// The transaction Bundle as one line of JSON; empty when the message could not be mapped.
  std::string bundle;
  /// Warnings and information (and, when `bundle` is empty, the errors that prevented it).
  DataIssues issues;
  /// The message names no usable patient: hold it until one is known (not a mapping bug).
  bool awaiting_patient = false;
  /// Delivery lane: a hash of the patient (or device) identity; carries no PHI.
  std::string lane_key;
  /// The patient identifier as "system|value" (PHI: for the audit trail, never for logs).
  std::string patient;
  /// MSH-10, for logs and ACKs.
  std::string control_id;
  std::size_t observation_count = 0;
  std::size_t resource_count = 0;
  /// Message type, observation codes, PV1-3 and devices (when Pcd01Options::route_facts).
  RouteFacts facts;

  bool ok() const { return !bundle.empty(); }
};

class Pcd01Mapper {
 public:
  /// `terminology` must outlive the mapper.
  Pcd01Mapper(const Terminology& terminology, Pcd01Options options);
  ~Pcd01Mapper();
  Pcd01Mapper(Pcd01Mapper&&) noexcept;
  Pcd01Mapper& operator=(Pcd01Mapper&&) noexcept;

  /// Parses and maps one message (framing removed). Never throws.
  Mapped Map(std::string_view raw) const;
  /// Maps an already parsed message.
  Mapped Map(const hl7v2::ParsedMessage& message) const;

  const Pcd01Options& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// OperationOutcomes of mapping issues are rendered by the engine's shared renderer.
using fhirbridge::RenderOperationOutcome;

}  // namespace fhirbridge::mappers
