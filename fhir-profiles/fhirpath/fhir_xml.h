#pragma once

// FHIR XML (R4 §2.6.1) read into the FHIR JSON form (§2.6.2) FHIRPath evaluates: the type model
// says which elements repeat (arrays), which values are booleans or numbers, where a choice
// element's type is, and which elements hold resources. Primitive ids and extensions become the
// `_name` siblings; the XHTML narrative becomes a string. Numbers are kept as their text, as
// ParseFhirJson does.

#include <cstddef>
#include <string_view>

#include <rapidjson/document.h>

#include "fhirbridge/status.h"

namespace fhirbridge::fhirpath {

/// Limits on XML input.
struct FhirXmlLimits {
  size_t max_bytes = 64u << 20;
  int max_depth = 128;
};

/// Converts `xml` into `out`. InvalidArgument for malformed XML or a root that is not a FHIR
/// resource; ResourceExhausted past a limit. Elements the model does not know are skipped.
Status FhirXmlToJson(std::string_view xml, rapidjson::Document& out,
                     const FhirXmlLimits& limits = {});

}  // namespace fhirbridge::fhirpath
