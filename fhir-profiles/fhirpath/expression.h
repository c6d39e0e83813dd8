#pragma once

// FHIRPath (normative N1, as used by FHIR R4) over RapidJSON FHIR resources.
//
//   Result<Expression> e = Expression::Parse("value.empty() or code.exists()");
//   Result<Collection> r = e->Evaluate(Subject{&observation_json});
//
// Parse once, evaluate many times: an Expression is immutable and may be evaluated by several
// threads at once. Evaluation reads the JSON in place (nothing is copied); the document must
// outlive the returned collection. Numbers keep their written precision when the document was
// parsed with rapidjson::kParseNumbersAsStringsFlag (fhirpath::ParseFhirJson does that).

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "fhir-profiles/fhirpath/value.h"
#include "fhirbridge/result.h"

namespace fhirbridge::fhirpath {

struct AstNode;

/// Options that change what Parse accepts.
struct ParseOptions {
  /// When set, paths are checked against this type before any data is seen (N1 §Type safety
  /// and strict evaluation): a name that is not an element ("name.given1",
  /// "Observation.valueQuantity") is an error. Paths starting with a type name
  /// ("Encounter.name") are checked even without it.
  std::string context_type;
  /// Reject order-dependent functions (first(), skip(), [n]...) applied to the unordered
  /// results of children()/descendants() (the test suite's checkOrderedFunctions mode).
  bool check_ordered_functions = false;
};

/// Where an evaluation starts and what it may refer to.
struct Subject {
  Subject() = default;
  explicit Subject(const rapidjson::Value* resource_json) : resource(resource_json) {}

  /// %resource: the resource that contains the context node (also the default context).
  const rapidjson::Value* resource = nullptr;
  /// %context: the node the expression is evaluated on; defaults to `resource`.
  const rapidjson::Value* context = nullptr;
  /// The FHIR type of `context` when it is not a resource (a datatype or backbone element:
  /// "HumanName", "Observation.component"); ignored when context is a resource.
  std::string_view context_type;
  /// %rootResource: the outermost resource (a Bundle), for resolve(); defaults to `resource`.
  const rapidjson::Value* root_resource = nullptr;
  /// Further %variables (name without '%').
  const std::vector<std::pair<std::string, Collection>>* variables = nullptr;
  /// Receives trace(name, collection) calls; none when empty (trace() is then a no-op).
  std::function<void(std::string_view name, const Collection& items)> trace;
};

/// A parsed FHIRPath expression.
class Expression {
 public:
  /// Parses `text`. InvalidArgument with the position for a syntax error, an unknown function
  /// or type, a wrong argument count, or (with options.context_type) an unknown element.
  static Result<Expression> Parse(std::string_view text, const ParseOptions& options = {});

  /// Evaluates against `subject`. InvalidArgument for an evaluation error (N1: a singleton was
  /// expected, operand types that do not fit, an unknown %variable...).
  Result<Collection> Evaluate(const Subject& subject) const;

  /// For invariants: true/false from a single Boolean result; `if_empty` when the result is
  /// empty (FHIR invariants conventionally pass then: the caller decides). An error when the
  /// result is several items or one non-Boolean item.
  Result<bool> EvaluateBoolean(const Subject& subject, bool if_empty) const;

  const std::string& text() const { return text_; }

 private:
  Expression(std::string text, std::shared_ptr<const AstNode> root)
      : text_(std::move(text)), root_(std::move(root)) {}

  std::string text_;
  std::shared_ptr<const AstNode> root_;
};

/// Parses FHIR JSON keeping every number's written text (1.50 stays 1.50), with a depth limit.
/// InvalidArgument for malformed JSON.
Status ParseFhirJson(std::string_view text, rapidjson::Document& out);

}  // namespace fhirbridge::fhirpath
