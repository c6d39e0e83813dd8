#pragma once

// The conversion functions of UCUM's special (non-ratio) units, UCUM §21 and the <function>
// elements of UCUM essence: a reading on the special scale (e.g. 37 Cel) maps to a magnitude
// of the function's scale unit (310.15 K), and back.

#include <string_view>

namespace fhirbridge::ucum {

/// One named function of UCUM essence (e.g. "Cel", "lgTimes2").
struct SpecialFunction {
  std::string_view name;
  double (*to_ratio)(double);    ///< special-scale reading -> multiple of the scale unit
  double (*from_ratio)(double);  ///< multiple of the scale unit -> special-scale reading
};

/// The function with this essence name, or null when there is none.
const SpecialFunction* FindSpecialFunction(std::string_view name);

}  // namespace fhirbridge::ucum
