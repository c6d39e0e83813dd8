#pragma once

// The InvariantEngine the validator uses: ElementDefinition.constraint expressions evaluated by
// the FHIRPath engine (fhir-profiles/fhirpath). Each expression is parsed once, on first use, and
// shared by every thread afterwards.

#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "fhir-profiles/validator/validator.h"

namespace fhirbridge::fhirpath {
class Expression;
}

namespace fhirbridge::validator {

class FhirPathInvariants : public InvariantEngine {
 public:
  FhirPathInvariants();
  ~FhirPathInvariants() override;

  Result<bool> Holds(const Invariant& invariant, const rapidjson::Value& node,
                     std::string_view node_type, const rapidjson::Value& resource,
                     const rapidjson::Value& root) const override;

  /// The engine shared by the whole process (stateless apart from its parse cache).
  static const FhirPathInvariants& Shared();

 private:
  Result<std::shared_ptr<const fhirpath::Expression>> Parsed(const std::string& text) const;

  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const fhirpath::Expression>> parsed_;
  mutable std::unordered_map<std::string, std::string> failed_;  // expression -> parse error
};

}  // namespace fhirbridge::validator
