#include "fhir-profiles/fhirpath/quantity.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#ifdef FHIRBRIDGE_FHIRPATH_HAVE_UCUM
#include "fhir-profiles/ucum/ucum.h"
#endif

namespace fhirbridge::fhirpath {

namespace {

// Exponents of the UCUM base units m, g, s, mol, K, A, cd.
using Dimension = std::array<int, 7>;

struct Atom {
  double factor;
  Dimension dim;
};

// Factors from UCUM (ucum.org/ucum) §30-§44 for the units FHIR resources mostly carry.
const std::unordered_map<std::string_view, Atom>& Atoms() {
  static const std::unordered_map<std::string_view, Atom> kAtoms = {
      {"m", {1, {1, 0, 0, 0, 0, 0, 0}}},
      {"g", {1, {0, 1, 0, 0, 0, 0, 0}}},
      {"s", {1, {0, 0, 1, 0, 0, 0, 0}}},
      {"mol", {1, {0, 0, 0, 1, 0, 0, 0}}},
      {"K", {1, {0, 0, 0, 0, 1, 0, 0}}},
      {"A", {1, {0, 0, -1, 0, 0, 1, 0}}},
      {"L", {0.001, {3, 0, 0, 0, 0, 0, 0}}},
      {"l", {0.001, {3, 0, 0, 0, 0, 0, 0}}},
      {"min", {60, {0, 0, 1, 0, 0, 0, 0}}},
      {"h", {3600, {0, 0, 1, 0, 0, 0, 0}}},
      {"d", {86400, {0, 0, 1, 0, 0, 0, 0}}},
      {"wk", {604800, {0, 0, 1, 0, 0, 0, 0}}},
      {"mo", {2629800, {0, 0, 1, 0, 0, 0, 0}}},
      {"a", {31557600, {0, 0, 1, 0, 0, 0, 0}}},
      {"[lb_av]", {453.59237, {0, 1, 0, 0, 0, 0, 0}}},
      {"[oz_av]", {28.349523125, {0, 1, 0, 0, 0, 0, 0}}},
      {"[in_i]", {0.0254, {1, 0, 0, 0, 0, 0, 0}}},
      {"[ft_i]", {0.3048, {1, 0, 0, 0, 0, 0, 0}}},
      {"[mi_i]", {1609.344, {1, 0, 0, 0, 0, 0, 0}}},
      {"Pa", {1000, {-1, 1, -2, 0, 0, 0, 0}}},
      {"mm[Hg]", {133322.387415, {-1, 1, -2, 0, 0, 0, 0}}},
      {"%", {0.01, {0, 0, 0, 0, 0, 0, 0}}},
      {"1", {1, {0, 0, 0, 0, 0, 0, 0}}},
      {"/min", {1.0 / 60, {0, 0, -1, 0, 0, 0, 0}}},
      {"Cel", {1, {0, 0, 0, 0, 1, 0, 0}}},
  };
  return kAtoms;
}

double Prefix(char c) {
  switch (c) {
    case 'T':
      return 1e12;
    case 'G':
      return 1e9;
    case 'M':
      return 1e6;
    case 'k':
      return 1e3;
    case 'h':
      return 1e2;
    case 'd':
      return 1e-1;
    case 'c':
      return 1e-2;
    case 'm':
      return 1e-3;
    case 'u':
      return 1e-6;
    case 'n':
      return 1e-9;
    case 'p':
      return 1e-12;
    default:
      return 0;
  }
}

// atom | prefix atom, with an optional integer exponent ("m2", "s-1").
std::optional<Atom> Component(std::string_view text) {
  size_t end = text.size();
  while (end > 0 && (std::isdigit(static_cast<unsigned char>(text[end - 1])) != 0)) --end;
  if (end > 0 && end < text.size() && (text[end - 1] == '-' || text[end - 1] == '+')) --end;
  int exponent = end < text.size() ? std::atoi(std::string(text.substr(end)).c_str()) : 1;
  if (end == 0) {
    // A plain number ("1", "10"): a dimensionless factor.
    double f = std::atof(std::string(text).c_str());
    if (f <= 0) return std::nullopt;
    return Atom{f, {}};
  }
  std::string_view name = text.substr(0, end);
  const auto& atoms = Atoms();
  std::optional<Atom> atom;
  if (auto it = atoms.find(name); it != atoms.end()) {
    atom = it->second;
  } else if (name.size() > 1 && Prefix(name[0]) != 0) {
    auto base = atoms.find(name.substr(1));
    if (base == atoms.end() || base->first == "1" || base->first == "%") return std::nullopt;
    atom = Atom{base->second.factor * Prefix(name[0]), base->second.dim};
  } else {
    return std::nullopt;
  }
  Atom result{std::pow(atom->factor, exponent), {}};
  for (size_t i = 0; i < result.dim.size(); ++i) result.dim[i] = atom->dim[i] * exponent;
  return result;
}

class BuiltinCatalog : public UnitCatalog {
 public:
  std::optional<CanonicalValue> ToCanonical(double value, std::string_view unit) const override {
    if (unit.empty()) return std::nullopt;
    Atom total{1, {}};
    bool divide = false;
    size_t pos = 0;
    if (unit[0] == '/') {
      divide = true;
      pos = 1;
    }
    while (pos <= unit.size()) {
      size_t next = unit.find_first_of("./", pos);
      std::string_view part =
          unit.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
      std::optional<Atom> c = Component(part);
      if (!c) return std::nullopt;
      total.factor = divide ? total.factor / c->factor : total.factor * c->factor;
      for (size_t i = 0; i < total.dim.size(); ++i) total.dim[i] += divide ? -c->dim[i] : c->dim[i];
      if (next == std::string_view::npos) break;
      divide = unit[next] == '/';
      pos = next + 1;
    }
    CanonicalValue out{value * total.factor, {}};
    static constexpr const char* kBase[] = {"m", "g", "s", "mol", "K", "A", "cd"};
    for (size_t i = 0; i < total.dim.size(); ++i) {
      if (total.dim[i] == 0) continue;
      if (!out.dimension.empty()) out.dimension += '.';
      out.dimension += kBase[i] + std::to_string(total.dim[i]);
    }
    return out;
  }
};

#ifdef FHIRBRIDGE_FHIRPATH_HAVE_UCUM
class UcumCatalog : public UnitCatalog {
 public:
  std::optional<CanonicalValue> ToCanonical(double value, std::string_view unit) const override {
    Result<ucum::Canonical> c = ucum::UnitSystem::Embedded().ToCanonical(value, unit);
    if (!c.ok()) return std::nullopt;
    return CanonicalValue{c->value, c->dimension_key};
  }
};
#endif

// The UCUM code of a calendar keyword that is a definite duration (N1 §Time-valued quantities:
// week, day, hour, minute, second, millisecond equal their UCUM units; year and month do not).
std::string_view UcumOfKeyword(std::string_view unit) {
  if (!unit.empty() && unit.back() == 's') unit.remove_suffix(1);
  if (unit == "week") return "wk";
  if (unit == "day") return "d";
  if (unit == "hour") return "h";
  if (unit == "minute") return "min";
  if (unit == "second") return "s";
  if (unit == "millisecond") return "ms";
  if (unit == "year") return "year";
  if (unit == "month") return "month";
  return unit;
}

std::string_view EffectiveUnit(const Quantity& q) {
  return q.calendar_keyword ? UcumOfKeyword(q.unit) : std::string_view(q.unit);
}

bool NearlyEqual(double a, double b) {
  return std::fabs(a - b) <= 1e-12 * std::max(std::fabs(a), std::fabs(b));
}

// b's value expressed in a's unit, and the number of digits after the point b's precision has
// in that unit (4040 'mg' is 4.040 'g': 3 digits); nullopt when not commensurable.
std::optional<std::pair<Decimal, int>> ValueInUnitOf(const Quantity& a, const Quantity& b) {
  std::string_view ua = EffectiveUnit(a);
  std::string_view ub = EffectiveUnit(b);
  if (ua == ub) return std::make_pair(b.value, b.value.scale());
  if (ua == "year" || ua == "month" || ub == "year" || ub == "month") return std::nullopt;
  const UnitCatalog& catalog = DefaultUnitCatalog();
  auto ca = catalog.ToCanonical(1, ua);
  auto cb = catalog.ToCanonical(1, ub);
  if (!ca || !cb || ca->dimension != cb->dimension || ca->value == 0 || cb->value == 0) {
    return std::nullopt;
  }
  const double ratio = cb->value / ca->value;
  std::optional<Decimal> v = Decimal::FromDouble(b.value.ToDouble() * ratio);
  if (!v) return std::nullopt;
  const int shift = static_cast<int>(std::lround(-std::log10(ratio)));
  return std::make_pair(*v, std::max(0, b.value.scale() + shift));
}

}  // namespace

const UnitCatalog& BuiltinUnitCatalog() {
  static const BuiltinCatalog catalog;
  return catalog;
}

const UnitCatalog& DefaultUnitCatalog() {
#ifdef FHIRBRIDGE_FHIRPATH_HAVE_UCUM
  static const UcumCatalog catalog;
  return catalog;
#else
  return BuiltinUnitCatalog();
#endif
}

std::optional<int> CompareQuantities(const Quantity& a, const Quantity& b) {
  std::string_view ua = EffectiveUnit(a);
  std::string_view ub = EffectiveUnit(b);
  if (ua == ub) return a.value.Compare(b.value);
  if (ua == "year" || ua == "month" || ub == "year" || ub == "month") return std::nullopt;
  const UnitCatalog& catalog = DefaultUnitCatalog();
  auto ca = catalog.ToCanonical(a.value.ToDouble(), ua);
  auto cb = catalog.ToCanonical(b.value.ToDouble(), ub);
  if (!ca || !cb || ca->dimension != cb->dimension) return std::nullopt;
  if (NearlyEqual(ca->value, cb->value)) return 0;
  return ca->value < cb->value ? -1 : 1;
}

bool QuantitiesEquivalent(const Quantity& a, const Quantity& b) {
  auto bv = ValueInUnitOf(a, b);
  if (!bv) return false;
  int scale = std::min(a.value.scale(), bv->second);
  auto round = [scale](const Decimal& d) {
    return d.Rescale(scale, Decimal::Rounding::kHalfAwayFromZero);
  };
  return round(a.value).Compare(round(bv->first)) == 0;
}

bool QuantitiesComparable(const Quantity& a, const Quantity& b) {
  std::string_view ua = EffectiveUnit(a);
  std::string_view ub = EffectiveUnit(b);
  if (ua == ub) return true;
  const UnitCatalog& catalog = DefaultUnitCatalog();
  auto ca = catalog.ToCanonical(1, ua);
  auto cb = catalog.ToCanonical(1, ub);
  return ca && cb && ca->dimension == cb->dimension;
}

std::optional<Quantity> MultiplyQuantities(const Quantity& a, const Quantity& b, bool divide) {
  std::optional<Decimal> v = divide ? a.value.Divide(b.value) : a.value.Multiply(b.value);
  if (!v) return std::nullopt;
  std::string_view ua = EffectiveUnit(a);
  std::string_view ub = EffectiveUnit(b);
  Quantity q;
  q.value = *v;
  if (ub == "1") {
    q.unit = std::string(ua);
  } else if (ua == "1") {
    q.unit = divide ? "/" + std::string(ub) : std::string(ub);
  } else if (divide && ua == ub) {
    q.unit = "1";
  } else {
    q.unit = std::string(ua) + (divide ? "/" : ".") + std::string(ub);
  }
  return q;
}

std::optional<Quantity> AddQuantities(const Quantity& a, const Quantity& b, bool subtract) {
  auto bv = ValueInUnitOf(a, b);
  if (!bv) return std::nullopt;
  std::optional<Decimal> v = subtract ? a.value.Subtract(bv->first) : a.value.Add(bv->first);
  if (!v) return std::nullopt;
  Quantity q = a;
  q.value = *v;
  return q;
}

std::optional<Quantity> ParseQuantity(std::string_view text) {
  size_t space = text.find(' ');
  std::string_view number = text.substr(0, space);
  std::optional<Decimal> value = Decimal::Parse(number);
  if (!value || number.empty() || number[0] == '+') return std::nullopt;
  Quantity q;
  q.value = *value;
  if (space == std::string_view::npos) {
    q.unit = "1";
    return q;
  }
  std::string_view unit = text.substr(space + 1);
  while (!unit.empty() && unit[0] == ' ') unit.remove_prefix(1);
  if (unit.size() >= 2 && unit.front() == '\'' && unit.back() == '\'') {
    q.unit = std::string(unit.substr(1, unit.size() - 2));
    return q;
  }
  static constexpr std::string_view kWords[] = {"year", "month",  "week",   "day",
                                                "hour", "minute", "second", "millisecond"};
  std::string_view singular = unit;
  if (!singular.empty() && singular.back() == 's') singular.remove_suffix(1);
  for (std::string_view w : kWords) {
    if (singular == w) {
      q.unit = std::string(unit);
      q.calendar_keyword = true;
      return q;
    }
  }
  return std::nullopt;
}

}  // namespace fhirbridge::fhirpath
