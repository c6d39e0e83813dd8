// FHIRPath N1 §Conversion functions, §Utility functions, §Types, and the 2.1 boundary and
// precision functions.

#include <cctype>

#include "fhir-profiles/fhirpath/evaluator.h"
#include "fhir-profiles/fhirpath/quantity.h"

namespace fhirbridge::fhirpath {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsIntegerText(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::optional<Item> ToBoolean(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kBoolean:
      return v;
    case ItemKind::kInteger:
      if (v.integer() == 0 || v.integer() == 1) return Item::Boolean(v.integer() == 1);
      return std::nullopt;
    case ItemKind::kDecimal: {
      int one = v.decimal().Compare(Decimal::FromInteger(1));
      if (one == 0 || v.decimal().IsZero()) return Item::Boolean(one == 0);
      return std::nullopt;
    }
    case ItemKind::kString: {
      std::string s = Lower(v.string());
      if (s == "true" || s == "t" || s == "yes" || s == "y" || s == "1" || s == "1.0") {
        return Item::Boolean(true);
      }
      if (s == "false" || s == "f" || s == "no" || s == "n" || s == "0" || s == "0.0") {
        return Item::Boolean(false);
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<Item> ToInteger(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kInteger:
      return v;
    case ItemKind::kBoolean:
      return Item::Integer(v.boolean() ? 1 : 0);
    case ItemKind::kString: {
      if (!IsIntegerText(v.string())) return std::nullopt;
      std::optional<Decimal> d = Decimal::Parse(v.string());
      std::optional<int64_t> i = d ? d->ToInteger() : std::nullopt;
      if (!i) return std::nullopt;
      return Item::Integer(*i);
    }
    default:
      return std::nullopt;
  }
}

std::optional<Item> ToDecimal(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kDecimal:
      return v;
    case ItemKind::kInteger:
      return Item::Dec(Decimal::FromInteger(v.integer()));
    case ItemKind::kBoolean:
      return Item::Dec(*Decimal::Parse(v.boolean() ? "1.0" : "0.0"));
    case ItemKind::kString: {
      const std::string& s = v.string();
      if (s.find_first_of("eE") != std::string::npos) return std::nullopt;
      std::optional<Decimal> d = Decimal::Parse(s);
      if (!d) return std::nullopt;
      return Item::Dec(*d);
    }
    default:
      return std::nullopt;
  }
}

std::optional<Item> ToTemporal(const Item& v, TemporalKind kind) {
  if (v.kind() == ItemKind::kString) {
    const std::string& s = v.string();
    std::optional<Temporal> t = kind == TemporalKind::kDate       ? Temporal::ParseDate(s)
                                : kind == TemporalKind::kDateTime ? Temporal::ParseDateTime(s)
                                                                  : Temporal::ParseTime(s);
    if (!t && kind == TemporalKind::kDate) {
      // A dateTime string converts to its date (N1 §toDate).
      t = Temporal::ParseDateTime(s);
      if (t) {
        t->kind = TemporalKind::kDate;
        t->precision = std::min(t->precision, Precision::kDay);
        t->has_zone = false;
      }
    }
    if (!t) return std::nullopt;
    return Item::Time(*t);
  }
  if (v.kind() == ItemKind::kDate || v.kind() == ItemKind::kDateTime) {
    if (kind == TemporalKind::kTime) return std::nullopt;
    Temporal t = v.temporal();
    t.kind = kind;
    if (kind == TemporalKind::kDate) {
      t.precision = std::min(t.precision, Precision::kDay);
      t.has_zone = false;
    }
    return Item::Time(t);
  }
  if (v.kind() == ItemKind::kTime && kind == TemporalKind::kTime) return v;
  return std::nullopt;
}

std::optional<Item> ToQuantity(const Item& v) {
  Quantity q;
  switch (v.kind()) {
    case ItemKind::kQuantity:
      return v;
    case ItemKind::kInteger:
    case ItemKind::kDecimal:
      q.value = v.kind() == ItemKind::kInteger ? Decimal::FromInteger(v.integer()) : v.decimal();
      q.unit = "1";
      return Item::Qty(std::move(q));
    case ItemKind::kBoolean:
      q.value = *Decimal::Parse(v.boolean() ? "1.0" : "0.0");
      q.unit = "1";
      return Item::Qty(std::move(q));
    case ItemKind::kString: {
      std::optional<Quantity> parsed = ParseQuantity(v.string());
      if (!parsed) return std::nullopt;
      return Item::Qty(std::move(*parsed));
    }
    default:
      return std::nullopt;
  }
}

// Decimal lowBoundary/highBoundary (FHIRPath 2.1 §lowBoundary): the interval the written digits
// stand for, ± half a unit of the last digit, cut to `digits` after the point. The test suite
// fixes the cut: toward zero on the side nearer zero, half away from zero on the other.
std::optional<Decimal> DecimalBoundary(const Decimal& d, int digits, bool high) {
  if (digits < 0 || digits > Decimal::kMaxScale) return std::nullopt;
  Decimal half = *Decimal::Parse("0.5");
  for (int i = 0; i < d.scale(); ++i) half = *half.Multiply(*Decimal::Parse("0.1"));
  half = half.Normalized();
  bool toward_zero = d.IsNegative() ? high : !high;
  std::optional<Decimal> edge = high ? d.Add(half) : d.Subtract(half);
  if (!edge) return std::nullopt;
  Decimal r = edge->Rescale(
      digits, toward_zero ? Decimal::Rounding::kTowardZero : Decimal::Rounding::kHalfAwayFromZero);
  return r.SignedZero(d.IsNegative());
}

}  // namespace

Status Evaluator::ConversionFunction(const AstNode& node, const Collection& input,
                                     const Collection& focus, Collection& out, bool& handled) {
  handled = true;
  using Convert = std::optional<Item> (*)(const Item&);
  Convert convert = nullptr;
  bool test = false;
  std::optional<TemporalKind> temporal;
  switch (node.fn) {
    case Fn::kConvertsToBoolean:
      test = true;
      [[fallthrough]];
    case Fn::kToBoolean:
      convert = ToBoolean;
      break;
    case Fn::kConvertsToInteger:
      test = true;
      [[fallthrough]];
    case Fn::kToInteger:
      convert = ToInteger;
      break;
    case Fn::kConvertsToDecimal:
      test = true;
      [[fallthrough]];
    case Fn::kToDecimal:
      convert = ToDecimal;
      break;
    case Fn::kConvertsToQuantity:
      test = true;
      [[fallthrough]];
    case Fn::kToQuantity:
      convert = ToQuantity;
      break;
    case Fn::kConvertsToDate:
      test = true;
      [[fallthrough]];
    case Fn::kToDate:
      temporal = TemporalKind::kDate;
      break;
    case Fn::kConvertsToDateTime:
      test = true;
      [[fallthrough]];
    case Fn::kToDateTime:
      temporal = TemporalKind::kDateTime;
      break;
    case Fn::kConvertsToTime:
      test = true;
      [[fallthrough]];
    case Fn::kToTime:
      temporal = TemporalKind::kTime;
      break;
    case Fn::kConvertsToLong:
      test = true;
      [[fallthrough]];
    case Fn::kToLong:
      convert = ToInteger;
      break;
    case Fn::kConvertsToString:
      test = true;
      [[fallthrough]];
    case Fn::kToString:
      break;
    default:
      return UtilityFunction(node, input, focus, out, handled);
  }
  auto one = Singleton(input, node.name + "()");
  if (!one.ok()) return one.status();
  if (*one == nullptr) return Status::Ok();
  std::optional<Item> value = ToSystem(**one);
  std::optional<Item> result;
  if (value) {
    if (convert != nullptr) {
      result = convert(*value);
    } else if (temporal) {
      result = ToTemporal(*value, *temporal);
    } else if (std::optional<std::string> s = ToStringForm(*value)) {
      result = Item::String(std::move(*s));
    }
  }
  if (result && (node.fn == Fn::kToQuantity || node.fn == Fn::kConvertsToQuantity) &&
      node.children.size() > 1) {
    // toQuantity(unit): the value in that unit, when the units are commensurable.
    Collection unit;
    FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, unit));
    auto u = Singleton(unit, node.name + "() unit");
    if (!u.ok()) return u.status();
    std::optional<Item> us = *u ? ToSystem(**u) : std::nullopt;
    if (!us || us->kind() != ItemKind::kString) return Status::Ok();
    Quantity target;
    target.value = Decimal::FromInteger(0);
    target.unit = us->string();
    Quantity zero = target;
    std::optional<Quantity> converted = AddQuantities(target, result->quantity(), false);
    result = converted ? std::optional<Item>(Item::Qty(std::move(*converted))) : std::nullopt;
    (void)zero;
  }
  if (test) {
    out.push_back(Item::Boolean(result.has_value()));
  } else if (result) {
    out.push_back(std::move(*result));
  }
  return Status::Ok();
}

