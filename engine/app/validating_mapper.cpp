#include "engine/app/validating_mapper.h"

namespace fhirbridge::app {

ValidatingMapper::ValidatingMapper(std::shared_ptr<const Mapper> inner,
                                   std::shared_ptr<const validator::Validator> validator,
                                   ValidationPolicy policy)
    : inner_(std::move(inner)), validator_(std::move(validator)), policy_(policy) {}

MapOutput ValidatingMapper::Map(std::string_view raw) const {
  MapOutput out = inner_->Map(raw);
  if (out.result != MapOutput::Result::kMapped) return out;
  // The Bundle is validated entry by entry, with each resource's meta.profile and, for
  // vital-sign codes, the vital-signs profile (FHIR R4 §8.1.0.1).
  validator::Outcome outcome = validator_->ValidateJson(out.bundle, validator::ValidationOptions{});
  const bool errors = outcome.HasErrors();
  for (DataIssue& issue : outcome.issues) out.issues.push_back(std::move(issue));
  if (errors && policy_ == ValidationPolicy::kEnforce) {
    out.result = MapOutput::Result::kFailed;
    out.bundle.clear();
  }
  return out;
}

}  // namespace fhirbridge::app
