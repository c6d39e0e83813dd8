#include "fhirbridge/issue.h"

#include <cstddef>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "fhirbridge/json_writer.h"

namespace fhirbridge {

namespace {

// One issue of the OperationOutcome, with each of `locations` (none, one or several).
void WriteIssue(JsonWriter& w, const DataIssue& issue, std::string_view diagnostics, IssuePath path,
                const std::vector<const std::string*>& locations) {
  w.BeginObject();
  w.KeyString("severity", SeverityCode(issue.severity));
  w.KeyString("code", issue.code.empty() ? std::string_view("processing") : issue.code);
  w.Key("details");
  w.BeginObject();
  w.KeyString("text", issue.text);
  w.EndObject();
  if (!diagnostics.empty()) w.KeyString("diagnostics", diagnostics);
  if (!locations.empty()) {
    w.Key(path == IssuePath::kLocation ? "location" : "expression");
    w.BeginArray();
    for (const std::string* location : locations) w.String(*location);
    w.EndArray();
  }
  w.EndObject();
}

template <typename EachIssue>
std::string Render(EachIssue&& each_issue) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.KeyString("resourceType", "OperationOutcome");
  w.Key("issue");
  w.BeginArray();
  each_issue(w);
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace

std::string RenderOperationOutcome(const DataIssues& issues, std::string_view diagnostics,
                                   IssuePath path) {
  return Render([&](JsonWriter& w) {
    std::vector<const std::string*> location;
    for (const DataIssue& issue : issues) {
      location.clear();
      if (!issue.location.empty()) location.push_back(&issue.location);
      WriteIssue(w, issue, diagnostics, path, location);
    }
  });
}

std::string RenderGroupedOperationOutcome(const DataIssues& issues, IssuePath path) {
  // Groups in order of their first issue; each group's locations in order.
  using Key = std::tuple<DataIssue::Severity, std::string_view, std::string_view>;
  std::map<Key, std::size_t> group_of;
  std::vector<std::pair<const DataIssue*, std::vector<const std::string*>>> groups;
  for (const DataIssue& issue : issues) {
    const auto [it, added] =
        group_of.try_emplace(Key{issue.severity, issue.code, issue.text}, groups.size());
    if (added) groups.push_back({&issue, {}});
    if (!issue.location.empty()) groups[it->second].second.push_back(&issue.location);
  }
  return Render([&](JsonWriter& w) {
    for (const auto& [first, locations] : groups) WriteIssue(w, *first, {}, path, locations);
  });
}

}  // namespace fhirbridge