Status Evaluator::UtilityFunction(const AstNode& node, const Collection& input,
                                  const Collection& focus, Collection& out, bool& handled) {
  switch (node.fn) {
    case Fn::kTrace: {
      Collection name, projected;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, name));
      const Collection* shown = &input;
      if (node.children.size() > 2) {
        FHIRBRIDGE_RETURN_IF_ERROR(
            ForEach(*node.children[2], input, [&](size_t, const Collection& r, bool&) {
              projected.insert(projected.end(), r.begin(), r.end());
              return Status::Ok();
            }));
        shown = &projected;
      }
      if (subject_.trace) {
        std::string label = name.empty() ? "" : ToStringForm(name[0]).value_or("");
        subject_.trace(label, *shown);
      }
      out.insert(out.end(), input.begin(), input.end());
      return Status::Ok();
    }
    case Fn::kNow:
    case Fn::kToday:
    case Fn::kTimeOfDay: {
      Temporal t = Temporal::Now();
      if (node.fn == Fn::kToday) {
        t.kind = TemporalKind::kDate;
        t.precision = Precision::kDay;
        t.has_zone = false;
      } else if (node.fn == Fn::kTimeOfDay) {
        t.kind = TemporalKind::kTime;
        t.has_zone = false;
      }
      out.push_back(Item::Time(t));
      return Status::Ok();
    }
    case Fn::kDefineVariable: {
      Collection name, value;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, name));
      if (name.size() != 1 || !ToStringForm(name[0]))
        return EvalError("defineVariable() needs a name");
      if (node.children.size() > 2) {
        FHIRBRIDGE_RETURN_IF_ERROR(Eval(*node.children[2], input, value));
      } else {
        value = input;
      }
      defined_.emplace_back(*ToStringForm(name[0]), std::move(value));
      out.insert(out.end(), input.begin(), input.end());
      return Status::Ok();
    }
    case Fn::kIs:
    case Fn::kAs: {
      auto one = Singleton(input, node.name + "()");
      if (!one.ok()) return one.status();
      if (*one == nullptr) return Status::Ok();
      bool match = TypeMatches(**one, node.type, node.fn == Fn::kAs);
      if (node.fn == Fn::kIs) {
        out.push_back(Item::Boolean(match));
      } else if (match) {
        out.push_back(**one);
      }
      return Status::Ok();
    }
    case Fn::kType:
      for (const Item& i : input) out.push_back(Item::Type(TypeOf(i)));
      return Status::Ok();
    case Fn::kNot: {
      auto b = SingletonBoolean(input, "not()");
      if (!b.ok()) return b.status();
      if (*b) out.push_back(Item::Boolean(!**b));
      return Status::Ok();
    }
    case Fn::kLowBoundary:
    case Fn::kHighBoundary:
    case Fn::kPrecision:
      return BoundaryFunction(node, input, focus, out);
    case Fn::kYearOf:
    case Fn::kMonthOf:
    case Fn::kDayOf:
    case Fn::kHourOf:
    case Fn::kMinuteOf:
    case Fn::kSecondOf:
    case Fn::kMillisecondOf:
    case Fn::kTimezoneOffsetOf:
    case Fn::kDateOf:
    case Fn::kTimeOf:
      return DatePartFunction(node, input, out);
    case Fn::kComparable: {
      Collection other;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, other));
      auto a = Singleton(input, "comparable()");
      auto b = Singleton(other, "comparable()");
      if (!a.ok()) return a.status();
      if (!b.ok()) return b.status();
      if (*a == nullptr || *b == nullptr) return Status::Ok();
      std::optional<Item> x = ToSystem(**a), y = ToSystem(**b);
      if (!x || !y || x->kind() != ItemKind::kQuantity || y->kind() != ItemKind::kQuantity) {
        return EvalError("comparable() applies to quantities");
      }
      out.push_back(Item::Boolean(QuantitiesComparable(x->quantity(), y->quantity())));
      return Status::Ok();
    }
    default:
      handled = false;
      return Status::Ok();
  }
}

