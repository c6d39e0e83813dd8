#pragma once

// The scratch folder every test that touches files uses. mkdtemp picks a name no other folder
// has, so a folder left behind by a killed run is never reopened by a later one (pids repeat).

#include <stdlib.h>  // mkdtemp

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

namespace fhirbridge::testing {

/// A fresh, empty folder under the system temp folder, removed with its contents at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "fhirbridge-test") : dir(Make(prefix)) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// The folder (absolute).
  const std::filesystem::path dir;

  std::string operator/(const std::string& name) const { return (dir / name).string(); }

 private:
  static std::filesystem::path Make(const std::string& prefix) {
    std::string name = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(name.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + name);
    }
    return name;
  }
};

}  // namespace fhirbridge::testing
