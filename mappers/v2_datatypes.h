#pragma once

// HL7 v2 data types (CWE/CE/CNE, CX, XPN) → FHIR JSON, as the V2-to-FHIR IG maps them.

#include <string>
#include <string_view>

#include "connectors/hl7v2/er7.h"
#include "fhirbridge/json_writer.h"
#include "mappers/pcd01_model.h"

namespace fhirbridge::mappers::pcd01 {

/// The FHIR system for an HL7 coding-system name: a public system (MDC, LN, SCT, UCUM, HL7
/// tables), else the source's `code_systems` setting, else a system scoped to this source
/// (`urn:fhirbridge:source:<source>:code-system:<NAME>`) with a warning at `where`.
std::string SystemFor(Context& ctx, std::string_view hl7_name, const hl7v2::Location& where);

/// Appends `{"system":..,"code":..,"display":..}` for one CWE triplet (components first,
/// first+1, first+2). Returns false (appends nothing) when the triplet has no code.
bool AppendCoding(Context& ctx, JsonWriter& w, const hl7v2::Element& cwe, std::size_t first);

/// Writes a CodeableConcept for a CWE/CE/CNE element: both triplets and CWE-9 original text.
/// Returns false (writes nothing) when the element holds neither a code nor text.
bool WriteCodeableConcept(Context& ctx, JsonWriter& w, std::string_view key,
                          const hl7v2::Element& cwe);

/// Appends `text` as a FHIR search token value inside an ifNoneExist query: FHIR search escapes
/// (\ | , $) and then percent-encoding of everything outside [A-Za-z0-9-._~:/].
void AppendSearchValue(std::string& out, std::string_view text);

/// "identifier=<system>|<value>" for conditional create.
std::string IdentifierQuery(std::string_view system, std::string_view value);

}  // namespace fhirbridge::mappers::pcd01
