#include "fhir-profiles/validator/fhirpath_invariants.h"

#include <mutex>

#include "fhir-profiles/fhirpath/expression.h"

namespace fhirbridge::validator {

FhirPathInvariants::FhirPathInvariants() = default;
FhirPathInvariants::~FhirPathInvariants() = default;

const FhirPathInvariants& FhirPathInvariants::Shared() {
  static const FhirPathInvariants engine;
  return engine;
}

Result<std::shared_ptr<const fhirpath::Expression>> FhirPathInvariants::Parsed(
    const std::string& text) const {
  {
    std::shared_lock lock(mutex_);
    auto it = parsed_.find(text);
    if (it != parsed_.end()) return it->second;
    auto bad = failed_.find(text);
    if (bad != failed_.end()) return Status::InvalidArgument(bad->second);
  }
  Result<fhirpath::Expression> e = fhirpath::Expression::Parse(text);
  std::unique_lock lock(mutex_);
  if (!e.ok()) {
    failed_[text] = e.status().message();
    return e.status();
  }
  auto shared = std::make_shared<const fhirpath::Expression>(std::move(*e));
  parsed_[text] = shared;
  return shared;
}

Result<bool> FhirPathInvariants::Holds(const Invariant& invariant, const rapidjson::Value& node,
                                       std::string_view node_type, const rapidjson::Value& resource,
                                       const rapidjson::Value& root) const {
  Result<std::shared_ptr<const fhirpath::Expression>> e = Parsed(invariant.expression);
  if (!e.ok()) return e.status();
  fhirpath::Subject subject(&resource);
  subject.context = &node;
  subject.context_type = node_type;
  subject.root_resource = &root;
  // An invariant whose expression yields nothing holds (FHIR R4 §2.11.0.5 conventions).
  return (*e)->EvaluateBoolean(subject, true);
}

}  // namespace fhirbridge::validator
