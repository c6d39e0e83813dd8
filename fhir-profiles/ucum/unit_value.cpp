#include "unit_value.h"

#include <cmath>
#include <string>

namespace fhirbridge::ucum {
namespace {

Status Corrupt(const Atom& atom, const std::string& what) {
  return Status::DataLoss("ucum table: unit '" + atom.code + "': " + what);
}

// The first special atom anywhere in the term, if any.
std::optional<std::size_t> FindSpecial(const Term& term, const EssenceTable& table) {
  for (const TermPart& part : term) {
    const Component& c = part.component;
    if (c.kind == Component::Kind::kUnit && table.atoms()[c.atom].special) return c.atom;
    if (c.kind == Component::Kind::kGroup) {
      if (auto inner = FindSpecial(c.group, table)) return inner;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<UnitEvaluator> UnitEvaluator::Build(const EssenceTable& table) {
  UnitEvaluator evaluator(table);
  std::vector<State> state(table.atoms().size(), State::kTodo);
  for (std::size_t i = 0; i < table.atoms().size(); ++i) {
    FHIRBRIDGE_RETURN_IF_ERROR(evaluator.Compute(i, state));
  }
  return evaluator;
}

Status UnitEvaluator::ComputeReferenced(const Term& term, std::vector<State>& state) {
  for (const TermPart& part : term) {
    const Component& c = part.component;
    if (c.kind == Component::Kind::kUnit) FHIRBRIDGE_RETURN_IF_ERROR(Compute(c.atom, state));
    if (c.kind == Component::Kind::kGroup) {
      FHIRBRIDGE_RETURN_IF_ERROR(ComputeReferenced(c.group, state));
    }
  }
  return Status::Ok();
}

Status UnitEvaluator::Compute(std::size_t index, std::vector<State>& state) {
  if (state[index] == State::kDone) return Status::Ok();
  const Atom& atom = table_->atoms()[index];
  if (state[index] == State::kInProgress) return Corrupt(atom, "definition is circular");
  state[index] = State::kInProgress;
  AtomValue& value = atoms_[index];
  if (atom.base) {
    value.dimension = Dimension::OfBase(*table_->BaseIndex(index));
  } else if (atom.arbitrary && atom.unit == "1") {
    // UCUM §24: an arbitrary unit is its own dimension, whatever its nominal definition.
    value.dimension = Dimension::OfArbitrary(index);
  } else {
    Result<Term> definition = ParseExpression(atom.unit, *table_);
    if (!definition.ok()) return Corrupt(atom, definition.status().message());
    FHIRBRIDGE_RETURN_IF_ERROR(ComputeReferenced(*definition, state));
    if (FindSpecial(*definition, *table_)) return Corrupt(atom, "defined by a special unit");
    UnitValue defined = Evaluate(*definition);
    value.factor = atom.value * defined.factor;
    value.dimension = defined.dimension;
    // An arbitrary unit defined by another one ([IU] = [iU]) shares its dimension; one defined
    // by ordinary units still may not be converted to them.
    if (atom.arbitrary && !value.dimension.HasArbitrary()) {
      value.dimension = Dimension::OfArbitrary(index);
      value.factor = 1;
    }
  }
  if (atom.special) {
    value.function = FindSpecialFunction(atom.function);
    if (value.function == nullptr) return Corrupt(atom, "unknown function " + atom.function);
  }
  state[index] = State::kDone;
  return Status::Ok();
}

void UnitEvaluator::Accumulate(const Term& term, UnitValue& out, int sign) const {
  for (const TermPart& part : term) {
    const Component& c = part.component;
    int s = part.divide ? -sign : sign;
    switch (c.kind) {
      case Component::Kind::kUnit: {
        const AtomValue& atom = atoms_[c.atom];
        double one = atom.factor * (c.prefix ? table_->prefixes()[*c.prefix].value : 1.0);
        out.factor *= std::pow(one, c.exponent * s);
        out.dimension.Add(atom.dimension, c.exponent * s);
        break;
      }
      case Component::Kind::kFactor:
        out.factor *= s > 0 ? c.factor : 1 / c.factor;
        break;
      case Component::Kind::kAnnotation:  // UCUM §12: annotations do not change the meaning
        break;
      case Component::Kind::kGroup:
        Accumulate(c.group, out, s);
        break;
    }
  }
}

UnitValue UnitEvaluator::Evaluate(const Term& term) const {
  UnitValue out;
  Accumulate(term, out, 1);
  std::optional<std::size_t> special = FindSpecial(term, *table_);
  if (!special) return out;
  const Component& first = term.front().component;
  bool alone = term.size() == 1 && !term.front().divide && first.kind == Component::Kind::kUnit &&
               first.exponent == 1;
  if (!alone) {
    out.special_in_compound = special;
    return out;
  }
  out.function = atoms_[first.atom].function;
  out.special_prefix = first.prefix ? table_->prefixes()[*first.prefix].value : 1.0;
  out.factor = atoms_[first.atom].factor;  // the scale unit; the prefix applies to readings
  return out;
}

}  // namespace fhirbridge::ucum
