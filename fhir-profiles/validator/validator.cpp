#include "fhir-profiles/validator/validator.h"

#include <rapidjson/error/en.h>

#include <memory>
#include <set>
#include <string>
#include <tuple>

#include "fhir-profiles/validator/fhirpath_invariants.h"
#include "fhir-profiles/validator/walker.h"
#include "fhir-profiles/validator/xml_reader.h"
#include "fhirbridge/insitu_json.h"

namespace fhirbridge::validator {

namespace {

// Several passes (base, meta.profile, named profiles) may find the same problem: report it once.
void Deduplicate(DataIssues& issues) {
  auto same = [](const DataIssue& a, const DataIssue& b) {
    return a.severity == b.severity && a.code == b.code && a.location == b.location &&
           a.text == b.text;
  };
  if (issues.size() <= 32) {
    // The usual case: a handful of issues, compared pairwise without allocating.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < issues.size(); ++i) {
      bool dup = false;
      for (std::size_t j = 0; j < kept && !dup; ++j) dup = same(issues[j], issues[i]);
      if (!dup) {
        if (kept != i) issues[kept] = std::move(issues[i]);
        ++kept;
      }
    }
    issues.resize(kept);
    return;
  }
  std::set<std::tuple<int, std::string, std::string, std::string>> seen;
  DataIssues out;
  out.reserve(issues.size());
  for (DataIssue& i : issues) {
    if (seen.emplace(static_cast<int>(i.severity), i.code, i.location, i.text).second)
      out.push_back(std::move(i));
  }
  issues.swap(out);
}

// Line and column of a byte offset, for syntax errors.
std::string LineColumn(std::string_view text, std::size_t offset) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

}  // namespace

bool Outcome::HasErrors() const { return ErrorCount() > 0; }

std::size_t Outcome::ErrorCount() const {
  std::size_t n = 0;
  for (const DataIssue& i : issues)
    if (i.severity == DataIssue::Severity::kError || i.severity == DataIssue::Severity::kFatal) ++n;
  return n;
}

std::string Outcome::ToJson() const {
  if (issues.empty()) {
    return RenderOperationOutcome({DataIssue::Info("informational", "", "All OK")}, {},
                                  IssuePath::kExpression);
  }
  return RenderOperationOutcome(issues, {}, IssuePath::kExpression);
}

Validator::Validator(std::unique_ptr<Definitions> defs) : defs_(std::move(defs)) {}
Validator::~Validator() = default;

Result<std::unique_ptr<Validator>> Validator::Create(std::unique_ptr<Definitions> defs) {
  std::unique_ptr<Validator> v(new Validator(std::move(defs)));
#ifdef FHIRBRIDGE_HAVE_FHIRPATH
  v->invariants_ = &FhirPathInvariants::Shared();
#endif
  // Every base type and resource is compiled now, so that validation reads them without locks.
  for (const std::string& name : v->defs_->TypeNames()) {
    const rapidjson::Value* sd = v->defs_->StructureForType(name);
    Result<std::unique_ptr<Structure>> s = CompileStructure(*sd, *v->defs_);
    if (!s.ok()) return s.status();
    v->by_definition_[sd] = s->get();
    v->types_[name] = std::move(*s);
  }
  for (auto& [name, s] : v->types_) {
    LinkTypes(*s, v->types_, *v->defs_);
    v->base_urls_[s->url] = s.get();
  }
  return v;
}

const Structure* Validator::ForType(std::string_view type) const {
  auto it = types_.find(std::string(type));
  return it == types_.end() ? nullptr : it->second.get();
}

const Structure* Validator::ForUrl(std::string_view url) const {
  std::string_view key = CanonicalWithoutVersion(url);
  if (auto base = base_urls_.find(key); base != base_urls_.end()) return base->second;
  {
    std::lock_guard<std::mutex> lock(profiles_mutex_);
    auto it = profiles_.find(key);
    if (it != profiles_.end()) return it->second.get();
  }
  const rapidjson::Value* sd = defs_->StructureByUrl(url);
  if (sd == nullptr) return nullptr;
  if (auto base = by_definition_.find(sd); base != by_definition_.end()) return base->second;
  std::lock_guard<std::mutex> lock(profiles_mutex_);
  auto it = profiles_.find(key);
  if (it != profiles_.end()) return it->second.get();
  Result<std::unique_ptr<Structure>> s = CompileStructure(*sd, *defs_);
  if (!s.ok()) return nullptr;
  LinkTypes(**s, types_, *defs_);
  const Structure* out = s->get();
  profiles_[std::string(key)] = std::move(*s);
  return out;
}

Outcome Validator::Validate(const rapidjson::Value& resource,
                            const ValidationOptions& options) const {
  Outcome out;
  Walker walker(*this, options, out.issues);
  std::string_view type;
  if (resource.IsObject() && resource.HasMember("resourceType") &&
      resource["resourceType"].IsString())
    type = resource["resourceType"].GetString();
  walker.Resource(resource, std::string(type.empty() ? "$" : type), options.profiles);
  Deduplicate(out.issues);
  return out;
}

Outcome Validator::ValidateJson(std::string_view json, const ValidationOptions& options) const {
  // Parsed in place in a copy: strings stay in the buffer instead of being copied out one by
  // one (a third less time for a device Bundle), and on a mapping worker, which validates one
  // Bundle after another, the copy and the nodes reuse the thread's scratch space. The walk's
  // views point into the copy.
  InsituJson parsed(json);
  rapidjson::Document& doc = parsed.doc();
  if (doc.HasParseError()) {
    Outcome out;
    out.issues.push_back(DataIssue{DataIssue::Severity::kFatal, "invalid", "",
                                   std::string("Error parsing JSON: ") +
                                       rapidjson::GetParseError_En(doc.GetParseError()) + " at " +
                                       LineColumn(json, doc.GetErrorOffset())});
    return out;
  }
  return Validate(doc, options);
}

Outcome Validator::ValidateXml(std::string_view xml, const ValidationOptions& options) const {
  rapidjson::Document doc;
  DataIssues issues;
  Status s = XmlToJson(xml, *this, doc, issues);
  if (!s.ok()) {
    Outcome out;
    out.issues.push_back(DataIssue{DataIssue::Severity::kFatal, "invalid", "(xml)", s.message()});
    return out;
  }
  Outcome out = Validate(doc, options);
  out.issues.insert(out.issues.begin(), issues.begin(), issues.end());
  return out;
}

}  // namespace fhirbridge::validator
