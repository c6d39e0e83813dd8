#include "mappers/golden_test_support.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>

namespace fhirbridge::mappers::testing {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void ExpectGolden(const std::filesystem::path& golden, const std::string& actual) {
  if (std::getenv("FHIRBRIDGE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream out(golden, std::ios::binary);
    out << actual;
    BOOST_TEST_MESSAGE("rewrote " << golden);
    return;
  }
  BOOST_REQUIRE_MESSAGE(std::filesystem::exists(golden),
                        golden << " missing: run with FHIRBRIDGE_UPDATE_GOLDEN=1 and review it");
  const std::string expected = ReadFile(golden);
  if (expected == actual) return;
  std::istringstream e(expected), a(actual);
  std::string el, al;
  int line = 0;
  while (true) {
    ++line;
    const bool more_e = static_cast<bool>(std::getline(e, el));
    const bool more_a = static_cast<bool>(std::getline(a, al));
    if (!more_e && !more_a) break;
    if (el != al || more_e != more_a) {
      std::size_t col = 0;
      while (col < el.size() && col < al.size() && el[col] == al[col]) ++col;
      BOOST_ERROR(golden.filename() << " line " << line << " differs at column " << col + 1
                                    << "\n expected: ..." << el.substr(col > 60 ? col - 60 : 0, 160)
                                    << "\n actual:   ..." << al.substr(col > 60 ? col - 60 : 0, 160)
                                    << "\n(FHIRBRIDGE_UPDATE_GOLDEN=1 rewrites; review the diff)");
      return;
    }
  }
}

}  // namespace fhirbridge::mappers::testing
