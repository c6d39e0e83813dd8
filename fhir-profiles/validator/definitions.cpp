#include "fhir-profiles/validator/definitions.h"

#include <rapidjson/error/en.h>

#include "fhir-profiles/validator/snapshot.h"

namespace fhirbridge::validator {

std::string_view EmbeddedDigest();  // generated: the digest file linked into the binary

namespace {

std::string_view Str(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::shared_ptr<const rapidjson::Document> ParseDigest() {
  auto doc = std::make_shared<rapidjson::Document>();
  std::string_view text = EmbeddedDigest();
  doc->Parse(text.data(), text.size());
  if (doc->HasParseError() || !doc->IsObject()) return nullptr;
  return doc;
}

// FHIR R4 §2.1.0.1 (resource list): a resource type starts with a capital letter and is a
// StructureDefinition of kind "resource"; data types are kind primitive-type / complex-type.
bool IsBaseDefinition(const rapidjson::Value& sd) {
  return Str(sd, "derivation") == "specialization" || Str(sd, "type") == "Element" ||
         Str(sd, "type") == "Base" || Str(sd, "type") == "Resource";
}

}  // namespace

std::string_view CanonicalWithoutVersion(std::string_view url) {
  std::size_t bar = url.find('|');
  return bar == std::string_view::npos ? url : url.substr(0, bar);
}

bool CodeSet::Contains(std::string_view system, std::string_view code) const {
  if (system.empty()) return bare.count(std::string(code)) > 0;
  std::string key;
  key.reserve(system.size() + code.size() + 1);
  key.append(system).append(1, '|').append(code);
  return codes.count(key) > 0;
}

Definitions::Definitions() { store_.SetObject(); }
Definitions::~Definitions() = default;

Result<std::unique_ptr<Definitions>> Definitions::Embedded() {
  static const std::shared_ptr<const rapidjson::Document> digest = ParseDigest();
  if (!digest) return Status::Internal("the embedded FHIR definitions digest does not parse");
  auto defs = std::make_unique<Definitions>();
  defs->embedded_ = digest;
  const auto& entries = (*digest)["entry"];
  // The digest is read-only and shared: index it in place, without copying.
  for (const auto& e : entries.GetArray()) {
    const rapidjson::Value& r = e["resource"];
    std::string_view type = Str(r, "resourceType");
    std::string url(Str(r, "url"));
    if (type == "StructureDefinition") {
      if (!r.HasMember("snapshot")) {
        // Our own profiles may be differential only: they get a snapshot like a --load file.
        FHIRBRIDGE_RETURN_IF_ERROR(defs->AddResource(r));
        continue;
      }
      defs->structures_[url] = &r;
      if (IsBaseDefinition(r)) {
        defs->types_[std::string(Str(r, "type"))] = &r;
        if (Str(r, "kind") == "resource") defs->resource_types_.insert(std::string(Str(r, "type")));
      }
    } else if (type == "ValueSet") {
      defs->value_sets_[url] = &r;
    } else if (type == "CodeSystem") {
      defs->code_systems_[url] = &r;
    }
  }
  return defs;
}

Status Definitions::AddJson(std::string_view json, std::string_view name,
                            const DefinitionLimits& limits) {
  if (json.size() > limits.max_bytes)
    return Status::ResourceExhausted(std::string(name) + ": larger than " +
                                     std::to_string(limits.max_bytes) + " bytes");
  rapidjson::Document doc(&store_.GetAllocator());
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError())
    return Status::InvalidArgument(std::string(name) + ": invalid JSON at offset " +
                                   std::to_string(doc.GetErrorOffset()) + ": " +
                                   rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject()) return Status::InvalidArgument(std::string(name) + ": not a JSON object");
  if (Str(doc, "resourceType") == "Bundle") {
    auto it = doc.FindMember("entry");
    if (it == doc.MemberEnd() || !it->value.IsArray()) return Status::Ok();
    if (it->value.Size() > limits.max_resources)
      return Status::ResourceExhausted(std::string(name) + ": more than " +
                                       std::to_string(limits.max_resources) + " resources");
    // Structures first whose base is already known: a profile may come before its base.
    std::vector<const rapidjson::Value*> pending;
    for (const auto& e : it->value.GetArray()) {
      if (!e.IsObject() || !e.HasMember("resource")) continue;
      pending.push_back(&e["resource"]);
    }
    while (!pending.empty()) {
      std::vector<const rapidjson::Value*> later;
      Status last;
      for (const rapidjson::Value* r : pending) {
        Status s = AddResource(*r, limits);
        if (s.IsNotFound()) {
          later.push_back(r);
          last = s;
        } else if (!s.ok()) {
          return s.WithContext(name);
        }
      }
      if (later.size() == pending.size()) return last.WithContext(name);
      pending.swap(later);
    }
    return Status::Ok();
  }
  return AddResource(doc, limits).WithContext(name);
}

Status Definitions::AddResource(const rapidjson::Value& resource, const DefinitionLimits& limits) {
  if (!resource.IsObject())
    return Status::InvalidArgument("a conformance resource must be an object");
  std::string_view type = Str(resource, "resourceType");
  if (type != "StructureDefinition" && type != "ValueSet" && type != "CodeSystem")
    return Status::Ok();
  rapidjson::Value copy(resource, store_.GetAllocator());
  return AddOne(copy, limits.max_snapshot_elements);
}

Status Definitions::AddOne(rapidjson::Value& resource, std::size_t max_snapshot_elements) {
  std::string_view type = Str(resource, "resourceType");
  std::string url(Str(resource, "url"));
  if (url.empty()) return Status::InvalidArgument(std::string(type) + " without a url");
  if (type == "StructureDefinition" && !resource.HasMember("snapshot")) {
    FHIRBRIDGE_RETURN_IF_ERROR(
        GenerateSnapshot(resource, *this, store_.GetAllocator(), max_snapshot_elements));
  }
  added_.emplace_back(std::move(resource));
  const rapidjson::Value* stored = &added_.back();
  if (type == "StructureDefinition") {
    structures_[url] = stored;
    std::string_view version = Str(*stored, "version");
    if (!version.empty()) structures_[url + "|" + std::string(version)] = stored;
    // A loaded definition never replaces a base type (a profile without derivation would).
    if (IsBaseDefinition(*stored) && Str(*stored, "derivation") == "specialization")
      types_.emplace(std::string(Str(*stored, "type")), stored);
  } else if (type == "ValueSet") {
    value_sets_[url] = stored;
    std::lock_guard<std::mutex> lock(code_sets_mutex_);
    code_sets_.erase(url);
  } else {
    code_systems_[url] = stored;
  }
  return Status::Ok();
}

const rapidjson::Value* Definitions::StructureByUrl(std::string_view url) const {
  auto it = structures_.find(std::string(url));
  if (it == structures_.end()) it = structures_.find(std::string(CanonicalWithoutVersion(url)));
  return it == structures_.end() ? nullptr : it->second;
}

const rapidjson::Value* Definitions::StructureForType(std::string_view type) const {
  auto it = types_.find(std::string(type));
  return it == types_.end() ? nullptr : it->second;
}

const rapidjson::Value* Definitions::CodeSystem(std::string_view url) const {
  auto it = code_systems_.find(std::string(CanonicalWithoutVersion(url)));
  return it == code_systems_.end() ? nullptr : it->second;
}

bool Definitions::IsValueSet(std::string_view url) const {
  return value_sets_.count(std::string(CanonicalWithoutVersion(url))) > 0;
}

std::vector<std::string> Definitions::TypeNames() const {
  std::vector<std::string> out;
  out.reserve(types_.size());
  for (const auto& [name, sd] : types_) out.push_back(name);
  return out;
}

bool Definitions::IsResourceType(std::string_view name) const {
  return resource_types_.count(std::string(name)) > 0;
}

const CodeSet* Definitions::ValueSetCodes(std::string_view url) const {
  std::string key(CanonicalWithoutVersion(url));
  std::lock_guard<std::mutex> lock(code_sets_mutex_);
  auto found = code_sets_.find(key);
  if (found != code_sets_.end()) return found->second.get();
  auto vs = value_sets_.find(key);
  if (vs == value_sets_.end()) return nullptr;
  std::unique_ptr<CodeSet> set = Expand(*vs->second);
  const CodeSet* out = set.get();
  code_sets_[key] = std::move(set);
  return out;
}

}  // namespace fhirbridge::validator