// FHIRPath 2.1 §Date/time component functions: empty when the value is not that precise.
Status Evaluator::DatePartFunction(const AstNode& node, const Collection& input, Collection& out) {
  auto one = Singleton(input, node.name + "()");
  if (!one.ok()) return one.status();
  if (*one == nullptr) return Status::Ok();
  std::optional<Item> v = ToSystem(**one);
  if (!v || (v->kind() != ItemKind::kDate && v->kind() != ItemKind::kDateTime &&
             v->kind() != ItemKind::kTime)) {
    return EvalError(node.name + "() applies to dates and times");
  }
  Temporal t = v->temporal();
  auto part = [&](Precision needed, int value) {
    if (t.precision >= needed) out.push_back(Item::Integer(value));
  };
  const bool time = t.kind == TemporalKind::kTime;
  switch (node.fn) {
    case Fn::kYearOf:
      if (!time) part(Precision::kYear, t.year);
      break;
    case Fn::kMonthOf:
      if (!time) part(Precision::kMonth, t.month);
      break;
    case Fn::kDayOf:
      if (!time) part(Precision::kDay, t.day);
      break;
    case Fn::kHourOf:
      part(Precision::kHour, t.hour);
      break;
    case Fn::kMinuteOf:
      part(Precision::kMinute, t.minute);
      break;
    case Fn::kSecondOf:
      part(Precision::kSecond, t.second);
      break;
    case Fn::kMillisecondOf:
      part(Precision::kMillisecond, t.millisecond);
      break;
    case Fn::kTimezoneOffsetOf:
      if (t.has_zone) {
        out.push_back(
            Item::Dec(*Decimal::FromInteger(t.zone_minutes).Divide(Decimal::FromInteger(60))));
      }
      break;
    case Fn::kDateOf:
      if (!time) {
        t.kind = TemporalKind::kDate;
        t.precision = std::min(t.precision, Precision::kDay);
        t.has_zone = false;
        out.push_back(Item::Time(t));
      }
      break;
    default:  // timeOf
      if (t.kind == TemporalKind::kDateTime && t.precision >= Precision::kHour) {
        t.kind = TemporalKind::kTime;
        t.has_zone = false;
        out.push_back(Item::Time(t));
      }
      break;
  }
  return Status::Ok();
}

