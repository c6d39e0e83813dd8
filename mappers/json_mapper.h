#pragma once

// Vendor JSON documents → one FHIR R4 transaction Bundle each, as the source's declarative
// mapping says (json_mapping.h; rules in docs/mapping-json.md): the Patient and the Device by
// conditional create, an Observation per measurement with the MDC code (and LOINC where it is a
// vital sign; blood pressure as a panel with components), its UCUM unit, effectiveDateTime and
// a deterministic identifier, so a resend of the same document creates nothing twice.
//
// The mapper is pure: no I/O, no clock, no globals. A document that does not match its mapping
// fails with issues naming the JSON Pointer and the reason; it never throws.

#include <memory>
#include <string>
#include <string_view>

#include "fhirbridge/mapper.h"
#include "fhirbridge/timezone.h"
#include "mappers/json_mapping.h"
#include "mappers/terminology.h"

namespace fhirbridge::mappers::json {

/// Per-source settings besides the mapping file.
struct JsonOptions {
  /// The configured source name; scopes the deterministic identifiers.
  std::string source_name = "default";
  /// Resolves ISO times without an offset when the mapping names no zone for them.
  std::shared_ptr<const TimeZone> assume_timezone;
  /// System of the deterministic Observation identifiers (the same as PCD-01's).
  std::string observation_identifier_system = "urn:fhirbridge:observation";
};

/// What mapping one document gave, with the document's own id for logs and convert output.
struct JsonMapped {
  MapOutput output;
  std::string control_id;  ///< from the mapping's control_id pointer; "" when none
};

class JsonMapper final : public Mapper {
 public:
  /// `terminology` must outlive the mapper.
  JsonMapper(const Terminology& terminology, Mapping mapping, JsonOptions options);
  ~JsonMapper() override;

  /// Maps one document (the body as received). Never throws; thread-safe.
  JsonMapped MapDocument(std::string_view raw) const;
  /// The same, as the pipeline sees it.
  MapOutput Map(std::string_view raw) const override { return MapDocument(raw).output; }

  const Mapping& mapping() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fhirbridge::mappers::json
