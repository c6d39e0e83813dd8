#include "fhir-profiles/fhirpath/checker.h"

#include <cctype>

namespace fhirbridge::fhirpath {

namespace {

// What is known about a collection before evaluation: its possible FHIR types (empty when
// unknown) and whether its order is undefined (children(), descendants()).
struct StaticType {
  std::vector<const TypeInfo*> types;
  bool unordered = false;
};

bool IsOrderDependent(Fn fn) {
  return fn == Fn::kFirst || fn == Fn::kLast || fn == Fn::kTail || fn == Fn::kSkip ||
         fn == Fn::kTake || fn == Fn::kSingle;
}

bool IteratesArgument(Fn fn) {
  return fn == Fn::kWhere || fn == Fn::kSelect || fn == Fn::kAll || fn == Fn::kExists ||
         fn == Fn::kRepeat || fn == Fn::kAggregate || fn == Fn::kSort || fn == Fn::kTrace ||
         fn == Fn::kRepeatAll;
}

bool KeepsType(Fn fn) {
  return fn == Fn::kWhere || fn == Fn::kFirst || fn == Fn::kLast || fn == Fn::kSingle ||
         fn == Fn::kTail || fn == Fn::kSkip || fn == Fn::kTake || fn == Fn::kDistinct ||
         fn == Fn::kIntersect || fn == Fn::kExclude || fn == Fn::kTrace;
}

class Checker {
 public:
  explicit Checker(const ParseOptions& options) : options_(options) {}

  Status Check(const AstNode& n, const StaticType& focus, StaticType& out) {
    out = StaticType{};
    switch (n.kind) {
      case NodeKind::kMember:
        return CheckMember(n, focus, out);
      case NodeKind::kFunction:
        return CheckFunction(n, focus, out);
      case NodeKind::kIndexer: {
        StaticType base, index;
        FHIRBRIDGE_RETURN_IF_ERROR(Check(*n.children[0], focus, base));
        FHIRBRIDGE_RETURN_IF_ERROR(Check(*n.children[1], focus, index));
        if (options_.check_ordered_functions && base.unordered) {
          return OrderError(n, "[]");
        }
        out = base;
        return Status::Ok();
      }
      case NodeKind::kThis:
        out = focus;
        return Status::Ok();
      case NodeKind::kAs: {
        StaticType operand;
        FHIRBRIDGE_RETURN_IF_ERROR(Check(*n.children[0], focus, operand));
        if (n.type.fhir != nullptr) out.types = {n.type.fhir};
        return Status::Ok();
      }
      default:
        for (const auto& c : n.children) {
          StaticType ignored;
          if (c != nullptr) FHIRBRIDGE_RETURN_IF_ERROR(Check(*c, focus, ignored));
        }
        return Status::Ok();
    }
  }

 private:
  static Status OrderError(const AstNode& n, std::string_view what) {
    return Status::InvalidArgument("semantic error at " + std::to_string(n.position) + ": " +
                                   std::string(what) +
                                   " depends on an order children()/descendants() do not define");
  }

  Status CheckMember(const AstNode& n, const StaticType& focus, StaticType& out) {
    StaticType input = n.children[0] == nullptr ? focus : StaticType{};
    if (n.children[0] != nullptr) {
      FHIRBRIDGE_RETURN_IF_ERROR(Check(*n.children[0], focus, input));
    } else if (!n.name.empty() && std::isupper(static_cast<unsigned char>(n.name[0]))) {
      if (const TypeInfo* t = Model::R4().Find(n.name)) {
        out.types = {t};
        return Status::Ok();
      }
    }
    out.unordered = input.unordered;
    if (input.types.empty()) return Status::Ok();
    std::vector<const TypeInfo*> result;
    for (const TypeInfo* t : input.types) {
      // An abstract Resource (contained, Bundle.entry.resource) may be any resource.
      if (t->name == "Resource" || t->name == "DomainResource") return Status::Ok();
      if (const ElementInfo* e = t->Find(n.name)) {
        result.insert(result.end(), e->types.begin(), e->types.end());
      }
    }
    if (result.empty()) {
      std::string names;
      for (const TypeInfo* t : input.types) names += (names.empty() ? "" : ", ") + t->name;
      return Status::InvalidArgument("semantic error at " + std::to_string(n.position) + ": '" +
                                     n.name + "' is not an element of " + names);
    }
    out.types = std::move(result);
    return Status::Ok();
  }

  Status CheckFunction(const AstNode& n, const StaticType& focus, StaticType& out) {
    StaticType input = n.children[0] == nullptr ? focus : StaticType{};
    if (n.children[0] != nullptr) FHIRBRIDGE_RETURN_IF_ERROR(Check(*n.children[0], focus, input));
    if (options_.check_ordered_functions && input.unordered && IsOrderDependent(n.fn)) {
      return OrderError(n, n.name + "()");
    }
    StaticType last_arg;
    for (size_t i = 1; i < n.children.size(); ++i) {
      StaticType arg_focus = IteratesArgument(n.fn) ? input : focus;
      if (n.fn == Fn::kIif && n.children[0] != nullptr) arg_focus = input;
      FHIRBRIDGE_RETURN_IF_ERROR(Check(*n.children[i], arg_focus, last_arg));
    }
    if (KeepsType(n.fn)) {
      out = input;
    } else if (n.fn == Fn::kSelect) {
      out = last_arg;
    } else if ((n.fn == Fn::kOfType || n.fn == Fn::kAs) && n.type.fhir != nullptr) {
      out.types = {n.type.fhir};
    } else if (n.fn == Fn::kExtension) {
      out.types = {Model::R4().Find("Extension")};
    } else if (n.fn == Fn::kChildren || n.fn == Fn::kDescendants) {
      out.unordered = true;
    }
    return Status::Ok();
  }

  const ParseOptions& options_;
};

}  // namespace

Status CheckAst(const AstNode& root, const ParseOptions& options) {
  StaticType focus;
  if (!options.context_type.empty()) {
    if (const TypeInfo* t = Model::R4().Find(options.context_type)) focus.types = {t};
  }
  StaticType out;
  return Checker(options).Check(root, focus, out);
}

}  // namespace fhirbridge::fhirpath
