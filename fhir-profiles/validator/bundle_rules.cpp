// Bundle rules for the structure walk (FHIR R4 §2.36.0): fullUrls, search sets, link relations
// and the reachability of a document's entries.

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "fhir-profiles/validator/primitives.h"
#include "fhir-profiles/validator/walker.h"

namespace fhirbridge::validator {

namespace {

std::string_view Str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

}  // namespace

// A RESTful fullUrl (http.../Type/id) names the resource's id; other fullUrls name nothing.
bool FullUrlMatchesId(std::string_view full, const rapidjson::Value& resource) {
  if (full.substr(0, 4) != "http") return true;
  std::string tail = "/" + std::string(Str(resource, "resourceType")) + "/";
  std::size_t pos = full.rfind(tail);
  if (pos == std::string_view::npos) return true;
  std::string_view id = Str(resource, "id");
  return !id.empty() && full.substr(pos + tail.size()) == id;
}

void Walker::BundleRules(const rapidjson::Value& bundle) {
  std::string_view type = Str(bundle, "type");
  bool transaction = type == "transaction" || type == "batch" || type == "transaction-response" ||
                     type == "batch-response" || type == "history";
  auto links = bundle.FindMember("link");
  if (links != bundle.MemberEnd() && links->value.IsArray()) {
    std::map<std::string, int> seen;
    for (rapidjson::SizeType i = 0; i < links->value.Size(); ++i) {
      std::string rel(Str(links->value[i], "relation"));
      if (++seen[rel] == 2)
        Error("invalid", "The link relationship type '" + rel + "' can only occur once",
              ".link[" + std::to_string(i) + "]");
    }
  }
  auto entries = bundle.FindMember("entry");
  if (entries == bundle.MemberEnd() || !entries->value.IsArray()) return;
  for (rapidjson::SizeType i = 0; i < entries->value.Size(); ++i) {
    const rapidjson::Value& e = entries->value[i];
    std::string at = ".entry[" + std::to_string(i) + "]";
    std::string_view full = Str(e, "fullUrl");
    const rapidjson::Value* res =
        e.IsObject() && e.HasMember("resource") ? &e["resource"] : nullptr;
    if (full.empty()) {
      if (res && !transaction)
        Error("invalid",
              "Except for transactions and batches, each entry in a Bundle must have a fullUrl "
              "which is the identity of the resource in the entry",
              at);
      continue;
    }
    if (!IsAbsoluteUri(full)) {
      Error("invalid", "The fullUrl must be an absolute URL (not '" + std::string(full) + "')", at);
      continue;
    }
    if (res == nullptr || full.substr(0, 4) != "http") continue;
    std::string_view rtype = Str(*res, "resourceType");
    std::string_view id = Str(*res, "id");
    std::string tail = "/" + std::string(rtype) + "/";
    std::size_t pos = full.rfind(tail);
    if (pos == std::string_view::npos) continue;
    if (id.empty()) {
      Error("invalid",
            "The fullUrl '" + std::string(full) +
                "' looks like a RESTful server URL, but the resource has no id",
            at);
    } else if (full.substr(pos + tail.size()) != id) {
      Error(
          "invalid",
          "The fullUrl '" + std::string(full) +
              "' looks like a RESTful server URL, so it must end with the correct type and id (/" +
              std::string(rtype) + "/" + std::string(id) + ")",
          at);
    }
  }
  if (type == "searchset") SearchSetRules(bundle, entries->value);
  if (type == "document") DocumentReachability(entries->value);
}

namespace {

void CollectReferences(const rapidjson::Value& v, std::vector<std::string_view>& out) {
  if (v.IsArray()) {
    for (const auto& x : v.GetArray()) CollectReferences(x, out);
  } else if (v.IsObject()) {
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      if (m->value.IsString() && std::string_view(m->name.GetString()) == "reference")
        out.emplace_back(m->value.GetString(), m->value.GetStringLength());
      else
        CollectReferences(m->value, out);
    }
  }
}

// The entry a reference names: same fullUrl, or a relative Type/id against the base of the
// referring entry's fullUrl (FHIR R4 §2.36.4.1).
int ResolveEntry(const rapidjson::Value& entries, std::string_view from_full,
                 const rapidjson::Value* from_resource, std::string_view ref) {
  for (rapidjson::SizeType i = 0; i < entries.Size(); ++i)
    if (Str(entries[i], "fullUrl") == ref) return static_cast<int>(i);
  std::string absolute(ref);
  if (!IsAbsoluteUri(ref)) {
    if (from_resource && !FullUrlMatchesId(from_full, *from_resource)) return -1;
    std::size_t cut = from_full.rfind('/');
    if (cut != std::string_view::npos) cut = from_full.rfind('/', cut - 1);
    if (from_full.substr(0, 4) != "http" || cut == std::string_view::npos) return -1;
    absolute = std::string(from_full.substr(0, cut + 1)) + std::string(ref);
  }
  for (rapidjson::SizeType i = 0; i < entries.Size(); ++i)
    if (Str(entries[i], "fullUrl") == absolute) return static_cast<int>(i);
  return -1;
}

}  // namespace

