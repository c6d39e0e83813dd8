#pragma once

// The FHIR R4 type model FHIRPath needs: each type's base, kind and elements with their types,
// generated from the R4 StructureDefinitions by scripts/build-fhirpath-model.py into
// fhir_r4_model.txt and embedded into the binary.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fhirbridge::fhirpath {

struct TypeInfo;

/// One element of a FHIR type ("Observation.value[x]" is stored as `value`, a choice).
struct ElementInfo {
  std::string name;
  bool repeats = false;
  std::vector<const TypeInfo*> types;  ///< one, or every type of a choice element
  bool IsChoice() const { return types.size() > 1; }
};

/// A FHIR type: primitive (string, code...), complex (HumanName), resource (Patient), or a
/// backbone element named by its path (Patient.contact).
struct TypeInfo {
  enum class Kind { kPrimitive, kComplex, kResource, kBackbone };
  std::string name;        ///< "Patient", "code", "Patient.contact"
  std::string_view shown;  ///< the name FHIRPath reports: a backbone shows as BackboneElement
  Kind kind = Kind::kComplex;
  const TypeInfo* base = nullptr;
  /// The element by name, own or inherited (flattened at load time).
  std::unordered_map<std::string_view, const ElementInfo*> elements;

  bool IsPrimitive() const { return kind == Kind::kPrimitive; }
  bool IsResource() const { return kind == Kind::kResource; }
  /// True when this type is `other` or derives from it (code is a string, Age is a Quantity).
  bool IsA(const TypeInfo* other) const;
  const ElementInfo* Find(std::string_view element) const;
};

/// All FHIR R4 types. Built once from the embedded table; immutable and thread-safe after.
class Model {
 public:
  static const Model& R4();

  /// A type by name ("Patient", "string", "Questionnaire.item"); nullptr when unknown.
  const TypeInfo* Find(std::string_view name) const;

  /// Parses the generated table (exposed for tests).
  static std::unique_ptr<Model> FromText(std::string_view text);

 private:
  std::vector<std::unique_ptr<TypeInfo>> types_;
  std::vector<std::unique_ptr<ElementInfo>> elements_;
  std::unordered_map<std::string_view, const TypeInfo*> by_name_;
};

/// The JSON property name of a choice element's value of type `type` ("value" + "Quantity").
std::string ChoiceProperty(std::string_view base, std::string_view type);

}  // namespace fhirbridge::fhirpath
