#pragma once

// The tree-walking evaluator behind Expression::Evaluate (internal to the library).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir-profiles/fhirpath/ast.h"
#include "fhir-profiles/fhirpath/expression.h"
#include "fhirbridge/status.h"

namespace fhirbridge::fhirpath {

/// Evaluation limits: input documents and expressions come from outside.
inline constexpr size_t kMaxCollectionItems = 1'000'000;
inline constexpr int kMaxEvaluationDepth = 400;

/// The iteration variables of where/select/all/exists/repeat/aggregate/sort.
struct Scope {
  int64_t index = 0;
  const Collection* total = nullptr;
};

/// One evaluation of one expression. Not thread-safe; cheap to create.
class Evaluator {
 public:
  Evaluator(const Subject& subject, const Collection& context)
      : subject_(subject), context_(context) {}

  /// Evaluates `node` with `focus` as the input of its leading term (and $this); appends the
  /// result to `out`.
  Status Eval(const AstNode& node, const Collection& focus, Collection& out);

  // Navigation (evaluator.cpp).
  Status Member(const Item& item, std::string_view name, Collection& out) const;
  void Children(const Item& item, Collection& out) const;
  /// Appends the resource a Reference (or reference string) points to, when it is contained in
  /// %resource or an entry of the %rootResource Bundle.
  void Resolve(const Item& item, Collection& out) const;

  // Operators (operators.cpp).
  Status Binary(const AstNode& node, const Collection& focus, Collection& out);

  // Functions (functions*.cpp).
  Status Function(const AstNode& node, const Collection& focus, Collection& out);

  const Subject& subject() const { return subject_; }

 private:
  friend class FunctionCall;
  Status EvalUncached(const AstNode& node, const Collection& focus, Collection& out);
  Status Variable(const AstNode& node, const Collection& focus, Collection& out) const;
  Status MemberNode(const AstNode& node, const Collection& focus, Collection& out);

  Status ExistenceFunction(const AstNode& node, const Collection& input, const Collection& focus,
                           Collection& out, bool& handled);
  Status FilterFunction(const AstNode& node, const Collection& input, const Collection& focus,
                        Collection& out, bool& handled);
  Status ConversionFunction(const AstNode& node, const Collection& input, const Collection& focus,
                            Collection& out, bool& handled);
  Status UtilityFunction(const AstNode& node, const Collection& input, const Collection& focus,
                         Collection& out, bool& handled);
  Status BoundaryFunction(const AstNode& node, const Collection& input, const Collection& focus,
                          Collection& out);
  Status DatePartFunction(const AstNode& node, const Collection& input, Collection& out);
  Status StringFunction(const AstNode& node, const Collection& input, const Collection& focus,
                        Collection& out, bool& handled);
  Status MathFunction(const AstNode& node, const Collection& input, const Collection& focus,
                      Collection& out, bool& handled);
  Status FhirFunction(const AstNode& node, const Collection& input, const Collection& focus,
                      Collection& out, bool& handled);

  Status Sort(const AstNode& node, const Collection& input, Collection& out);
  /// Evaluates `arg` once per item of `input` with $this = the item, $index = its position.
  template <typename Visit>
  Status ForEach(const AstNode& arg, const Collection& input, Visit visit);
  /// Evaluates a plain argument (with the caller's focus).
  Status Arg(const AstNode& node, size_t i, const Collection& focus, Collection& out);

  const Subject& subject_;
  const Collection& context_;
  Scope scope_;
  int depth_ = 0;
  std::vector<std::pair<std::string, Collection>> defined_;   ///< defineVariable()
  std::vector<std::pair<const AstNode*, Collection>> cache_;  ///< values of cacheable nodes
};

template <typename Visit>
Status Evaluator::ForEach(const AstNode& arg, const Collection& input, Visit visit) {
  const Scope saved = scope_;
  Collection one;
  Collection result;
  Status status;
  for (size_t i = 0; i < input.size(); ++i) {
    one.assign(1, input[i]);
    scope_.index = static_cast<int64_t>(i);
    result.clear();
    status = Eval(arg, one, result);
    if (!status.ok()) break;
    bool stop = false;
    status = visit(i, result, stop);
    if (!status.ok() || stop) break;
  }
  scope_ = saved;
  return status;
}

/// An evaluation error ("InvalidArgument: <what>").
Status EvalError(std::string what);

/// The single Boolean of a collection, per N1 §Singleton evaluation of collections: empty →
/// nullopt; one Boolean → it; one other item → true; more → error.
Result<std::optional<bool>> SingletonBoolean(const Collection& c, std::string_view what);

/// The collection's only item, nullptr when empty; an error when there are several.
Result<const Item*> Singleton(const Collection& c, std::string_view what);

/// N1 §Equality: nullopt when unknown (empty operands, different date precisions).
std::optional<bool> Equal(const Collection& a, const Collection& b);
std::optional<bool> ItemsEqual(const Item& a, const Item& b);
bool Equivalent(const Collection& a, const Collection& b);
bool ItemsEquivalent(const Item& a, const Item& b);
/// N1 §Comparison for sort(): -1/0/1 (unknown orders as equal); an error for operands that do
/// not compare.
Result<int> CompareForSort(const Item& a, const Item& b);
/// Appends the items of `from` not already in `out` (by equality).
void AppendDistinct(const Collection& from, Collection& out);
/// True when `item` is of `type` (inheritance followed; with `exact_primitive`, a FHIR
/// primitive must be exactly the type: code is a string for is(), not for as()/ofType()).
bool TypeMatches(const Item& item, const TypeRef& type, bool exact_primitive);

}  // namespace fhirbridge::fhirpath
