// libFuzzer target for the UCUM parser and converter: any bytes must give a Status, never a
// crash, hang or sanitizer report, and a unit that validates must also yield a display name.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fhir-profiles/ucum/ucum.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& ucum = fhirbridge::ucum::UnitSystem::Embedded();
  std::string_view unit(reinterpret_cast<const char*>(data), size);
  bool valid = ucum.Validate(unit).ok();
  if (valid != ucum.DisplayName(unit).ok()) std::abort();
  (void)ucum.ToCanonical(1.5, unit);
  (void)ucum.Convert(2, unit, "m");
  (void)ucum.Convert(2, "Cel", unit);
  return 0;
}
