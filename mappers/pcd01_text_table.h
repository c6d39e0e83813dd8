#pragma once

// A lookup table from text to a value, for the prebuilt PCD-01 fragments (FragmentCache): built
// once when the mapper is made, then only read, from any number of threads.
//
// Every OBX looks up its OBX-3 and OBX-6 text here, so a lookup matters: open addressing with
// linear probing in a power-of-two array of slots, each holding the key's hash, finds a key
// with a mask (std::unordered_map divides by a prime) and compares texts only on a full hash
// match.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string_view>
#include <utility>
#include <vector>

namespace fhirbridge::mappers::pcd01 {

/// a == b for the short texts compared for every row (keys, times): eight bytes at a time, the
/// last eight overlapping, inline; a call to memcmp costs more than the compare for these.
inline bool SameText(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n < 8) return a == b;
  const auto word = [](std::string_view s, std::size_t at) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + at, 8);
    return w;
  };
  for (std::size_t i = 0; i + 8 < n; i += 8)
    if (word(a, i) != word(b, i)) return false;
  return word(a, n - 8) == word(b, n - 8);
}

/// Text → V. Keys are views: the caller keeps their bytes alive and unchanged. Values never
/// move once added (pointers to them stay valid).
template <typename V, typename Hash>
class TextTable {
 public:
  /// Adds `key` → `value` unless `key` is there already; returns the value stored for `key`.
  V& Emplace(std::string_view key, V value) {
    if (V* found = Find(key)) return *found;
    if (2 * (values_.size() + 1) > slots_.size()) Grow();
    const std::size_t hash = Hash{}(key);
    values_.push_back(std::move(value));
    Place({hash, key, values_.size() - 1, &values_.back()});
    return values_.back();
  }

  /// The value for `key`, or null.
  const V* Find(std::string_view key) const {
    if (slots_.empty()) return nullptr;
    const std::size_t hash = Hash{}(key);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.index == kEmpty) return nullptr;
      if (slot.hash == hash && SameText(slot.key, key)) return slot.value;
    }
  }
  V* Find(std::string_view key) {
    return const_cast<V*>(static_cast<const TextTable&>(*this).Find(key));
  }

  /// Calls `visit(key, value)` for every entry, in the order they were added.
  template <typename Visit>
  void ForEach(Visit visit) {
    std::vector<std::string_view> keys(values_.size());
    for (const Slot& slot : slots_)
      if (slot.index != kEmpty) keys[slot.index] = slot.key;
    for (std::size_t i = 0; i < values_.size(); ++i) visit(keys[i], values_[i]);
  }

  std::size_t size() const { return values_.size(); }

 private:
  static constexpr std::size_t kEmpty = ~std::size_t{0};
  struct Slot {
    std::size_t hash = 0;
    std::string_view key;
    std::size_t index = kEmpty;  ///< into values_
    const V* value = nullptr;    ///< &values_[index], found without indexing the deque
  };

  // At most half the slots are used, so that probes stay short.
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : 2 * old.size(), Slot{});
    for (const Slot& slot : old)
      if (slot.index != kEmpty) Place(slot);
  }
  void Place(const Slot& entry) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = entry.hash & mask;
    while (slots_[i].index != kEmpty) i = (i + 1) & mask;
    slots_[i] = entry;
  }

  std::vector<Slot> slots_;
  std::deque<V> values_;  ///< a deque: values never move
};

}  // namespace fhirbridge::mappers::pcd01
