#pragma once

// FHIR XML (R4 §2.6.1) to the FHIR JSON form (§2.6.2), so that one validator serves both: element
// names, value/id/url attributes, primitive extensions (`_name`), arrays by the definitions'
// cardinality, contained resources and the XHTML narrative as a string. What XML allows but FHIR
// does not (unknown elements or attributes, text where none belongs) becomes an issue.

#include <string_view>

#include <rapidjson/document.h>

#include "fhirbridge/issue.h"
#include "fhirbridge/result.h"
#include "fhirbridge/status.h"

namespace fhirbridge::validator {

class Validator;

/// Limits on XML input.
struct XmlLimits {
  std::size_t max_bytes = 64u << 20;
  std::size_t max_depth = 128;
};

/// Converts `xml` into `out`. Syntax errors (and undeclared entities) fail with
/// InvalidArgument; structural problems are appended to `issues` and the conversion goes on.
Status XmlToJson(std::string_view xml, const Validator& validator, rapidjson::Document& out,
                 DataIssues& issues, const XmlLimits& limits = {});

/// FHIR XML or JSON text as FHIR JSON text (XML converted; JSON returned as it is). For loading
/// conformance resources written in XML (`fhirbridge validate --load profile.xml`).
Result<std::string> ToJsonText(std::string_view text, const Validator& validator);

}  // namespace fhirbridge::validator
