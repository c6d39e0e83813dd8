// fhirpath_conformance [--suite DIR] [--failures FILE] [--ratchet FILE] [--quiet]
//
// Scores the FHIRPath engine against the official R4 suite: prints pass/total per group and in
// all, writes every failing test (expression, expected, actual) to the failures file, and exits
// 1 when fewer tests pass than the ratchet file records (raise the number there when more pass).

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "conformance/fhirpath/fhirpath_suite.h"

int main(int argc, char** argv) {
  std::string suite = std::string(FHIRBRIDGE_SHARED_DIR) + "/data/fhir/fhirpath-r4";
  std::string failures_path = "fhirpath-failures.txt";
  std::string ratchet_path;
  bool quiet = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--suite" && i + 1 < argc) {
      suite = argv[++i];
    } else if (a == "--failures" && i + 1 < argc) {
      failures_path = argv[++i];
    } else if (a == "--ratchet" && i + 1 < argc) {
      ratchet_path = argv[++i];
    } else if (a == "--quiet") {
      quiet = true;
    } else {
      std::cerr << "usage: fhirpath_conformance [--suite DIR] [--failures FILE] [--ratchet FILE]"
                   " [--quiet]\n";
      return 2;
    }
  }
  auto results = fhirbridge::conformance::RunFhirpathSuite(suite);
  if (!results.ok()) {
    std::cerr << results.status().message() << "\n";
    return 2;
  }
  std::vector<std::string> groups;
  std::map<std::string, std::pair<int, int>> by_group;  // passed, total
  int passed = 0;
  std::ofstream failures(failures_path);
  for (const auto& r : *results) {
    if (by_group.find(r.group) == by_group.end()) groups.push_back(r.group);
    auto& [p, t] = by_group[r.group];
    ++t;
    if (r.passed) {
      ++p;
      ++passed;
    } else {
      failures << r.group << " / " << r.name << "\n  expression: " << r.expression
               << "\n  expected:   " << r.expected << "\n  actual:     " << r.actual << "\n\n";
    }
  }
  if (!quiet) {
    for (const std::string& g : groups) {
      const auto& [p, t] = by_group[g];
      std::printf("%-40s %4d / %-4d %s\n", g.c_str(), p, t, p == t ? "" : "FAIL");
    }
  }
  const int total = static_cast<int>(results->size());
  std::printf("FHIRPath R4 suite: %d / %d passed (%.1f%%); failures in %s\n", passed, total,
              100.0 * passed / total, failures_path.c_str());
  if (!ratchet_path.empty()) {
    std::ifstream in(ratchet_path);
    int recorded = 0;
    if (!(in >> recorded)) {
      std::cerr << "cannot read the ratchet " << ratchet_path << "\n";
      return 2;
    }
    if (passed < recorded) {
      std::printf("REGRESSION: %d passed, the ratchet records %d\n", passed, recorded);
      return 1;
    }
    if (passed > recorded) {
      std::printf("%d passed, more than the %d recorded: raise %s\n", passed, recorded,
                  ratchet_path.c_str());
    }
  }
  return 0;
}