Status Evaluator::BoundaryFunction(const AstNode& node, const Collection& input,
                                   const Collection& focus, Collection& out) {
  auto one = Singleton(input, node.name + "()");
  if (!one.ok()) return one.status();
  if (*one == nullptr) return Status::Ok();
  std::optional<Item> v = ToSystem(**one);
  if (!v) return Status::Ok();
  if (node.fn == Fn::kPrecision) {
    if (v->kind() == ItemKind::kDecimal) {
      out.push_back(Item::Integer(v->decimal().scale()));
    } else if (v->kind() == ItemKind::kInteger) {
      out.push_back(Item::Integer(0));
    } else if (v->kind() == ItemKind::kDate || v->kind() == ItemKind::kDateTime ||
               v->kind() == ItemKind::kTime) {
      out.push_back(Item::Integer(v->temporal().PrecisionDigits()));
    }
    return Status::Ok();
  }
  const bool high = node.fn == Fn::kHighBoundary;
  std::optional<int64_t> digits;
  if (node.children.size() > 1) {
    Collection p;
    FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, p));
    auto pi = Singleton(p, node.name + "() precision");
    if (!pi.ok()) return pi.status();
    std::optional<Item> n = *pi ? ToSystem(**pi) : std::nullopt;
    if (!n || n->kind() != ItemKind::kInteger) return Status::Ok();
    digits = n->integer();
  }
  switch (v->kind()) {
    case ItemKind::kInteger:
    case ItemKind::kDecimal: {
      Decimal d =
          v->kind() == ItemKind::kInteger ? Decimal::FromInteger(v->integer()) : v->decimal();
      auto r = DecimalBoundary(d, static_cast<int>(digits.value_or(8)), high);
      if (r) out.push_back(Item::Dec(*r));
      return Status::Ok();
    }
    case ItemKind::kQuantity: {
      auto r = DecimalBoundary(v->quantity().value, static_cast<int>(digits.value_or(8)), high);
      if (!r) return Status::Ok();
      Quantity q = v->quantity();
      q.value = *r;
      out.push_back(Item::Qty(std::move(q)));
      return Status::Ok();
    }
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime: {
      const Temporal& t = v->temporal();
      int max = t.kind == TemporalKind::kDate ? 8 : t.kind == TemporalKind::kTime ? 9 : 17;
      auto r = t.Boundary(static_cast<int>(digits.value_or(max)), high);
      if (r) out.push_back(Item::Time(*r));
      return Status::Ok();
    }
    default:
      return EvalError(node.name + "() applies to numbers, quantities and dates");
  }
}

}  // namespace fhirbridge::fhirpath
