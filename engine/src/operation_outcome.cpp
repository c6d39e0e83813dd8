#include "fhirbridge/issue.h"
#include "fhirbridge/json_writer.h"

namespace fhirbridge {

std::string RenderOperationOutcome(const DataIssues& issues, std::string_view diagnostics,
                                   IssuePath path) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.KeyString("resourceType", "OperationOutcome");
  w.Key("issue");
  w.BeginArray();
  for (const DataIssue& issue : issues) {
    w.BeginObject();
    w.KeyString("severity", SeverityCode(issue.severity));
    w.KeyString("code", issue.code.empty() ? std::string_view("processing") : issue.code);
    w.Key("details");
    w.BeginObject();
    w.KeyString("text", issue.text);
    w.EndObject();
    if (!diagnostics.empty()) w.KeyString("diagnostics", diagnostics);
    if (!issue.location.empty()) {
      w.Key(path == IssuePath::kLocation ? "location" : "expression");
      w.BeginArray();
      w.String(issue.location);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace fhirbridge
