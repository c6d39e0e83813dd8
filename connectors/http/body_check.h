#pragma once

// First sanity checks of an HTTP body, before it is stored (ARCHITECTURE.md: connectors do the
// first checks; mapping comes later): well-formed JSON or XML within a nesting limit. Also used
// by the JSON mapper to parse a stored body the same way. No Poco here, so mappers can link it.

#include <cstddef>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "fhirbridge/status.h"

namespace fhirbridge::http {

/// Where and what a body problem is; `location` is "byte N" (0-based offset into the body).
struct BodyProblem {
  std::string location;
  std::string text;
};

/// Parses `body` as one JSON value (RFC 8259) into `doc`. Arrays and objects may nest at most
/// `max_depth` deep (checked before parsing, so a deep document costs no stack). On failure
/// returns false and fills `problem` (nothing of the body is echoed).
bool ParseJsonBody(std::string_view body, std::size_t max_depth, rapidjson::Document& doc,
                   BodyProblem& problem);

/// Checks that `body` is one well-formed XML document with elements at most `max_depth` deep
/// and no DTD (a DOCTYPE is refused: entity expansion bombs and external entities need one).
bool CheckXmlBody(std::string_view body, std::size_t max_depth, BodyProblem& problem);

/// The value at RFC 6901 pointer `pointer` of `doc` as text when it is a string or an integer
/// (a document id); "" when absent, of another type, or longer than `max_length`.
std::string PointerText(const rapidjson::Value& doc, std::string_view pointer,
                        std::size_t max_length = 128);

}  // namespace fhirbridge::http
