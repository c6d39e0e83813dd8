#pragma once

// The structure walk behind Validator::Validate (internal to the validator). One Walker
// validates one resource tree: it follows the JSON and the compiled ElementNodes side by side,
// keeps the FHIRPath-style location of the element it is on, and appends issues.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "fhir-profiles/validator/validator.h"

namespace fhirbridge::validator {

/// Deep equality of two JSON values (FHIR fixed[x]: exact match).
bool JsonEquals(const rapidjson::Value& a, const rapidjson::Value& b);
/// FHIR pattern[x] match: every member the pattern has, the value has with a matching value;
/// every item of a pattern array matches some item of the value array.
bool JsonMatchesPattern(const rapidjson::Value& pattern, const rapidjson::Value& value);

/// False when `full` is a RESTful URL (http.../Type/id) that does not end with the resource's
/// type and id.
bool FullUrlMatchesId(std::string_view full, const rapidjson::Value& resource);

/// The invariants a walk has evaluated, by node: (node, key, expression) triples. A Bundle of 30
/// Observations makes ~200 look-ups per message against up to ~180 entries; scanning them all
/// cost ~2% of a validation's instructions, so the entries are chained by node in a hash table.
class EvaluatedInvariants {
 public:
  /// Adds (node, key, expression); false when it was there already.
  bool Insert(const rapidjson::Value* node, std::string_view key, std::string_view expression);
  std::size_t size() const { return entries_.size(); }
  /// Removes the entries added since size() was `size`.
  void Truncate(std::size_t size);

 private:
  struct Entry {
    const rapidjson::Value* node;
    std::string_view key;         // views into the compiled structures
    std::string_view expression;  // (two profiles may declare the same key)
    std::int32_t next;            // the entry added before it in its bucket, or -1
  };
  std::size_t Bucket(const rapidjson::Value* node) const;
  std::vector<Entry> entries_;
  std::vector<std::int32_t> heads_;  // per bucket: its newest entry, or -1
};

class Walker {
 public:
  Walker(const Validator& validator, const ValidationOptions& options, DataIssues& issues);

  /// Validates `resource` against its base definition, its meta.profile and `profiles`, with
  /// `path` as the location of the resource (e.g. "Bundle.entry[2].resource").
  void Resource(const rapidjson::Value& resource, std::string path,
                const std::vector<std::string>& profiles);

  // The pieces below are used by the checks in slicing.cpp and checks.cpp.

  /// Adds an issue at the current location (plus `suffix`).
  void Issue(DataIssue::Severity severity, const char* code, std::string text,
             std::string_view suffix = {});
  void Error(const char* code, std::string text, std::string_view suffix = {}) {
    Issue(DataIssue::Severity::kError, code, std::move(text), suffix);
  }
  void Warning(const char* code, std::string text, std::string_view suffix = {}) {
    Issue(DataIssue::Severity::kWarning, code, std::move(text), suffix);
  }

  /// True when `item` matches every discriminator of `slicing` for `slice`.
  bool MatchesSlice(const rapidjson::Value& item, std::string_view type, const Slicing& slicing,
                    const ElementNode& slice);

  /// The FHIRPath-style location of the current element ("Bundle.entry[2].resource.code").
  std::string Location() const;

 private:
  struct Frame {
    const rapidjson::Value* resource;  // the nearest resource
    const Structure* structure;        // the structure being applied
  };

