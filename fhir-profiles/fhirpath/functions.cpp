// FHIRPath N1 §Functions: the dispatcher, and the existence, filtering, subsetting, combining,
// aggregate and utility functions. Conversions are in functions_convert.cpp, strings in
// functions_text.cpp, math and the FHIR additions in functions_fhir.cpp.

#include <algorithm>

#include "fhir-profiles/fhirpath/evaluator.h"

namespace fhirbridge::fhirpath {

Status Evaluator::Arg(const AstNode& node, size_t i, const Collection& focus, Collection& out) {
  return Eval(*node.children[i + 1], focus, out);
}

namespace {

Result<std::optional<bool>> CriteriaResult(const Collection& r) {
  return SingletonBoolean(r, "criteria");
}

// allTrue() and friends take Booleans only (N1 §allTrue).
Result<bool> EveryBoolean(const Collection& input, bool want, bool all) {
  bool any = false;
  bool every = true;
  for (const Item& i : input) {
    std::optional<Item> v = ToSystem(i);
    if (!v || v->kind() != ItemKind::kBoolean) return EvalError("expects Booleans only");
    any = any || v->boolean() == want;
    every = every && v->boolean() == want;
  }
  return all ? every : any;
}

bool Contains(const Collection& c, const Item& item) {
  for (const Item& x : c) {
    if (ItemsEqual(item, x).value_or(false)) return true;
  }
  return false;
}

bool SameNode(const Item& a, const Item& b) {
  return a.IsNode() && b.IsNode() && a.node().json == b.node().json &&
         a.node().extras == b.node().extras;
}

}  // namespace

Status Evaluator::Sort(const AstNode& node, const Collection& input, Collection& out) {
  // sort(key, ...): a key written `-expr` sorts descending (FHIRPath 2.1 §sort).
  std::vector<std::vector<Collection>> keys(input.size());
  std::vector<bool> descending;
  for (size_t k = 1; k < node.children.size(); ++k) {
    const AstNode* key = node.children[k].get();
    descending.push_back(key->kind == NodeKind::kNegate);
    if (key->kind == NodeKind::kNegate) key = key->children[0].get();
    FHIRBRIDGE_RETURN_IF_ERROR(ForEach(*key, input, [&](size_t i, const Collection& r, bool&) {
      keys[i].push_back(r);
      return Status::Ok();
    }));
  }
  std::vector<size_t> order(input.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (node.children.size() == 1) {
    for (size_t i = 0; i < input.size(); ++i) keys[i].push_back(Collection{input[i]});
    descending.push_back(false);
  }
  Status error;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    for (size_t k = 0; k < descending.size(); ++k) {
      const Collection& x = keys[a][k];
      const Collection& y = keys[b][k];
      if (x.empty() || y.empty()) {
        // An empty key sorts after every value (so first when descending).
        if (x.empty() != y.empty()) return descending[k] ? x.empty() : y.empty();
        continue;
      }
      auto c = CompareForSort(x[0], y[0]);
      if (!c.ok()) {
        error = c.status();
        return false;
      }
      if (*c != 0) return descending[k] ? *c > 0 : *c < 0;
    }
    return false;
  });
  if (!error.ok()) return error;
  for (size_t i : order) out.push_back(input[i]);
  return Status::Ok();
}

Status Evaluator::Function(const AstNode& node, const Collection& focus, Collection& out) {
  Collection computed;
  const Collection* input = &focus;
  if (node.children[0] != nullptr) {
    FHIRBRIDGE_RETURN_IF_ERROR(Eval(*node.children[0], focus, computed));
    input = &computed;
  }
  bool handled = false;
  FHIRBRIDGE_RETURN_IF_ERROR(ExistenceFunction(node, *input, focus, out, handled));
  if (!handled) FHIRBRIDGE_RETURN_IF_ERROR(FilterFunction(node, *input, focus, out, handled));
  if (!handled) FHIRBRIDGE_RETURN_IF_ERROR(ConversionFunction(node, *input, focus, out, handled));
  if (!handled) FHIRBRIDGE_RETURN_IF_ERROR(StringFunction(node, *input, focus, out, handled));
  if (!handled) FHIRBRIDGE_RETURN_IF_ERROR(MathFunction(node, *input, focus, out, handled));
  if (!handled) FHIRBRIDGE_RETURN_IF_ERROR(FhirFunction(node, *input, focus, out, handled));
  if (!handled) return EvalError(node.name + "() is not implemented");
  if (out.size() > kMaxCollectionItems) return Status::ResourceExhausted("collection too large");
  return Status::Ok();
}

