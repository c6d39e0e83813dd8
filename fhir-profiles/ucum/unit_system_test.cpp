#include <boost/test/unit_test.hpp>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "essence_table.h"
#include "ucum.h"

namespace fhirbridge::ucum {
namespace {

const UnitSystem& Ucum() { return UnitSystem::Embedded(); }

double ConvertOk(double value, std::string_view from, std::string_view to) {
  Result<double> r = Ucum().Convert(value, from, to);
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  return *r;
}

bool Near(double a, double b, double rel = 1e-12) {
  return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b));
}

BOOST_AUTO_TEST_SUITE(ucum_unit_system)

BOOST_AUTO_TEST_CASE(validate_reports_invalid_units_with_position) {
  BOOST_TEST(Ucum().Validate("mmol/L").ok());
  BOOST_TEST(Ucum().Validate("10*9/L").ok());
  Status bad = Ucum().Validate("mmol/12h");
  BOOST_TEST(bad.IsInvalidArgument());
  BOOST_TEST(bad.message().find("position 5") != std::string::npos);
  // Cached results are the same results.
  BOOST_TEST(Ucum().Validate("mmol/12h").message() == bad.message());
}

BOOST_AUTO_TEST_CASE(ratio_conversions_use_essence_definitions) {
  BOOST_TEST(Near(ConvertOk(6.3, "mm", "m"), 0.0063));
  BOOST_TEST(Near(ConvertOk(1, "[in_i]", "cm"), 2.54));  // essence: [in_i] = 2.54 cm
  BOOST_TEST(Near(ConvertOk(1, "[lb_av]", "g"), 453.59237));
  BOOST_TEST(Near(ConvertOk(1, "h", "s"), 3600));
  BOOST_TEST(Near(ConvertOk(120, "mm[Hg]", "kPa"), 120 * 0.133322));
  BOOST_TEST(Near(ConvertOk(1, "L", "dm3"), 1));
  BOOST_TEST(Near(ConvertOk(6.3, "s/m.mg", "s.m-1.g"), 0.0063));
  BOOST_TEST(Near(ConvertOk(1, "kg.m/s2", "N"), 1));
  BOOST_TEST(Near(ConvertOk(1, "%", "1"), 0.01));
  BOOST_TEST(Near(ConvertOk(5, "mg{creat}/dL", "g/L"), 0.05));  // annotations do not count
}

BOOST_AUTO_TEST_CASE(prefixed_special_units_scale_the_reading) {
  // 20 dB[SPL] = 2 B[SPL]: p = 2e-5 Pa * 10^(2/2).
  BOOST_TEST(Near(ConvertOk(20, "dB[SPL]", "Pa"), 2e-4));
  BOOST_TEST(Near(ConvertOk(2e-4, "Pa", "dB[SPL]"), 20));
  BOOST_TEST(Near(ConvertOk(0, "B[SPL]", "Pa"), 2e-5));
}

BOOST_AUTO_TEST_CASE(temperatures_convert_through_their_offsets) {
  BOOST_TEST(Near(ConvertOk(37, "Cel", "K"), 310.15));
  BOOST_TEST(Near(ConvertOk(310.15, "K", "Cel"), 37, 1e-12));
  BOOST_TEST(Near(ConvertOk(37, "Cel", "[degF]"), 98.6, 1e-12));
  BOOST_TEST(Near(ConvertOk(98.6, "[degF]", "Cel"), 37, 1e-12));
  BOOST_TEST(Near(ConvertOk(-40, "[degF]", "Cel"), -40, 1e-12));
  BOOST_TEST(Near(ConvertOk(80, "[degRe]", "Cel"), 100, 1e-12));
  BOOST_TEST(std::fabs(ConvertOk(491.67, "[degR]", "Cel")) < 1e-9);
  Result<Canonical> c = Ucum().ToCanonical(37, "Cel");
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(Near(c->value, 310.15));
  BOOST_TEST(c->dimension_key == "K");
}

BOOST_AUTO_TEST_CASE(logarithmic_and_other_special_units) {
  BOOST_TEST(Near(ConvertOk(7, "[pH]", "mol/L"), 1e-7));
  BOOST_TEST(Near(ConvertOk(1e-7, "mol/L", "[pH]"), 7));
  BOOST_TEST(Near(ConvertOk(100, "[p'diop]", "deg"), 45));
  BOOST_TEST(Near(ConvertOk(100, "%[slope]", "deg"), 45));
  BOOST_TEST(Near(ConvertOk(1, "Np", "1"), std::exp(1.0)));
  BOOST_TEST(Near(ConvertOk(3, "bit_s", "1"), 8));
}

BOOST_AUTO_TEST_CASE(special_units_inside_expressions_are_valid_but_not_convertible) {
  BOOST_TEST(Ucum().Validate("Cel/h").ok());
  Result<double> r = Ucum().Convert(1, "Cel/h", "K/h");
  BOOST_TEST(r.status().IsInvalidArgument());
  BOOST_TEST(r.status().message().find("special unit 'Cel'") != std::string::npos);
  BOOST_TEST(!Ucum().ToCanonical(1, "Cel2").ok());
  BOOST_TEST(!Ucum().Commensurable("Cel/h", "K/h").value());
}

