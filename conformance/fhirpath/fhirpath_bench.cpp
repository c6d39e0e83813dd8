// fhirpath_bench [--seconds S] [--quick]
//
// Prints evaluations per second, one thread, of FHIR R4 invariants (obs-6, obs-7, vs-2, ele-1)
// parsed once and evaluated again and again on parsed Observations (a blood pressure with two
// components and no value, a heart rate with a value and no components, and an Apgar score with
// a value and five components: obs-7 then compares every component code with the main code). The
// figures are printed, never asserted; --quick runs a short pass so the benchmark keeps working in
// the test suite.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fhir-profiles/fhirpath/expression.h"

namespace {

using fhirbridge::fhirpath::Expression;
using fhirbridge::fhirpath::Subject;

struct Invariant {
  const char* key;
  const char* expression;  // FHIR R4 (observation.profile.json, vitalsigns.profile.json)
};

constexpr Invariant kInvariants[] = {
    {"obs-6", "dataAbsentReason.empty() or value.empty()"},
    {"obs-7",
     "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists())"
     ".empty()"},
    {"vs-2",
     "(component.empty() and hasMember.empty()) implies (dataAbsentReason.exists() or "
     "value.exists())"},
    {"ele-1", "hasValue() or (children().count() > id.count())"},
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      seconds = 0.05;
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: fhirpath_bench [--seconds S] [--quick]\n");
      return 2;
    }
  }
  const std::string dir = std::string(FHIRBRIDGE_SHARED_DIR) + "/data/fhir/examples-r4/";
  for (const char* file : {"Observation-blood-pressure.json", "Observation-heart-rate.json",
                           "Observation-1minute-apgar-score.json"}) {
    rapidjson::Document doc;
    fhirbridge::Status loaded = fhirbridge::fhirpath::ParseFhirJson(ReadFile(dir + file), doc);
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s: %s\n", file, loaded.message().c_str());
      return 1;
    }
    const Subject subject(&doc);
    for (const Invariant& inv : kInvariants) {
      auto e = Expression::Parse(inv.expression);
      if (!e.ok()) {
        std::fprintf(stderr, "%s: %s\n", inv.key, e.status().message().c_str());
        return 1;
      }
      auto check = e->EvaluateBoolean(subject, true);
      if (!check.ok()) {
        std::fprintf(stderr, "%s: %s\n", inv.key, check.status().message().c_str());
        return 1;
      }
      long long n = 0;
      const auto start = std::chrono::steady_clock::now();
      double elapsed = 0;
      bool all_true = true;
      do {
        for (int k = 0; k < 1000; ++k) all_true = all_true && *e->EvaluateBoolean(subject, true);
        n += 1000;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } while (elapsed < seconds);
      std::printf("%-34s %-6s %s  %10.0f evaluations/s\n", file, inv.key,
                  all_true ? "true " : "false", n / elapsed);
    }
  }
  return 0;
}
