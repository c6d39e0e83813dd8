#pragma once

// Helpers shared by the ER7 parser tests.

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>

#include "connectors/hl7v2/er7.h"

namespace fhirbridge::hl7v2::testing {

inline constexpr std::string_view kMsh =
    "MSH|^~\\&|MON|ICU|||20240102030405||ORU^R01^ORU_R01|CTRL1|P|2.6";

/// Segments joined with `terminator` (CR by default), ending with one.
inline std::string Join(std::initializer_list<std::string_view> segments,
                        std::string_view terminator = "\r") {
  std::string out;
  for (std::string_view s : segments) {
    out += s;
    out += terminator;
  }
  return out;
}

/// The message of the error Parse() must give.
inline std::string ErrorOf(std::string_view bytes, const ParseLimits& limits = {}) {
  auto r = Parse(bytes, limits);
  BOOST_REQUIRE_MESSAGE(!r.ok(), "expected a parse error");
  return r.status().message();
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The shared sample message whose file name starts with `prefix` ("01_").
inline std::string SharedFile(std::string_view prefix) {
  const std::filesystem::path dir = FHIRBRIDGE_SHARED_DIR "/data/hl7v2";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) return ReadFile(entry.path());
  }
  BOOST_FAIL("no shared file starting with " << prefix);
  return {};
}

}  // namespace fhirbridge::hl7v2::testing