  void ResourceAgainst(const rapidjson::Value& resource, const Structure& structure);
  void Members(const rapidjson::Value& object, const ElementNode& owner, bool resource_root);
  void Property(const ElementNode& child, std::string_view type, const rapidjson::Value* value,
                const rapidjson::Value* ext, std::string_view key, std::uint32_t& count,
                std::vector<std::uint32_t>* slice_counts);
  void Item(const ElementNode& def, std::string_view type, const rapidjson::Value* value,
            const rapidjson::Value* ext);
  void Primitive(const ElementNode& def, std::string_view type, const rapidjson::Value* value,
                 const rapidjson::Value* ext);
  void Complex(const ElementNode& def, std::string_view type, const rapidjson::Value& value);
  void ElementRules(const ElementNode& def, std::string_view type, const TypeRef* tref,
                    const Structure* type_structure, const rapidjson::Value& value);
  void Slices(const ElementNode& child, std::string_view type, const rapidjson::Value& item,
              const rapidjson::Value* ext, std::vector<std::uint32_t>& slice_counts);
  void SliceCardinality(const ElementNode& child, const std::vector<std::uint32_t>& counts);
  void FixedAndPattern(const ElementNode& def, const rapidjson::Value& value);
  void Binding(const ElementNode& def, std::string_view type, const rapidjson::Value& value);
  void BindingTo(const CodeSet* codes, std::string_view type, const rapidjson::Value& value);
  void VitalSigns(const rapidjson::Value& observation, std::vector<std::string_view>& profiles);
  void Invariants(const ElementNode& def, const rapidjson::Value& node);
  void Reference(const ElementNode& def, const rapidjson::Value& ref);
  bool ReferrerConsistent();
  void Extension(const ElementNode& def, const rapidjson::Value& ext);
  void Narrative(const rapidjson::Value& div);
  void Quantity(const ElementNode& def, const rapidjson::Value& quantity);
  void Coding(const rapidjson::Value& coding);
  void BundleRules(const rapidjson::Value& bundle);
  void SearchSetRules(const rapidjson::Value& bundle, const rapidjson::Value& entries);
  void DocumentReachability(const rapidjson::Value& entries);
  void MinMaxValue(const ElementNode& def, std::string_view type, const rapidjson::Value& value);

  const Validator& validator_;
  const ValidationOptions& options_;
  DataIssues& issues_;
  // The location is kept as the resource's path plus one step per element below it, and is
  // written out only for an issue or a nested resource: most elements raise none, and building
  // the string at every element cost ~6% of a validation.
  struct Step {
    std::string_view name;     // ".name"
    std::int32_t index = -1;   // then "[index]" when >= 0
    std::string_view of_type;  // then ".ofType(type)" when set
  };
  // Removes the steps added in its scope.
  class StepScope {
   public:
    StepScope(std::vector<Step>& steps, Step step) : steps_(steps), size_(steps.size()) {
      steps.push_back(step);
    }
    ~StepScope() { steps_.resize(size_); }
    StepScope(const StepScope&) = delete;
    StepScope& operator=(const StepScope&) = delete;

   private:
    std::vector<Step>& steps_;
    std::size_t size_;
  };
  std::string path_;            // the location of the resource being walked
  std::vector<Step> steps_;     // views into the compiled structures, which outlive the walk
  std::size_t steps_base_ = 0;  // steps_ from here on are below path_
  // The element holding an extension (its context, FHIR R4 §2.5.0.1): its ElementDefinition
  // path and type, and the type and name it has in its parent ("Address" + "line"). Views into
  // the compiled structures, which outlive the walk.
  struct Holder {
    std::string_view path, type, parent_type, name;
  };
  Holder holder_;
  std::vector<Frame> frames_;
  const rapidjson::Value* root_ = nullptr;    // the outermost resource
  const rapidjson::Value* bundle_ = nullptr;  // the Bundle being validated, if any
  // bundle_'s entries (fullUrl, resource), built once per Bundle: every reference in it is
  // resolved against them, which otherwise looked up both members of every entry each time.
  struct EntryRef {
    std::string_view full_url;                   ///< "" when none
    const rapidjson::Value* resource = nullptr;  ///< null when the entry has none
  };
  const std::vector<EntryRef>& Entries();
  /// The resource of the last entry (with a resource) whose fullUrl is `url`, or null.
  const rapidjson::Value* EntryByFullUrl(std::string_view url);
  const rapidjson::Value* indexed_bundle_ = nullptr;
  std::vector<EntryRef> entries_;
  // The entries with a fullUrl and a resource, by fullUrl and then position: an absolute
  // reference is found without comparing it with every fullUrl of the Bundle.
  std::vector<std::pair<std::string_view, std::uint32_t>> by_full_url_;
  std::size_t depth_ = 0;
  bool in_extension_structure_ = false;
  // Checks that depend only on the data type (primitive grammars, codes, UCUM, narrative) run
  // in a resource's first pass (its base definition); the profile passes would repeat them.
  bool type_checks_ = true;
  // Invariants already evaluated on a node in this walk (a profile's snapshot repeats the base
  // definition's constraints: dom-2, obs-6 ... are evaluated once per node).
  EvaluatedInvariants evaluated_;
};

}  // namespace fhirbridge::validator
