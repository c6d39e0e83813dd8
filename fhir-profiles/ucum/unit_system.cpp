#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "display_name.h"
#include "essence_table.h"
#include "expression.h"
#include "ucum.h"
#include "unit_value.h"

namespace fhirbridge::ucum {
namespace {

// One cache entry: the outcome of parsing a unit, and its meaning when it parsed.
struct ParsedUnit {
  Status status;
  UnitValue value;
};

Status Quoted(const Status& status, std::string_view unit) {
  return status.WithContext("unit '" + std::string(unit) + "'");
}

}  // namespace

struct UnitSystem::Impl {
  EssenceTable table;
  std::optional<UnitEvaluator> evaluator;  // refers to `table`: Impl never moves
  ExpressionLimits limits;
  mutable std::shared_mutex mutex;
  mutable std::unordered_map<std::string, std::shared_ptr<const ParsedUnit>, StringHash,
                             std::equal_to<>>
      cache;

  std::shared_ptr<const ParsedUnit> Lookup(std::string_view unit) const;
  Result<double> ToBase(double value, std::string_view unit, const UnitValue& u) const;
  Result<double> FromBase(double base, std::string_view unit, const UnitValue& u) const;
  Result<const UnitValue*> Meaning(std::string_view unit,
                                   std::shared_ptr<const ParsedUnit>& hold) const;
};

std::shared_ptr<const ParsedUnit> UnitSystem::Impl::Lookup(std::string_view unit) const {
  {
    std::shared_lock lock(mutex);
    auto it = cache.find(unit);
    if (it != cache.end()) return it->second;
  }
  auto parsed = std::make_shared<ParsedUnit>();
  Result<Term> term = ParseExpression(unit, table, limits);
  if (term.ok()) {
    parsed->value = evaluator->Evaluate(*term);
  } else {
    parsed->status = term.status();
  }
  if (unit.size() > limits.max_length) return parsed;  // rejected at once; not worth a slot
  std::unique_lock lock(mutex);
  // Bounded: outside input must not grow memory without limit. Emptying is simpler than LRU
  // and the working set of a deployment (a few hundred units) refills at once.
  if (cache.size() >= kCacheCapacity) cache.clear();
  cache.emplace(std::string(unit), parsed);
  return parsed;
}

Result<const UnitValue*> UnitSystem::Impl::Meaning(std::string_view unit,
                                                   std::shared_ptr<const ParsedUnit>& hold) const {
  hold = Lookup(unit);
  if (!hold->status.ok()) return Quoted(hold->status, unit);
  if (hold->value.special_in_compound) {
    const Atom& atom = table.atoms()[*hold->value.special_in_compound];
    return Quoted(Status::InvalidArgument("special unit '" + atom.code +
                                          "' can be converted only on its own"),
                  unit);
  }
  return &hold->value;
}

Result<double> UnitSystem::Impl::ToBase(double value, std::string_view unit,
                                        const UnitValue& u) const {
  double base = u.function != nullptr ? u.function->to_ratio(value * u.special_prefix) * u.factor
                                      : value * u.factor;
  if (!std::isfinite(base)) {
    return Quoted(Status::InvalidArgument("value out of range in base units"), unit);
  }
  return base;
}

Result<double> UnitSystem::Impl::FromBase(double base, std::string_view unit,
                                          const UnitValue& u) const {
  double value = u.function != nullptr ? u.function->from_ratio(base / u.factor) / u.special_prefix
                                       : base / u.factor;
  if (!std::isfinite(value)) {
    return Quoted(Status::InvalidArgument("value out of range for this unit"), unit);
  }
  return value;
}

UnitSystem::UnitSystem(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UnitSystem::~UnitSystem() = default;

Result<std::unique_ptr<UnitSystem>> UnitSystem::FromTable(std::string_view tsv) {
  Result<EssenceTable> table = EssenceTable::Parse(tsv);
  if (!table.ok()) return table.status();
  auto impl = std::make_unique<Impl>();
  impl->table = std::move(table).value();
  impl->limits.max_length = kMaxUnitLength;
  Result<UnitEvaluator> evaluator = UnitEvaluator::Build(impl->table);
  if (!evaluator.ok()) return evaluator.status();
  impl->evaluator.emplace(std::move(evaluator).value());
  return std::unique_ptr<UnitSystem>(new UnitSystem(std::move(impl)));
}

const UnitSystem& UnitSystem::Embedded() {
  // The embedded table is ours and tested: failing to load it is a broken invariant.
  static const std::unique_ptr<UnitSystem> system = [] {
    Result<std::unique_ptr<UnitSystem>> built = FromTable(EssenceTable::EmbeddedText());
    if (!built.ok()) std::abort();
    return std::move(built).value();
  }();
  return *system;
}

Status UnitSystem::Validate(std::string_view unit) const {
  std::shared_ptr<const ParsedUnit> parsed = impl_->Lookup(unit);
  return parsed->status;
}

Result<double> UnitSystem::Convert(double value, std::string_view from, std::string_view to) const {
  std::shared_ptr<const ParsedUnit> hold_from, hold_to;
  Result<const UnitValue*> a = impl_->Meaning(from, hold_from);
  if (!a.ok()) return a.status();
  Result<const UnitValue*> b = impl_->Meaning(to, hold_to);
  if (!b.ok()) return b.status();
  if (!((*a)->dimension == (*b)->dimension)) {
    return Status::InvalidArgument("'" + std::string(from) + "' [" +
                                   (*a)->dimension.Key(impl_->table) +
                                   "] cannot be converted to '" + std::string(to) + "' [" +
                                   (*b)->dimension.Key(impl_->table) + "]");
  }
  Result<double> base = impl_->ToBase(value, from, **a);
  if (!base.ok()) return base;
  return impl_->FromBase(*base, to, **b);
}

Result<Canonical> UnitSystem::ToCanonical(double value, std::string_view unit) const {
  std::shared_ptr<const ParsedUnit> hold;
  Result<const UnitValue*> u = impl_->Meaning(unit, hold);
  if (!u.ok()) return u.status();
  Result<double> base = impl_->ToBase(value, unit, **u);
  if (!base.ok()) return base.status();
  return Canonical{*base, (*u)->dimension.Key(impl_->table)};
}

Result<bool> UnitSystem::Commensurable(std::string_view a, std::string_view b) const {
  std::shared_ptr<const ParsedUnit> pa = impl_->Lookup(a), pb = impl_->Lookup(b);
  if (!pa->status.ok()) return Quoted(pa->status, a);
  if (!pb->status.ok()) return Quoted(pb->status, b);
  if (pa->value.special_in_compound || pb->value.special_in_compound) return false;
  return pa->value.dimension == pb->value.dimension;
}

Result<std::string> UnitSystem::DisplayName(std::string_view unit) const {
  Result<Term> term = ParseExpression(unit, impl_->table, impl_->limits);
  if (!term.ok()) return Quoted(term.status(), unit);
  return ucum::DisplayName(*term, impl_->table);
}

}  // namespace fhirbridge::ucum
