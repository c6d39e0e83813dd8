#include "conformance/ucum/functional_tests.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <pugixml.hpp>

namespace fhirbridge::conformance {
namespace {

const char* const kGroups[] = {"validation", "displayNameGeneration", "conversion",
                               "multiplication", "division"};

std::string Attr(const UcumCase& c, const std::string& name) {
  auto it = c.attributes.find(name);
  return it == c.attributes.end() ? std::string() : it->second;
}

bool ParseDouble(std::string_view text, double& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Digits after the decimal point, less the decimal exponent: "0.160" -> 3, "1.5e-18" -> 19,
// "6300000" -> 0.
int DecimalPlaces(std::string_view text) {
  std::size_t e = text.find_first_of("eE");
  std::string_view mantissa = text.substr(0, e);
  int places = 0;
  if (std::size_t dot = mantissa.find('.'); dot != std::string_view::npos) {
    places = static_cast<int>(mantissa.size() - dot - 1);
  }
  if (e != std::string_view::npos) {
    int exponent = 0;
    std::string_view digits = text.substr(e + 1);
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
    places -= exponent;
  }
  return places;
}

// An empty unit is unity; "()" would not parse.
std::string Grouped(const std::string& unit) { return "(" + (unit.empty() ? "1" : unit) + ")"; }

UcumCaseOutcome CompareValue(const ucum::UnitSystem& system, double value, const std::string& from,
                             const std::string& to, const std::string& expected) {
  Result<double> r = system.Convert(value, from, to);
  if (!r.ok()) return {false, "error: " + r.status().message()};
  bool passed = MatchesStatedPrecision(*r, expected);
  char got[64];
  std::snprintf(got, sizeof got, "%.17g", *r);
  return {passed, passed ? "" : "expected " + expected + ", got " + got};
}

UcumCaseOutcome RunValidation(const ucum::UnitSystem& system, const UcumCase& c) {
  Status s = system.Validate(Attr(c, "unit"));
  bool expected = Attr(c, "valid") == "true";
  if (s.ok() == expected) return {true, ""};
  return {false, expected ? "rejected: " + s.message()
                          : "accepted; expected invalid (" + Attr(c, "reason") + ")"};
}

UcumCaseOutcome RunDisplayName(const ucum::UnitSystem& system, const UcumCase& c) {
  Result<std::string> name = system.DisplayName(Attr(c, "unit"));
  if (!name.ok()) return {false, "error: " + name.status().message()};
  if (*name == Attr(c, "display")) return {true, ""};
  return {false, "expected \"" + Attr(c, "display") + "\", got \"" + *name + "\""};
}

UcumCaseOutcome RunArithmetic(const ucum::UnitSystem& system, const UcumCase& c, bool divide) {
  double v1 = 0, v2 = 0;
  if (!ParseDouble(Attr(c, "v1"), v1) || !ParseDouble(Attr(c, "v2"), v2)) {
    return {false, "bad value in the test file"};
  }
  // The product or quotient of the quantities, in the expression "(u1).(u2)" or "(u1)/(u2)",
  // must convert to the stated result.
  std::string unit = Grouped(Attr(c, "u1")) + (divide ? "/" : ".") + Grouped(Attr(c, "u2"));
  double value = divide ? v1 / v2 : v1 * v2;
  return CompareValue(system, value, unit, Attr(c, "uRes"), Attr(c, "vRes"));
}

}  // namespace

bool MatchesStatedPrecision(double actual, std::string_view expected) {
  double e = 0;
  if (!ParseDouble(expected, e) || !std::isfinite(actual)) return false;
  double half_unit = 0.5 * std::pow(10.0, -DecimalPlaces(expected));
  double tolerance = std::max(half_unit, 1e-12 * std::fabs(e));
  return std::fabs(actual - e) <= tolerance;
}

Result<std::vector<UcumCase>> LoadUcumFunctionalTests(const std::string& path) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_file(path.c_str());
  if (parsed.status == pugi::status_file_not_found) return Status::NotFound(path);
  if (!parsed) return Status::InvalidArgument(path + ": " + parsed.description());
  pugi::xml_node root = doc.child("ucumTests");
  if (!root) return Status::InvalidArgument(path + ": no <ucumTests> element");
  std::vector<UcumCase> cases;
  for (pugi::xml_node group : root.children()) {
    for (const char* known : kGroups) {
      if (std::string_view(group.name()) != known) continue;
      for (pugi::xml_node node : group.children("case")) {
        UcumCase c{known, node.attribute("id").value(), {}};
        for (pugi::xml_attribute a : node.attributes()) c.attributes[a.name()] = a.value();
        cases.push_back(std::move(c));
      }
    }
  }
  return cases;
}

UcumCaseOutcome RunUcumCase(const ucum::UnitSystem& system, const UcumCase& c) {
  if (c.group == "validation") return RunValidation(system, c);
  if (c.group == "displayNameGeneration") return RunDisplayName(system, c);
  if (c.group == "conversion") {
    double value = 0;
    if (!ParseDouble(Attr(c, "value"), value)) return {false, "bad value in the test file"};
    return CompareValue(system, value, Attr(c, "srcUnit"), Attr(c, "dstUnit"), Attr(c, "outcome"));
  }
  if (c.group == "multiplication") return RunArithmetic(system, c, false);
  if (c.group == "division") return RunArithmetic(system, c, true);
  return {false, "unknown group " + c.group};
}

std::vector<UcumGroupScore> ScoreByGroup(const std::vector<UcumCase>& cases,
                                         const std::vector<UcumCaseOutcome>& outcomes) {
  std::vector<UcumGroupScore> scores;
  for (std::size_t i = 0; i < cases.size() && i < outcomes.size(); ++i) {
    auto it = std::find_if(scores.begin(), scores.end(),
                           [&](const UcumGroupScore& s) { return s.group == cases[i].group; });
    if (it == scores.end()) it = scores.insert(scores.end(), UcumGroupScore{cases[i].group});
    ++it->total;
    if (outcomes[i].passed) ++it->passed;
  }
  return scores;
}

}  // namespace fhirbridge::conformance
