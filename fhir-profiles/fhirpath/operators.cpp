// FHIRPath N1 §Operations: equality and equivalence, comparison, types, collections, boolean
// logic (three-valued), math and date/time arithmetic.

#include <cctype>

#include "fhir-profiles/fhirpath/evaluator.h"
#include "fhir-profiles/fhirpath/quantity.h"

namespace fhirbridge::fhirpath {

namespace {

bool IsNumber(const Item& i) {
  return i.kind() == ItemKind::kInteger || i.kind() == ItemKind::kDecimal;
}
bool IsTemporal(const Item& i) {
  return i.kind() == ItemKind::kDate || i.kind() == ItemKind::kDateTime ||
         i.kind() == ItemKind::kTime;
}
Decimal AsDecimal(const Item& i) {
  return i.kind() == ItemKind::kInteger ? Decimal::FromInteger(i.integer()) : i.decimal();
}
// Date and DateTime compare with each other; Time only with Time.
bool TemporalsCompatible(const Item& a, const Item& b) {
  return (a.kind() == ItemKind::kTime) == (b.kind() == ItemKind::kTime);
}

bool JsonEqual(const rapidjson::Value* a, const rapidjson::Value* b) {
  if (a == b) return true;
  if (a == nullptr || b == nullptr) return false;
  return *a == *b;
}

// Lower-case and single spaces (N1 §Equivalence for strings).
std::string Normalize(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// N1 §Comparison: -1/0/1; nullopt for unknown; an error for operands that do not compare.
Result<std::optional<int>> Order(const Item& a0, const Item& b0) {
  std::optional<Item> a = ToSystem(a0);
  std::optional<Item> b = ToSystem(b0);
  if (!a || !b) return std::optional<int>();
  if (IsNumber(*a) && IsNumber(*b)) return std::optional<int>(AsDecimal(*a).Compare(AsDecimal(*b)));
  if (a->kind() == ItemKind::kString && b->kind() == ItemKind::kString) {
    int c = a->string().compare(b->string());
    return std::optional<int>(c < 0 ? -1 : (c > 0 ? 1 : 0));
  }
  if (IsTemporal(*a) && IsTemporal(*b) && TemporalsCompatible(*a, *b)) {
    return Temporal::Compare(a->temporal(), b->temporal());
  }
  if (a->kind() == ItemKind::kQuantity && b->kind() == ItemKind::kQuantity) {
    return CompareQuantities(a->quantity(), b->quantity());
  }
  return EvalError(std::string("cannot compare ") + std::string(TypeName(*a)) + " with " +
                   std::string(TypeName(*b)));
}

Result<std::optional<bool>> Bool(const Collection& c, std::string_view op) {
  return SingletonBoolean(c, op);
}

}  // namespace

std::optional<bool> ItemsEqual(const Item& a0, const Item& b0) {
  if (a0.IsNode() && b0.IsNode() && !IsPrimitive(a0) && !IsPrimitive(b0)) {
    return JsonEqual(a0.node().json, b0.node().json);
  }
  std::optional<Item> a = ToSystem(a0);
  std::optional<Item> b = ToSystem(b0);
  if (!a || !b) return std::nullopt;
  if (IsNumber(*a) && IsNumber(*b)) return AsDecimal(*a).Compare(AsDecimal(*b)) == 0;
  if (a->kind() == ItemKind::kString && b->kind() == ItemKind::kString) {
    return a->string() == b->string();
  }
  if (a->kind() == ItemKind::kBoolean && b->kind() == ItemKind::kBoolean) {
    return a->boolean() == b->boolean();
  }
  if (IsTemporal(*a) && IsTemporal(*b)) {
    if (!TemporalsCompatible(*a, *b)) return false;
    std::optional<int> c = Temporal::Compare(a->temporal(), b->temporal());
    if (!c) return std::nullopt;
    return *c == 0;
  }
  if (a->kind() == ItemKind::kQuantity && b->kind() == ItemKind::kQuantity) {
    std::optional<int> c = CompareQuantities(a->quantity(), b->quantity());
    if (!c) return std::nullopt;
    return *c == 0;
  }
  return false;
}

Result<int> CompareForSort(const Item& a, const Item& b) {
  auto c = Order(a, b);
  if (!c.ok()) return c.status();
  return c->value_or(0);
}

std::optional<bool> Equal(const Collection& a, const Collection& b) {
  if (a.empty() || b.empty()) return std::nullopt;
  if (a.size() != b.size()) return false;
  bool unknown = false;
  for (size_t i = 0; i < a.size(); ++i) {
    std::optional<bool> e = ItemsEqual(a[i], b[i]);
    if (!e) {
      unknown = true;
    } else if (!*e) {
      return false;
    }
  }
  if (unknown) return std::nullopt;
  return true;
}

bool ItemsEquivalent(const Item& a0, const Item& b0) {
  if (a0.IsNode() && b0.IsNode() && !IsPrimitive(a0) && !IsPrimitive(b0)) {
    return JsonEqual(a0.node().json, b0.node().json);
  }
  std::optional<Item> a = ToSystem(a0);
  std::optional<Item> b = ToSystem(b0);
  if (!a || !b) return !a && !b;
  if (IsNumber(*a) && IsNumber(*b)) return AsDecimal(*a).Equivalent(AsDecimal(*b));
  if (a->kind() == ItemKind::kString && b->kind() == ItemKind::kString) {
    return Normalize(a->string()) == Normalize(b->string());
  }
  if (IsTemporal(*a) && IsTemporal(*b)) {
    return TemporalsCompatible(*a, *b) && Temporal::Equivalent(a->temporal(), b->temporal());
  }
  if (a->kind() == ItemKind::kQuantity && b->kind() == ItemKind::kQuantity) {
    return QuantitiesEquivalent(a->quantity(), b->quantity());
  }
  std::optional<bool> e = ItemsEqual(*a, *b);
  return e.value_or(false);
}

bool Equivalent(const Collection& a, const Collection& b) {
  if (a.size() != b.size()) return false;
  std::vector<bool> used(b.size(), false);
  for (const Item& x : a) {
    bool found = false;
    for (size_t j = 0; j < b.size() && !found; ++j) {
      if (!used[j] && ItemsEquivalent(x, b[j])) used[j] = found = true;
    }
    if (!found) return false;
  }
  return true;
}

void AppendDistinct(const Collection& from, Collection& out) {
  for (const Item& item : from) {
    bool seen = false;
    for (const Item& o : out) {
      if (ItemsEqual(item, o).value_or(false)) {
        seen = true;
        break;
      }
    }
    if (!seen) out.push_back(item);
  }
}

namespace {

Status Logic(BinaryOp op, std::optional<bool> l, std::optional<bool> r, Collection& out) {
  std::optional<bool> v;
  switch (op) {
    case BinaryOp::kAnd:
      if (l == false || r == false)
        v = false;
      else if (l && r)
        v = true;
      break;
    case BinaryOp::kOr:
      if (l == true || r == true)
        v = true;
      else if (l && r)
        v = false;
      break;
    case BinaryOp::kXor:
      if (l && r) v = *l != *r;
      break;
    default:  // implies
      if (l == false || r == true)
        v = true;
      else if (l == true && r == false)
        v = false;
      break;
  }
  if (v) out.push_back(Item::Boolean(*v));
  return Status::Ok();
}

// Temporal ± quantity (N1 §Date/Time Arithmetic): calendar units, truncated to whole units.
Status DateArithmetic(const Item& t, const Quantity& q, bool subtract, Collection& out) {
  std::optional<CalendarUnit> unit = ParseCalendarUnit(q.unit);
  if (!unit) return EvalError("'" + q.unit + "' is not a calendar duration for date arithmetic");
  std::optional<int64_t> amount = q.value.Rescale(0, Decimal::Rounding::kTowardZero).ToInteger();
  if (!amount) return EvalError("date arithmetic amount out of range");
  std::optional<Temporal> r = t.temporal().Add(subtract ? -*amount : *amount, *unit);
  if (!r) return EvalError("date arithmetic with " + q.ToString() + " is not defined here");
  out.push_back(Item::Time(*r));
  return Status::Ok();
}

Status Arithmetic(BinaryOp op, const Item& a, const Item& b, Collection& out) {
  if (a.kind() == ItemKind::kInteger && b.kind() == ItemKind::kInteger && op != BinaryOp::kDiv) {
    int64_t x = a.integer(), y = b.integer(), r = 0;
    switch (op) {
      case BinaryOp::kAdd:
        if (__builtin_add_overflow(x, y, &r)) return Status::Ok();
        break;
      case BinaryOp::kSub:
        if (__builtin_sub_overflow(x, y, &r)) return Status::Ok();
        break;
      case BinaryOp::kMul:
        if (__builtin_mul_overflow(x, y, &r)) return Status::Ok();
        break;
      case BinaryOp::kIntDiv:
        if (y == 0) return Status::Ok();
        r = x / y;
        break;
      default:  // mod
        if (y == 0) return Status::Ok();
        r = x % y;
        break;
    }
    out.push_back(Item::Integer(r));
    return Status::Ok();
  }
  if (IsNumber(a) && IsNumber(b)) {
    Decimal x = AsDecimal(a), y = AsDecimal(b);
    std::optional<Decimal> r;
    switch (op) {
      case BinaryOp::kAdd:
        r = x.Add(y);
        break;
      case BinaryOp::kSub:
        r = x.Subtract(y);
        break;
      case BinaryOp::kMul:
        r = x.Multiply(y);
        break;
      case BinaryOp::kDiv:
        r = x.Divide(y);
        break;
      case BinaryOp::kIntDiv: {
        std::optional<Decimal> q = x.IntegerDivide(y);
        if (q) out.push_back(Item::Integer(q->ToInteger().value_or(0)));
        return Status::Ok();
      }
      default:
        r = x.Modulo(y);
        break;
    }
    if (r) out.push_back(Item::Dec(*r));
    return Status::Ok();
  }
  if (op == BinaryOp::kAdd && a.kind() == ItemKind::kString && b.kind() == ItemKind::kString) {
    out.push_back(Item::String(a.string() + b.string()));
    return Status::Ok();
  }
  if ((op == BinaryOp::kAdd || op == BinaryOp::kSub) && IsTemporal(a) &&
      b.kind() == ItemKind::kQuantity) {
    return DateArithmetic(a, b.quantity(), op == BinaryOp::kSub, out);
  }
  if (a.kind() == ItemKind::kQuantity || b.kind() == ItemKind::kQuantity) {
    auto as_quantity = [](const Item& i) {
      if (i.kind() == ItemKind::kQuantity) return i.quantity();
      Quantity q;
      q.value = AsDecimal(i);
      q.unit = "1";
      return q;
    };
    bool ok_operands = (a.kind() == ItemKind::kQuantity || IsNumber(a)) &&
                       (b.kind() == ItemKind::kQuantity || IsNumber(b));
    if (ok_operands && (op == BinaryOp::kMul || op == BinaryOp::kDiv)) {
      auto r = MultiplyQuantities(as_quantity(a), as_quantity(b), op == BinaryOp::kDiv);
      if (r) out.push_back(Item::Qty(std::move(*r)));
      return Status::Ok();
    }
    if (a.kind() == ItemKind::kQuantity && b.kind() == ItemKind::kQuantity &&
        (op == BinaryOp::kAdd || op == BinaryOp::kSub)) {
      auto r = AddQuantities(a.quantity(), b.quantity(), op == BinaryOp::kSub);
      if (r) out.push_back(Item::Qty(std::move(*r)));
      return Status::Ok();
    }
  }
  return EvalError(std::string("operator not defined for ") + std::string(TypeName(a)) + " and " +
                   std::string(TypeName(b)));
}

}  // namespace

Status Evaluator::Binary(const AstNode& node, const Collection& focus, Collection& out) {
  const BinaryOp op = node.op;
  Collection left, right;
  FHIRBRIDGE_RETURN_IF_ERROR(Eval(*node.children[0], focus, left));
  if (op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kXor ||
      op == BinaryOp::kImplies) {
    auto l = Bool(left, "boolean operator");
    if (!l.ok()) return l.status();
    // Short cuts the three-valued tables allow (N1 §Boolean logic).
    if ((op == BinaryOp::kAnd && *l == false) || (op == BinaryOp::kOr && *l == true)) {
      out.push_back(Item::Boolean(op == BinaryOp::kOr));
      return Status::Ok();
    }
    if (op == BinaryOp::kImplies && *l == false) {
      out.push_back(Item::Boolean(true));
      return Status::Ok();
    }
    FHIRBRIDGE_RETURN_IF_ERROR(Eval(*node.children[1], focus, right));
    auto r = Bool(right, "boolean operator");
    if (!r.ok()) return r.status();
    return Logic(op, *l, *r, out);
  }
  FHIRBRIDGE_RETURN_IF_ERROR(Eval(*node.children[1], focus, right));
  switch (op) {
    case BinaryOp::kUnion:
      AppendDistinct(left, out);
      AppendDistinct(right, out);
      return Status::Ok();
    case BinaryOp::kEq:
    case BinaryOp::kNe: {
      std::optional<bool> e = Equal(left, right);
      if (e) out.push_back(Item::Boolean(op == BinaryOp::kEq ? *e : !*e));
      return Status::Ok();
    }
    case BinaryOp::kEquiv:
    case BinaryOp::kNotEquiv: {
      bool e = Equivalent(left, right);
      out.push_back(Item::Boolean(op == BinaryOp::kEquiv ? e : !e));
      return Status::Ok();
    }
    case BinaryOp::kIn:
    case BinaryOp::kContains: {
      const Collection& element = op == BinaryOp::kIn ? left : right;
      const Collection& container = op == BinaryOp::kIn ? right : left;
      auto one = Singleton(element, op == BinaryOp::kIn ? "in" : "contains");
      if (!one.ok()) return one.status();
      if (*one == nullptr) return Status::Ok();
      bool found = false;
      for (const Item& c : container) found = found || ItemsEqual(**one, c).value_or(false);
      out.push_back(Item::Boolean(found));
      return Status::Ok();
    }
    case BinaryOp::kConcat: {
      auto a = Singleton(left, "&");
      auto b = Singleton(right, "&");
      if (!a.ok()) return a.status();
      if (!b.ok()) return b.status();
      std::string s;
      if (*a != nullptr) s += ToStringForm(**a).value_or("");
      if (*b != nullptr) s += ToStringForm(**b).value_or("");
      out.push_back(Item::String(std::move(s)));
      return Status::Ok();
    }
    default:
      break;
  }
  auto a = Singleton(left, "operator");
  auto b = Singleton(right, "operator");
  if (!a.ok()) return a.status();
  if (!b.ok()) return b.status();
  if (*a == nullptr || *b == nullptr) return Status::Ok();
  if (op == BinaryOp::kLt || op == BinaryOp::kGt || op == BinaryOp::kLe || op == BinaryOp::kGe) {
    auto c = Order(**a, **b);
    if (!c.ok()) return c.status();
    if (!*c) return Status::Ok();
    int v = **c;
    bool r = op == BinaryOp::kLt   ? v < 0
             : op == BinaryOp::kGt ? v > 0
             : op == BinaryOp::kLe ? v <= 0
                                   : v >= 0;
    out.push_back(Item::Boolean(r));
    return Status::Ok();
  }
  std::optional<Item> x = ToSystem(**a);
  std::optional<Item> y = ToSystem(**b);
  if (!x || !y) return Status::Ok();
  return Arithmetic(op, *x, *y, out);
}

}  // namespace fhirbridge::fhirpath
