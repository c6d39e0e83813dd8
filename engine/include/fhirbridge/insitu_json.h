#pragma once

// JSON parsed in place in this thread's reusable scratch space. The validator parses every
// Bundle a mapping worker makes, and the FHIR destination every answer the server gives: with
// a fresh copy and a fresh node pool each time, both paid a malloc and newly faulted pages.

#include <rapidjson/document.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fhirbridge {

/// A copy of `text` parsed in place (rapidjson::ParseInsitu, default flags): strings stay in
/// the copy instead of being copied out one by one. The copy and the first 64 KB of nodes come
/// from this thread's scratch space, kept from one use to the next; a nested use on the same
/// thread gets fresh memory. The document, and every string in it, lives as long as this.
class InsituJson {
 public:
  explicit InsituJson(std::string_view text);
  ~InsituJson();
  InsituJson(const InsituJson&) = delete;
  InsituJson& operator=(const InsituJson&) = delete;

  rapidjson::Document& doc() { return *doc_; }

  /// The node pool each thread keeps (a 12-OBX device Bundle takes ~12 KB of nodes).
  static constexpr std::size_t kPoolBytes = 64 * 1024;
  /// The largest copy a thread keeps between uses; a longer text's copy is freed after.
  static constexpr std::size_t kKeptTextBytes = 1024 * 1024;

 private:
  struct Scratch;
  Scratch* scratch_ = nullptr;  ///< this thread's, when this use has it; else null
  std::string own_text_;        ///< the copy of a nested use
  std::optional<rapidjson::MemoryPoolAllocator<>> pool_;
  std::optional<rapidjson::Document> doc_;
};

}  // namespace fhirbridge
