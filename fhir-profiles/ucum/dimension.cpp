#include "dimension.h"

#include <algorithm>

namespace fhirbridge::ucum {

Dimension Dimension::OfBase(std::size_t base_index) {
  Dimension d;
  d.base_.at(base_index) = 1;
  return d;
}

Dimension Dimension::OfArbitrary(std::size_t atom_index) {
  Dimension d;
  d.arbitrary_.emplace_back(atom_index, 1);
  return d;
}

void Dimension::Add(const Dimension& other, int times) {
  for (std::size_t i = 0; i < base_.size(); ++i) base_[i] += other.base_[i] * times;
  for (const auto& [atom, exponent] : other.arbitrary_) {
    auto it = std::lower_bound(arbitrary_.begin(), arbitrary_.end(), std::make_pair(atom, 0),
                               [](const auto& a, const auto& b) { return a.first < b.first; });
    if (it == arbitrary_.end() || it->first != atom) it = arbitrary_.insert(it, {atom, 0});
    it->second += exponent * times;
    if (it->second == 0) arbitrary_.erase(it);
  }
}

std::string Dimension::Key(const EssenceTable& table) const {
  std::string key;
  auto append = [&key](const std::string& code, int exponent) {
    if (exponent == 0) return;
    if (!key.empty()) key += '.';
    key += code;
    if (exponent != 1) key += std::to_string(exponent);
  };
  for (std::size_t i = 0; i < base_.size(); ++i) {
    append(table.atoms()[table.base_atoms()[i]].code, base_[i]);
  }
  for (const auto& [atom, exponent] : arbitrary_) append(table.atoms()[atom].code, exponent);
  return key;
}

}  // namespace fhirbridge::ucum