Status Evaluator::ExistenceFunction(const AstNode& node, const Collection& input,
                                    const Collection& focus, Collection& out, bool& handled) {
  handled = true;
  switch (node.fn) {
    case Fn::kEmpty:
      out.push_back(Item::Boolean(input.empty()));
      return Status::Ok();
    case Fn::kExists:
    case Fn::kAll: {
      if (node.children.size() == 1) {
        out.push_back(Item::Boolean(!input.empty()));
        return Status::Ok();
      }
      const bool all = node.fn == Fn::kAll;
      bool result = all;
      FHIRBRIDGE_RETURN_IF_ERROR(
          ForEach(*node.children[1], input, [&](size_t, const Collection& r, bool& stop) {
            auto b = CriteriaResult(r);
            if (!b.ok()) return b.status();
            bool v = b->value_or(false);
            if (all && !v) result = false, stop = true;
            if (!all && v) result = true, stop = true;
            return Status::Ok();
          }));
      out.push_back(Item::Boolean(result));
      return Status::Ok();
    }
    case Fn::kAllTrue:
    case Fn::kAnyTrue:
    case Fn::kAllFalse:
    case Fn::kAnyFalse: {
      bool want = node.fn == Fn::kAllTrue || node.fn == Fn::kAnyTrue;
      bool all = node.fn == Fn::kAllTrue || node.fn == Fn::kAllFalse;
      auto r = EveryBoolean(input, want, all);
      if (!r.ok()) return r.status();
      out.push_back(Item::Boolean(*r));
      return Status::Ok();
    }
    case Fn::kSubsetOf:
    case Fn::kSupersetOf: {
      Collection other;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, other));
      const Collection& small = node.fn == Fn::kSubsetOf ? input : other;
      const Collection& big = node.fn == Fn::kSubsetOf ? other : input;
      bool all =
          std::all_of(small.begin(), small.end(), [&](const Item& i) { return Contains(big, i); });
      out.push_back(Item::Boolean(all));
      return Status::Ok();
    }
    case Fn::kCount:
      out.push_back(Item::Integer(static_cast<int64_t>(input.size())));
      return Status::Ok();
    case Fn::kDistinct:
      AppendDistinct(input, out);
      return Status::Ok();
    case Fn::kIsDistinct: {
      Collection d;
      AppendDistinct(input, d);
      out.push_back(Item::Boolean(d.size() == input.size()));
      return Status::Ok();
    }
    default:
      handled = false;
      return Status::Ok();
  }
}