BOOST_AUTO_TEST_CASE(arbitrary_units_convert_only_to_themselves) {
  BOOST_TEST(Near(ConvertOk(5, "[iU]/mL", "[iU]/L"), 5000));
  BOOST_TEST(Near(ConvertOk(5, "m[IU]", "[iU]"), 0.005));  // [IU] is defined as [iU]
  BOOST_TEST(!Ucum().Convert(1, "[iU]", "1").ok());
  BOOST_TEST(!Ucum().Convert(1, "[arb'U]", "[iU]").ok());
  BOOST_TEST(!Ucum().Convert(1, "[CFU]", "1").ok());
  BOOST_TEST(Ucum().Commensurable("[iU]/L", "m[iU]/mL").value());
  BOOST_TEST(!Ucum().Commensurable("[iU]/L", "/L").value());
}

BOOST_AUTO_TEST_CASE(incommensurable_units_are_refused_with_their_dimensions) {
  Result<double> r = Ucum().Convert(1, "kg", "m");
  BOOST_TEST(r.status().IsInvalidArgument());
  BOOST_TEST(r.status().message() == "'kg' [g] cannot be converted to 'm' [m]");
  Result<double> bad = Ucum().Convert(1, "kg", "molv");
  BOOST_TEST(bad.status().message().find("unit 'molv'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(canonical_keys_identify_dimensions) {
  Result<Canonical> n = Ucum().ToCanonical(2, "N");
  Result<Canonical> same = Ucum().ToCanonical(2000, "g.m/s2");
  BOOST_REQUIRE(n.ok());
  BOOST_REQUIRE(same.ok());
  BOOST_TEST(n->dimension_key == same->dimension_key);
  BOOST_TEST(Near(n->value, same->value));
  BOOST_TEST(Ucum().ToCanonical(1, "mg/mg").value().dimension_key == "");
  BOOST_TEST(Ucum().ToCanonical(1, "").value().dimension_key == "");
  BOOST_TEST(Ucum().ToCanonical(1, "[ft_i]").value().dimension_key == "m");
}

// Every non-special, non-arbitrary atom equals its definition (value × unit) in base units, and
// every metric atom takes a prefix while no other does (UCUM §15).
BOOST_AUTO_TEST_CASE(every_atom_resolves_to_its_definition) {
  EssenceTable table = EssenceTable::Parse(EssenceTable::EmbeddedText()).value();
  for (const Atom& atom : table.atoms()) {
    BOOST_TEST_CONTEXT(atom.code) {
      BOOST_TEST(Ucum().Validate(atom.code).ok());
      BOOST_TEST(Ucum().Validate("k" + atom.code).ok() == atom.metric);
      if (atom.base || atom.special || atom.arbitrary) continue;
      Result<Canonical> self = Ucum().ToCanonical(1, atom.code);
      Result<Canonical> def = Ucum().ToCanonical(atom.value, atom.unit);
      BOOST_REQUIRE(self.ok());
      BOOST_REQUIRE(def.ok());
      BOOST_TEST(Near(self->value, def->value));
      BOOST_TEST(self->dimension_key == def->dimension_key);
    }
  }
}

BOOST_AUTO_TEST_CASE(display_names) {
  BOOST_TEST(Ucum().DisplayName("mm").value() == "(millimeter)");
  BOOST_TEST(Ucum().DisplayName("/m2").value() == "1 / (meter ^ 2)");
  BOOST_TEST(Ucum().DisplayName("kg{body_wt}").value() == "(kilogram) {body_wt}");
  BOOST_TEST(Ucum().DisplayName("").value() == "(unity)");
  BOOST_TEST(!Ucum().DisplayName("m/").ok());
}

BOOST_AUTO_TEST_CASE(length_limit_applies_to_every_entry_point) {
  std::string too_long(UnitSystem::kMaxUnitLength + 1, 'm');
  BOOST_TEST(Ucum().Validate(too_long).message().find("longer than") != std::string::npos);
  BOOST_TEST(!Ucum().Convert(1, too_long, "m").ok());
  BOOST_TEST(!Ucum().DisplayName(too_long).ok());
}

BOOST_AUTO_TEST_CASE(results_out_of_range_are_errors) {
  BOOST_TEST(Ucum().Validate("10*99.10*99.10*99.10*99").ok());
  BOOST_TEST(!Ucum().ToCanonical(1, "10*99.10*99.10*99.10*99").ok());
  BOOST_TEST(!Ucum().Convert(0, "1", "[pH]").ok());  // -lg(0)
}

// More distinct units than the cache holds, from several threads: every answer stays right.
BOOST_AUTO_TEST_CASE(cache_is_bounded_and_thread_safe) {
  constexpr int kThreads = 4;
  constexpr int per_thread = static_cast<int>(UnitSystem::kCacheCapacity) / 2 + 100;
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < per_thread; ++i) {
        std::string valid = "mg{" + std::to_string(t) + "_" + std::to_string(i) + "}/dL";
        std::string invalid = "mg/" + std::to_string(i) + "h";
        Result<double> v = Ucum().Convert(1, valid, "g/L");
        if (!v.ok() || std::fabs(*v - 0.01) > 1e-15) ++wrong[t];
        if (Ucum().Validate(invalid).ok()) ++wrong[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) BOOST_TEST(wrong[t] == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::ucum
