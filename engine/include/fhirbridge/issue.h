#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fhirbridge {

/// A problem with the data (not with the engine): it ends up in an OperationOutcome or in the
/// Bundle, where a person can see it. Never carries PHI: say where and what kind, not the value.
struct DataIssue {
  enum class Severity { kFatal, kError, kWarning, kInformation };

  Severity severity = Severity::kError;
  std::string code;      ///< FHIR issue-type code: "structure", "value", "code-invalid", ...
  std::string location;  ///< where in the input, e.g. "OBX[3]-5" or "MSH-18"
  std::string text;      ///< what is wrong and, where it helps, which setting changes it

  static DataIssue Error(std::string code, std::string location, std::string text) {
    return {Severity::kError, std::move(code), std::move(location), std::move(text)};
  }
  static DataIssue Warning(std::string code, std::string location, std::string text) {
    return {Severity::kWarning, std::move(code), std::move(location), std::move(text)};
  }
  static DataIssue Info(std::string code, std::string location, std::string text) {
    return {Severity::kInformation, std::move(code), std::move(location), std::move(text)};
  }
};

/// "fatal" | "error" | "warning" | "information" (FHIR issue-severity codes).
const char* SeverityCode(DataIssue::Severity severity);

using DataIssues = std::vector<DataIssue>;

/// Where an issue's `location` goes in the OperationOutcome: `location` for positions in the
/// input message (OBX[3]-5), `expression` for FHIRPath element paths (Observation.status).
enum class IssuePath { kLocation, kExpression };

/// The issues as a FHIR R4 OperationOutcome, one line of JSON: severity, code ("processing" when
/// empty), details.text, `diagnostics` on every issue when non-empty (e.g. "message 3 (MSH-10
/// X)"), and the location as `path` says.
std::string RenderOperationOutcome(const DataIssues& issues, std::string_view diagnostics = {},
                                   IssuePath path = IssuePath::kLocation);

/// The same, but issues that differ only in their location become one issue listing every
/// location (in order), placed where the first of them was. The form a message's mapping issues
/// are stored in: a warning such as dom-6 ("should have narrative") repeats for every resource of
/// a device Bundle, and fourteen copies of it made the stored row ten times its size.
std::string RenderGroupedOperationOutcome(const DataIssues& issues,
                                          IssuePath path = IssuePath::kLocation);

}  // namespace fhirbridge
