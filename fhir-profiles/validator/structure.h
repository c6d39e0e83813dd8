#pragma once

// A StructureDefinition compiled for validation: the snapshot's ElementDefinitions as a tree of
// ElementNodes (children, slices, types, cardinality, fixed/pattern values, bindings,
// invariants), built once and then read by any number of threads.

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rapidjson/document.h>

#include "fhir-profiles/validator/native_invariants.h"
#include "fhirbridge/result.h"

namespace fhirbridge::validator {

class Definitions;
struct CodeSet;
struct Structure;

constexpr std::uint32_t kUnbounded = UINT32_MAX;

/// ElementDefinition.type: a type code and the profiles it must meet.
struct TypeRef {
  std::string code;                          ///< "Quantity", "string", "Reference", ...
  std::vector<std::string> profiles;         ///< type.profile
  std::vector<std::string> target_profiles;  ///< type.targetProfile (Reference, canonical)
  std::vector<std::string> target_types;     ///< resource types those profiles constrain
  std::vector<std::string> unknown_targets;  ///< target profiles not loaded
  bool bundled = false;                      ///< aggregation includes "bundled"
  const Structure* structure = nullptr;      ///< the type's base definition (set by LinkTypes)
  bool is_resource = false;                  ///< a resource type, or "Resource"
};

enum class BindingStrength { kNone, kRequired, kExtensible, kPreferred, kExample };

/// ElementDefinition.constraint: an invariant, with its FHIRPath expression.
struct Invariant {
  std::string key;
  std::string human;
  std::string expression;
  bool error = true;                                ///< severity error (else warning)
  std::string source;                               ///< URL of the structure that declares it
  NativeInvariant native = NativeInvariant::kNone;  ///< evaluated without FHIRPath when it can
};

/// ElementDefinition.slicing.discriminator (FHIR R4 §5.1.0.12).
struct Discriminator {
  enum class Kind { kValue, kPattern, kType, kProfile, kExists };
  Kind kind = Kind::kValue;
  std::string path;  ///< relative FHIRPath: "$this", "code", "coding.system", "url", ...
};

struct Slicing {
  std::vector<Discriminator> discriminators;
  bool closed = false;
  bool ordered = false;
};

struct ElementNode {
  std::string id;          ///< ElementDefinition.id ("Observation.code.coding:BPCode")
  std::string path;        ///< ElementDefinition.path ("Observation.code.coding")
  std::string name;        ///< the JSON name; a choice element's name without "[x]"
  std::string slice_name;  ///< set on a slice
  bool choice = false;     ///< name ends in [x]
  bool is_array = false;   ///< the base definition repeats (JSON array), FHIR R4 §2.6.2
  std::uint32_t min = 0;
  std::uint32_t max = kUnbounded;
  std::vector<TypeRef> types;
  const rapidjson::Value* fixed = nullptr;    ///< fixed[x] value, if any
  const rapidjson::Value* pattern = nullptr;  ///< pattern[x] value, if any
  const rapidjson::Value* min_value = nullptr;
  const rapidjson::Value* max_value = nullptr;
  std::string fixed_name;  ///< "fixedUri", "patternCodeableConcept", ... for messages
  std::uint32_t max_length = 0;
  std::uint32_t min_length = 0;  ///< extension minLength (FHIR R4 extension registry)
  std::vector<const CodeSet*> additional_required;  ///< required additional bindings (R5 ext)
  bool must_have_value = false;
  std::vector<std::string> value_alternatives;  ///< extensions allowed instead of a value (R5 ext)
  BindingStrength binding = BindingStrength::kNone;
  std::string value_set;              ///< binding.valueSet
  const CodeSet* codes = nullptr;     ///< the bound ValueSet's codes, when known
  std::vector<Invariant> invariants;  ///< except ele-1 / ext-1, which are built in
  std::unique_ptr<Slicing> slicing;
  std::vector<const ElementNode*> slices;
  std::vector<const ElementNode*> children;
  const ElementNode* content_ref = nullptr;  ///< contentReference target
  const Structure* owner = nullptr;
  /// Children() that are not choices, by JSON name: the name's length and first 8 bytes, so a
  /// lookup is a short linear scan of 16-byte entries (faster than hashing for ~10-50 names).
  struct NameKey {
    std::uint64_t head;
    std::uint32_t length;
    std::uint32_t index;
  };
  std::vector<NameKey> child_index;
  std::vector<std::uint32_t> choice_children;  ///< positions of the [x] children
  /// On a slice: for each discriminator of the sliced element, the node that holds the value
  /// (Descend along the discriminator path, then into slices when that has no fixed/pattern).
  std::vector<const ElementNode*> discriminator_nodes;

  /// The TypeRef for a type code, or null.
  const TypeRef* FindType(std::string_view code) const;
  /// The child definition for a JSON member name; `type` gets the choice type's code ("" else).
  const ElementNode* FindChild(std::string_view json_name, std::string_view& type) const;
  /// The children that apply (content reference or own).
  const std::vector<const ElementNode*>& Children() const {
    return content_ref ? content_ref->children : children;
  }
  /// The node whose children (and child index) apply.
  const ElementNode& ChildOwner() const { return content_ref ? *content_ref : *this; }
  /// The position in Children() of the child for a JSON member name and, for a choice, its
  /// type; Children().size() when there is none.
  std::uint32_t Lookup(std::string_view json_name, const TypeRef*& type) const;
};

/// The first (up to) 8 bytes of a name as an integer, zero-padded.
inline std::uint64_t NameHead(std::string_view name) {
  std::uint64_t head = 0;
  std::memcpy(&head, name.data(), name.size() < 8 ? name.size() : 8);
  return head;
}

/// A compiled StructureDefinition.
struct Structure {
  std::string url;
  std::string version;
  std::string name;
  std::string type;         ///< the type or resource it constrains
  std::string kind;         ///< primitive-type | complex-type | resource | logical
  bool is_profile = false;  ///< derivation = constraint
  bool is_extension = false;
  std::vector<std::string> contexts;  ///< extension contexts (element paths / type names)
  const rapidjson::Value* definition = nullptr;
  std::deque<ElementNode> nodes;
  const ElementNode* root = nullptr;

  /// "url|version" when a version is set.
  std::string Canonical() const { return version.empty() ? url : url + "|" + version; }
};

/// Compiles one StructureDefinition (which must have a snapshot). Bindings are resolved against
/// `defs`.
Result<std::unique_ptr<Structure>> CompileStructure(const rapidjson::Value& sd,
                                                    const Definitions& defs);

/// The definition at a relative path ("code.coding.code") below `node`; with `into_slices`, a
/// sliced element on the way is replaced by its first slice. Null when there is none.
const ElementNode* Descend(const ElementNode& node, std::string_view path,
                           bool into_slices = false);

/// Resolves every TypeRef of `s` to the base definitions in `types` (type code -> Structure).
void LinkTypes(Structure& s,
               const std::unordered_map<std::string, std::unique_ptr<Structure>>& types,
               const Definitions& defs);

/// True for FHIR primitive type codes ("string", "dateTime", ...): lower-case first letter.
inline bool IsPrimitiveType(std::string_view code) {
  return !code.empty() && code[0] >= 'a' && code[0] <= 'z';
}

}  // namespace fhirbridge::validator
