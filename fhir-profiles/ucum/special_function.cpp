#include "special_function.h"

#include <cmath>
#include <iterator>
#include <numbers>

namespace fhirbridge::ucum {
namespace {

constexpr double kDegreesPerRadian = 180.0 / std::numbers::pi;

// Each table row: the scale it reads and the magnitude in the function's unit. Offsets are exact
// decimal facts: 0 Cel = 273.15 K; 0 degF = 459.67 (5 K/9); 0 degRe = 218.52 (5 K/4).
const SpecialFunction kFunctions[] = {
    {"Cel", [](double x) { return x + 273.15; }, [](double y) { return y - 273.15; }},
    {"degF", [](double x) { return x + 459.67; }, [](double y) { return y - 459.67; }},
    {"degRe", [](double x) { return x + 218.52; }, [](double y) { return y - 218.52; }},
    // pH = -lg(c / (mol/l)).
    {"pH", [](double x) { return std::pow(10.0, -x); }, [](double y) { return -std::log10(y); }},
    // Levels: neper (ln), bel (lg), bel of a field quantity (2 lg), bit (ld).
    {"ln", [](double x) { return std::exp(x); }, [](double y) { return std::log(y); }},
    {"lg", [](double x) { return std::pow(10.0, x); }, [](double y) { return std::log10(y); }},
    {"lgTimes2", [](double x) { return std::pow(10.0, x / 2); },
     [](double y) { return 2 * std::log10(y); }},
    {"ld", [](double x) { return std::exp2(x); }, [](double y) { return std::log2(y); }},
    // Prism diopter: x = 100 tan(angle), scale unit rad.
    {"tanTimes100", [](double x) { return std::atan(x / 100); },
     [](double y) { return 100 * std::tan(y); }},
    // Percent of slope: x = 100 tan(angle); essence gives the scale in deg, so the angle is
    // expressed in degrees (atan yields radians).
    {"100tan", [](double x) { return std::atan(x / 100) * kDegreesPerRadian; },
     [](double y) { return 100 * std::tan(y / kDegreesPerRadian); }},
    // Homeopathic potencies: the dilution is 10^-x (X), 100^-x (C), 1000^-x (M), 50000^-x (Q).
    {"hpX", [](double x) { return std::pow(10.0, -x); }, [](double y) { return -std::log10(y); }},
    {"hpC", [](double x) { return std::pow(100.0, -x); },
     [](double y) { return -std::log(y) / std::log(100.0); }},
    {"hpM", [](double x) { return std::pow(1000.0, -x); },
     [](double y) { return -std::log(y) / std::log(1000.0); }},
    {"hpQ", [](double x) { return std::pow(50000.0, -x); },
     [](double y) { return -std::log(y) / std::log(50000.0); }},
    // Amplitude spectral density in m/s2/Hz^(1/2): the square is a power density (m2/s4/Hz).
    {"sqrt", [](double x) { return x * x; }, [](double y) { return std::sqrt(y); }},
};

}  // namespace

const SpecialFunction* FindSpecialFunction(std::string_view name) {
  for (const SpecialFunction& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace fhirbridge::ucum