void Walker::DocumentReachability(const rapidjson::Value& entries) {
  // A document's entries are all reachable from its Composition (FHIR R4 §3.3.1, the HL7
  // validator reports those that are not).
  const std::size_t n = entries.Size();
  if (n < 2) return;
  std::vector<std::vector<int>> edges(n);
  for (std::size_t i = 0; i < n; ++i) {
    const rapidjson::Value& e = entries[i];
    if (!e.IsObject() || !e.HasMember("resource")) continue;
    std::vector<std::string_view> refs;
    CollectReferences(e["resource"], refs);
    for (std::string_view r : refs) {
      int j = ResolveEntry(entries, Str(e, "fullUrl"), &e["resource"], r);
      if (j >= 0) {
        edges[i].push_back(j);
        edges[j].push_back(static_cast<int>(i));
      }
    }
  }
  std::vector<bool> seen(n, false);
  std::vector<int> todo{0};
  seen[0] = true;
  while (!todo.empty()) {
    int i = todo.back();
    todo.pop_back();
    for (int j : edges[i])
      if (!seen[j]) {
        seen[j] = true;
        todo.push_back(j);
      }
  }
  for (std::size_t i = 1; i < n; ++i)
    if (!seen[i])
      Error("informational",
            "Entry '" + std::string(Str(entries[i], "fullUrl")) +
                "' isn't reachable by traversing links (forward or backward) from the Composition",
            ".entry[" + std::to_string(i) + "]");
}

void Walker::SearchSetRules(const rapidjson::Value& bundle, const rapidjson::Value& entries) {
  // FHIR R4 §3.1.1.4 (search results): the types a search asked for, from the self link
  // ("base/Patient?..." or "base?_type=Observation,DocumentReference").
  std::vector<std::string> wanted;
  auto links = bundle.FindMember("link");
  if (links != bundle.MemberEnd() && links->value.IsArray()) {
    for (const auto& l : links->value.GetArray()) {
      if (Str(l, "relation") != "self") continue;
      std::string_view url = Str(l, "url");
      std::size_t q = url.find('?');
      std::string_view path = url.substr(0, q);
      std::string_view last =
          path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
      if (validator_.definitions().IsResourceType(last)) wanted.emplace_back(last);
      std::size_t t = url.find("_type=");
      if (t != std::string_view::npos) {
        std::string_view list = url.substr(t + 6);
        list = list.substr(0, list.find('&'));
        while (!list.empty()) {
          std::size_t comma = list.find(',');
          wanted.emplace_back(list.substr(0, comma));
          list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        }
      }
      break;
    }
  }
  for (rapidjson::SizeType i = 0; i < entries.Size(); ++i) {
    const rapidjson::Value& e = entries[i];
    if (!e.IsObject() || !e.HasMember("resource")) continue;
    const rapidjson::Value& r = e["resource"];
    std::string at = ".entry[" + std::to_string(i) + "].resource";
    std::string_view rtype = Str(r, "resourceType");
    std::string_view mode = e.HasMember("search") ? Str(e["search"], "mode") : std::string_view();
    if (mode == "outcome") {
      if (rtype != "OperationOutcome")
        Error("invalid", "This is not an OperationOutcome (" + std::string(rtype) + ")", at);
      continue;
    }
    if (mode.empty() && rtype == "OperationOutcome") continue;
    if (Str(r, "id").empty()) Error("invalid", "Search results must have ids", at);
    if (mode == "match" && !wanted.empty() &&
        std::find(wanted.begin(), wanted.end(), rtype) == wanted.end()) {
      std::string list;
      for (const std::string& w : wanted) list += (list.empty() ? "" : ", ") + w;
      Error("invalid",
            "This is not a matching resource type for the specified search (" + std::string(rtype) +
                " expecting [" + list + "])",
            at);
    }
  }
}

}  // namespace fhirbridge::validator
