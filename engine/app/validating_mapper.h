#pragma once

// Every resource a mapper produces is validated against FHIR R4 and its declared profiles before
// it is routed (issue 7, "In the pipeline"). A per-source policy decides what an error does:
// enforce → the message is dead-lettered with the OperationOutcome; warn → it is delivered and
// the issues are kept with it.

#include <memory>

#include "fhir-profiles/validator/validator.h"
#include "fhirbridge/mapper.h"

namespace fhirbridge::app {

enum class ValidationPolicy { kEnforce, kWarn };

class ValidatingMapper final : public Mapper {
 public:
  /// `validator` is shared by every source and must outlive this mapper.
  ValidatingMapper(std::shared_ptr<const Mapper> inner,
                   std::shared_ptr<const validator::Validator> validator, ValidationPolicy policy);

  MapOutput Map(std::string_view raw) const override;

 private:
  std::shared_ptr<const Mapper> inner_;
  std::shared_ptr<const validator::Validator> validator_;
  ValidationPolicy policy_;
};

}  // namespace fhirbridge::app