Status Evaluator::FilterFunction(const AstNode& node, const Collection& input,
                                 const Collection& focus, Collection& out, bool& handled) {
  handled = true;
  switch (node.fn) {
    case Fn::kWhere:
      return ForEach(*node.children[1], input, [&](size_t i, const Collection& r, bool&) {
        auto b = CriteriaResult(r);
        if (!b.ok()) return b.status();
        if (b->value_or(false)) out.push_back(input[i]);
        return Status::Ok();
      });
    case Fn::kSelect:
      return ForEach(*node.children[1], input, [&](size_t, const Collection& r, bool&) {
        out.insert(out.end(), r.begin(), r.end());
        return out.size() > kMaxCollectionItems ? Status::ResourceExhausted("collection too large")
                                                : Status::Ok();
      });
    case Fn::kRepeat: {
      Collection frontier = input;
      while (!frontier.empty()) {
        Collection next;
        FHIRBRIDGE_RETURN_IF_ERROR(
            ForEach(*node.children[1], frontier, [&](size_t, const Collection& r, bool&) {
              for (const Item& item : r) {
                bool seen = std::any_of(out.begin(), out.end(), [&](const Item& o) {
                  return item.IsNode() ? SameNode(item, o) : ItemsEqual(item, o).value_or(false);
                });
                if (!seen) {
                  out.push_back(item);
                  next.push_back(item);
                }
              }
              return out.size() > kMaxCollectionItems
                         ? Status::ResourceExhausted("collection too large")
                         : Status::Ok();
            }));
        frontier = std::move(next);
      }
      return Status::Ok();
    }
    case Fn::kRepeatAll: {
      // repeatAll(): like repeat(), keeping duplicates (FHIRPath 2.1); bounded by the limit.
      Collection frontier = input;
      while (!frontier.empty()) {
        Collection next;
        FHIRBRIDGE_RETURN_IF_ERROR(
            ForEach(*node.children[1], frontier, [&](size_t, const Collection& r, bool&) {
              next.insert(next.end(), r.begin(), r.end());
              return Status::Ok();
            }));
        out.insert(out.end(), next.begin(), next.end());
        if (out.size() > kMaxCollectionItems)
          return Status::ResourceExhausted("collection too large");
        frontier = std::move(next);
      }
      return Status::Ok();
    }
    case Fn::kOfType:
      for (const Item& i : input) {
        if (TypeMatches(i, node.type, true)) out.push_back(i);
      }
      return Status::Ok();
    case Fn::kSingle: {
      auto one = Singleton(input, "single()");
      if (!one.ok()) return one.status();
      if (*one != nullptr) out.push_back(**one);
      return Status::Ok();
    }
    case Fn::kFirst:
      if (!input.empty()) out.push_back(input.front());
      return Status::Ok();
    case Fn::kLast:
      if (!input.empty()) out.push_back(input.back());
      return Status::Ok();
    case Fn::kTail:
      if (input.size() > 1) out.insert(out.end(), input.begin() + 1, input.end());
      return Status::Ok();
    case Fn::kSkip:
    case Fn::kTake: {
      Collection n;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, n));
      auto one = Singleton(n, node.name);
      if (!one.ok()) return one.status();
      std::optional<Item> v = *one ? ToSystem(**one) : std::nullopt;
      if (!v || v->kind() != ItemKind::kInteger)
        return EvalError(node.name + "() expects an Integer");
      int64_t k = std::clamp<int64_t>(v->integer(), 0, static_cast<int64_t>(input.size()));
      if (node.fn == Fn::kSkip) {
        out.insert(out.end(), input.begin() + k, input.end());
      } else {
        out.insert(out.end(), input.begin(), input.begin() + k);
      }
      return Status::Ok();
    }
    case Fn::kIntersect: {
      Collection other;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, other));
      Collection both;
      for (const Item& i : input) {
        if (Contains(other, i)) both.push_back(i);
      }
      AppendDistinct(both, out);
      return Status::Ok();
    }
    case Fn::kExclude: {
      Collection other;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, other));
      for (const Item& i : input) {
        if (!Contains(other, i)) out.push_back(i);
      }
      return Status::Ok();
    }
    case Fn::kUnion: {
      Collection other;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, other));
      AppendDistinct(input, out);
      AppendDistinct(other, out);
      return Status::Ok();
    }
    case Fn::kCombine: {
      Collection other;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, other));
      out.insert(out.end(), input.begin(), input.end());
      out.insert(out.end(), other.begin(), other.end());
      return Status::Ok();
    }
    case Fn::kIif: {
      if (input.size() > 1) return EvalError("iif() expects at most one input item");
      const Collection& arg_focus = node.children[0] != nullptr ? input : focus;
      Collection criterion;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, arg_focus, criterion));
      if (criterion.size() > 1) return EvalError("iif() criterion must be a single Boolean");
      std::optional<Item> c = criterion.empty() ? std::nullopt : ToSystem(criterion[0]);
      if (!criterion.empty() && (!c || c->kind() != ItemKind::kBoolean)) {
        return EvalError("iif() criterion must be a Boolean");
      }
      if (c && c->boolean()) return Arg(node, 1, arg_focus, out);
      if (node.children.size() > 3) return Arg(node, 2, arg_focus, out);
      return Status::Ok();
    }
    case Fn::kSort:
      return Sort(node, input, out);
    case Fn::kAggregate: {
      const Scope saved = scope_;
      Collection total;
      if (node.children.size() > 2) FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 1, focus, total));
      Collection one;
      for (size_t i = 0; i < input.size(); ++i) {
        one.assign(1, input[i]);
        scope_.index = static_cast<int64_t>(i);
        scope_.total = &total;
        Collection next;
        Status s = Eval(*node.children[1], one, next);
        if (!s.ok()) {
          scope_ = saved;
          return s;
        }
        total = std::move(next);
      }
      scope_ = saved;
      out.insert(out.end(), total.begin(), total.end());
      return Status::Ok();
    }
    default:
      handled = false;
      return Status::Ok();
  }
}

}  // namespace fhirbridge::fhirpath
