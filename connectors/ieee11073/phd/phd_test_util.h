#pragma once

// Test helpers: the shared 20601 vectors (../shared/data/ieee11073/phd_20601_apdu) and hex text.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

namespace fhirbridge::phd::testing {

inline std::filesystem::path SharedIeee11073() {
  return std::filesystem::path(FHIRBRIDGE_SHARED_DIR) / "data" / "ieee11073";
}

/// The bytes of `phd_20601_apdu/<name>.bin`; fails the test when missing.
inline std::string Vector(const std::string& name) {
  const std::filesystem::path p = SharedIeee11073() / "phd_20601_apdu" / (name + ".bin");
  std::ifstream in(p, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Bytes from hex text; whitespace is ignored.
inline std::string FromHex(std::string_view hex) {
  std::string out;
  int high = -1;
  for (char c : hex) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<char>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

inline std::span<const std::uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace fhirbridge::phd::testing
