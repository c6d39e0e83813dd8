// Scores fhirbridge::ucum against the UCUM functional tests and enforces a ratchet.
//
//   ucum_conformance [--tests FILE] [--failures FILE] [--ratchet FILE] [--bench SECONDS]
//
// Prints passing cases per group and in total, writes each failing case with the reason to the
// failures file (default ucum-failures.txt), and exits 1 when a group passes fewer cases than
// the ratchet file records (conformance/ucum/ratchet.txt). --bench prints Validate and Convert
// throughput over the file's units (figures only; nothing is asserted).

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "conformance/ucum/functional_tests.h"
#include "fhir-profiles/ucum/essence_table.h"

namespace {

using fhirbridge::conformance::UcumCase;
using fhirbridge::conformance::UcumCaseOutcome;
using fhirbridge::conformance::UcumGroupScore;
using fhirbridge::ucum::UnitSystem;

struct Options {
  std::string tests =
      std::string(FHIRBRIDGE_SHARED_DIR) + "/data/fhir/ucum/UcumFunctionalTests.xml";
  std::string failures = "ucum-failures.txt";
  std::string ratchet;
  double bench_seconds = 0;
};

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    std::string value = argv[++i];
    if (arg == "--tests") {
      o.tests = value;
    } else if (arg == "--failures") {
      o.failures = value;
    } else if (arg == "--ratchet") {
      o.ratchet = value;
    } else if (arg == "--bench") {
      o.bench_seconds = std::stod(value);
    } else {
      return false;
    }
  }
  return true;
}

// "group count" lines; '#' starts a comment.
bool ReadRatchet(const std::string& path, std::map<std::string, int>& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t space = line.find(' ');
    if (space == std::string::npos) return false;
    out[line.substr(0, space)] = std::stoi(line.substr(space + 1));
  }
  return true;
}

void PrintScores(const std::vector<UcumGroupScore>& scores) {
  int passed = 0, total = 0;
  for (const UcumGroupScore& s : scores) {
    std::printf("  %-24s %4d / %4d  (%.1f%%)\n", s.group.c_str(), s.passed, s.total,
                100.0 * s.passed / s.total);
    passed += s.passed;
    total += s.total;
  }
  std::printf("  %-24s %4d / %4d  (%.1f%%)\n", "total", passed, total, 100.0 * passed / total);
}

// 1 when a group fell below its recorded count.
int CheckRatchet(const std::string& path, const std::vector<UcumGroupScore>& scores) {
  std::map<std::string, int> floor;
  if (!ReadRatchet(path, floor)) {
    std::fprintf(stderr, "cannot read ratchet file %s\n", path.c_str());
    return 1;
  }
  int rc = 0;
  for (const auto& [group, minimum] : floor) {
    int passed = 0;
    for (const UcumGroupScore& s : scores) {
      if (s.group == group) passed = s.passed;
    }
    if (passed < minimum) {
      std::printf("RATCHET FAILED: %s passes %d, the ratchet requires %d\n", group.c_str(), passed,
                  minimum);
      rc = 1;
    } else if (passed > minimum) {
      std::printf("ratchet: %s passes %d > %d: raise it in %s\n", group.c_str(), passed, minimum,
                  path.c_str());
    }
  }
  if (rc == 0) std::printf("ratchet: ok\n");
  return rc;
}

template <typename F>
void Measure(const char* what, double seconds, std::size_t batch, F&& f) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  std::size_t done = 0;
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
    f();
    done += batch;
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("  %-40s %12.0f /s\n", what, done / elapsed);
}

void Bench(const UnitSystem& system, const std::vector<UcumCase>& cases, double seconds) {
  std::vector<std::string> units;
  for (const UcumCase& c : cases) {
    if (c.group == "validation") units.push_back(c.attributes.at("unit"));
  }
  std::printf("benchmark (one thread, %zu units of the validation group):\n", units.size());
  std::size_t sink = 0;
  Measure("Validate (cached)", seconds, units.size(), [&] {
    for (const std::string& u : units) sink += system.Validate(u).ok();
  });
  Measure("Convert mg/dL -> g/L (cached)", seconds, 1000, [&] {
    for (int i = 0; i < 1000; ++i) sink += system.Convert(i, "mg/dL", "g/L").ok();
  });
  auto fresh = UnitSystem::FromTable(fhirbridge::ucum::EssenceTable::EmbeddedText());
  std::size_t round = 0;
  Measure("Validate (parse, never cached before)", seconds, units.size(), [&] {
    // A new annotation makes every unit a cache miss; the cache empties itself when full.
    std::string tag = "{" + std::to_string(round++) + "}";
    for (const std::string& u : units) sink += (*fresh)->Validate(u + tag).ok();
  });
  std::printf("  (checksum %zu)\n", sink);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseArgs(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: ucum_conformance [--tests FILE] [--failures FILE] [--ratchet FILE] "
                 "[--bench SECONDS]\n");
    return 2;
  }
  auto cases = fhirbridge::conformance::LoadUcumFunctionalTests(options.tests);
  if (!cases.ok()) {
    std::fprintf(stderr, "%s\n", cases.status().ToString().c_str());
    return 1;
  }
  const UnitSystem& system = UnitSystem::Embedded();
  std::vector<UcumCaseOutcome> outcomes;
  std::ofstream failures(options.failures);
  for (const UcumCase& c : *cases) {
    outcomes.push_back(fhirbridge::conformance::RunUcumCase(system, c));
    if (!outcomes.back().passed) {
      failures << c.group << '\t' << c.id << '\t' << outcomes.back().detail << '\n';
    }
  }
  std::printf("UCUM functional tests: %s (%zu cases)\n", options.tests.c_str(), cases->size());
  auto scores = fhirbridge::conformance::ScoreByGroup(*cases, outcomes);
  PrintScores(scores);
  std::printf("failures written to %s\n", options.failures.c_str());
  int rc = options.ratchet.empty() ? 0 : CheckRatchet(options.ratchet, scores);
  if (options.bench_seconds > 0) Bench(system, *cases, options.bench_seconds);
  return rc;
}
