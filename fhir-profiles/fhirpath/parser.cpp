#include "fhir-profiles/fhirpath/parser.h"

#include <cctype>
#include <unordered_map>

#include "fhir-profiles/fhirpath/lexer.h"

namespace fhirbridge::fhirpath {

namespace {

struct FunctionSpec {
  Fn fn;
  int min_args;
  int max_args;  ///< -1: any number
};

const std::unordered_map<std::string_view, FunctionSpec>& Functions() {
  static const std::unordered_map<std::string_view, FunctionSpec> kFunctions = {
      {"empty", {Fn::kEmpty, 0, 0}},
      {"exists", {Fn::kExists, 0, 1}},
      {"all", {Fn::kAll, 1, 1}},
      {"allTrue", {Fn::kAllTrue, 0, 0}},
      {"anyTrue", {Fn::kAnyTrue, 0, 0}},
      {"allFalse", {Fn::kAllFalse, 0, 0}},
      {"anyFalse", {Fn::kAnyFalse, 0, 0}},
      {"subsetOf", {Fn::kSubsetOf, 1, 1}},
      {"supersetOf", {Fn::kSupersetOf, 1, 1}},
      {"count", {Fn::kCount, 0, 0}},
      {"distinct", {Fn::kDistinct, 0, 0}},
      {"isDistinct", {Fn::kIsDistinct, 0, 0}},
      {"where", {Fn::kWhere, 1, 1}},
      {"select", {Fn::kSelect, 1, 1}},
      {"repeat", {Fn::kRepeat, 1, 1}},
      {"ofType", {Fn::kOfType, 1, 1}},
      {"single", {Fn::kSingle, 0, 0}},
      {"first", {Fn::kFirst, 0, 0}},
      {"last", {Fn::kLast, 0, 0}},
      {"tail", {Fn::kTail, 0, 0}},
      {"skip", {Fn::kSkip, 1, 1}},
      {"take", {Fn::kTake, 1, 1}},
      {"intersect", {Fn::kIntersect, 1, 1}},
      {"exclude", {Fn::kExclude, 1, 1}},
      {"union", {Fn::kUnion, 1, 1}},
      {"combine", {Fn::kCombine, 1, 1}},
      {"iif", {Fn::kIif, 2, 3}},
      {"toBoolean", {Fn::kToBoolean, 0, 0}},
      {"convertsToBoolean", {Fn::kConvertsToBoolean, 0, 0}},
      {"toInteger", {Fn::kToInteger, 0, 0}},
      {"convertsToInteger", {Fn::kConvertsToInteger, 0, 0}},
      {"toDecimal", {Fn::kToDecimal, 0, 0}},
      {"convertsToDecimal", {Fn::kConvertsToDecimal, 0, 0}},
      {"toString", {Fn::kToString, 0, 0}},
      {"convertsToString", {Fn::kConvertsToString, 0, 0}},
      {"toDate", {Fn::kToDate, 0, 0}},
      {"convertsToDate", {Fn::kConvertsToDate, 0, 0}},
      {"toDateTime", {Fn::kToDateTime, 0, 0}},
      {"convertsToDateTime", {Fn::kConvertsToDateTime, 0, 0}},
      {"toTime", {Fn::kToTime, 0, 0}},
      {"convertsToTime", {Fn::kConvertsToTime, 0, 0}},
      {"toQuantity", {Fn::kToQuantity, 0, 1}},
      {"convertsToQuantity", {Fn::kConvertsToQuantity, 0, 1}},
      {"indexOf", {Fn::kIndexOf, 1, 1}},
      {"substring", {Fn::kSubstring, 1, 2}},
      {"startsWith", {Fn::kStartsWith, 1, 1}},
      {"endsWith", {Fn::kEndsWith, 1, 1}},
      {"contains", {Fn::kContains, 1, 1}},
      {"upper", {Fn::kUpper, 0, 0}},
      {"lower", {Fn::kLower, 0, 0}},
      {"replace", {Fn::kReplace, 2, 2}},
      {"matches", {Fn::kMatches, 1, 1}},
      {"matchesFull", {Fn::kMatchesFull, 1, 1}},
      {"replaceMatches", {Fn::kReplaceMatches, 2, 2}},
      {"length", {Fn::kLength, 0, 0}},
      {"toChars", {Fn::kToChars, 0, 0}},
      {"trim", {Fn::kTrim, 0, 0}},
      {"split", {Fn::kSplit, 1, 1}},
      {"join", {Fn::kJoin, 0, 1}},
      {"encode", {Fn::kEncode, 1, 1}},
      {"decode", {Fn::kDecode, 1, 1}},
      {"escape", {Fn::kEscape, 1, 1}},
      {"unescape", {Fn::kUnescape, 1, 1}},
      {"abs", {Fn::kAbs, 0, 0}},
      {"ceiling", {Fn::kCeiling, 0, 0}},
      {"exp", {Fn::kExp, 0, 0}},
      {"floor", {Fn::kFloor, 0, 0}},
      {"ln", {Fn::kLn, 0, 0}},
      {"log", {Fn::kLog, 1, 1}},
      {"power", {Fn::kPower, 1, 1}},
      {"round", {Fn::kRound, 0, 1}},
      {"sqrt", {Fn::kSqrt, 0, 0}},
      {"truncate", {Fn::kTruncate, 0, 0}},
      {"children", {Fn::kChildren, 0, 0}},
      {"descendants", {Fn::kDescendants, 0, 0}},
      {"trace", {Fn::kTrace, 1, 2}},
      {"now", {Fn::kNow, 0, 0}},
      {"timeOfDay", {Fn::kTimeOfDay, 0, 0}},
      {"today", {Fn::kToday, 0, 0}},
      {"defineVariable", {Fn::kDefineVariable, 1, 2}},
      {"lowBoundary", {Fn::kLowBoundary, 0, 1}},
      {"highBoundary", {Fn::kHighBoundary, 0, 1}},
      {"precision", {Fn::kPrecision, 0, 0}},
      {"comparable", {Fn::kComparable, 1, 1}},
      {"is", {Fn::kIs, 1, 1}},
      {"as", {Fn::kAs, 1, 1}},
      {"type", {Fn::kType, 0, 0}},
      {"not", {Fn::kNot, 0, 0}},
      {"aggregate", {Fn::kAggregate, 1, 2}},
      {"sort", {Fn::kSort, 0, -1}},
      {"extension", {Fn::kExtension, 1, 1}},
      {"hasValue", {Fn::kHasValue, 0, 0}},
      {"getValue", {Fn::kGetValue, 0, 0}},
      {"resolve", {Fn::kResolve, 0, 0}},
      {"conformsTo", {Fn::kConformsTo, 1, 1}},
      {"memberOf", {Fn::kMemberOf, 1, 1}},
      {"subsumes", {Fn::kSubsumes, 1, 1}},
      {"subsumedBy", {Fn::kSubsumedBy, 1, 1}},
      {"htmlChecks", {Fn::kHtmlChecks, 0, 0}},
      {"lastIndexOf", {Fn::kLastIndexOf, 1, 1}},
      {"repeatAll", {Fn::kRepeatAll, 1, 1}},
      {"toLong", {Fn::kToLong, 0, 0}},
      {"convertsToLong", {Fn::kConvertsToLong, 0, 0}},
      {"yearOf", {Fn::kYearOf, 0, 0}},
      {"monthOf", {Fn::kMonthOf, 0, 0}},
      {"dayOf", {Fn::kDayOf, 0, 0}},
      {"hourOf", {Fn::kHourOf, 0, 0}},
      {"minuteOf", {Fn::kMinuteOf, 0, 0}},
      {"secondOf", {Fn::kSecondOf, 0, 0}},
      {"millisecondOf", {Fn::kMillisecondOf, 0, 0}},
      {"timezoneOffsetOf", {Fn::kTimezoneOffsetOf, 0, 0}},
      {"dateOf", {Fn::kDateOf, 0, 0}},
      {"timeOf", {Fn::kTimeOf, 0, 0}},
  };
  return kFunctions;
}

struct BinarySpec {
  BinaryOp op;
  int precedence;  ///< higher binds tighter
};

// FHIRPath N1 §Operator precedence. is/as (precedence 8) are handled separately.
bool LookupBinary(const Token& t, BinarySpec& out) {
  static const std::unordered_map<std::string_view, BinarySpec> kSymbols = {
      {"*", {BinaryOp::kMul, 10}},  {"/", {BinaryOp::kDiv, 10}},      {"+", {BinaryOp::kAdd, 9}},
      {"-", {BinaryOp::kSub, 9}},   {"&", {BinaryOp::kConcat, 9}},    {"|", {BinaryOp::kUnion, 7}},
      {"<", {BinaryOp::kLt, 6}},    {">", {BinaryOp::kGt, 6}},        {"<=", {BinaryOp::kLe, 6}},
      {">=", {BinaryOp::kGe, 6}},   {"=", {BinaryOp::kEq, 5}},        {"!=", {BinaryOp::kNe, 5}},
      {"~", {BinaryOp::kEquiv, 5}}, {"!~", {BinaryOp::kNotEquiv, 5}},
  };
  static const std::unordered_map<std::string_view, BinarySpec> kWords = {
      {"div", {BinaryOp::kIntDiv, 10}}, {"mod", {BinaryOp::kMod, 10}},
      {"in", {BinaryOp::kIn, 4}},       {"contains", {BinaryOp::kContains, 4}},
      {"and", {BinaryOp::kAnd, 3}},     {"or", {BinaryOp::kOr, 2}},
      {"xor", {BinaryOp::kXor, 2}},     {"implies", {BinaryOp::kImplies, 1}},
  };
  const auto& table = t.kind == TokenKind::kSymbol       ? kSymbols
                      : t.kind == TokenKind::kIdentifier ? kWords
                                                         : kSymbols;
  if (t.kind != TokenKind::kSymbol && t.kind != TokenKind::kIdentifier) return false;
  auto it = table.find(t.text);
  if (it == table.end()) return false;
  out = it->second;
  return true;
}

constexpr int kTypeOperatorPrecedence = 8;

bool IsCalendarWord(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "year", "years", "month",  "months",  "week",   "weeks",   "day",         "days",
      "hour", "hours", "minute", "minutes", "second", "seconds", "millisecond", "milliseconds"};
  for (std::string_view k : kWords) {
    if (w == k) return true;
  }
  return false;
}

TypeRef::System SystemTypeNamed(std::string_view name) {
  static const std::unordered_map<std::string_view, TypeRef::System> kSystem = {
      {"Boolean", TypeRef::System::kBoolean}, {"Integer", TypeRef::System::kInteger},
      {"Decimal", TypeRef::System::kDecimal}, {"String", TypeRef::System::kString},
      {"Date", TypeRef::System::kDate},       {"DateTime", TypeRef::System::kDateTime},
      {"Time", TypeRef::System::kTime},       {"Quantity", TypeRef::System::kQuantity},
  };
  auto it = kSystem.find(name);
  return it == kSystem.end() ? TypeRef::System::kNone : it->second;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<std::unique_ptr<AstNode>> Run() {
    auto expr = Expression(0);
    if (!expr.ok()) return expr;
    if (Peek().kind != TokenKind::kEnd) return Error(Peek(), "unexpected '" + Peek().text + "'");
    return expr;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& Take() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
  bool IsSymbol(const Token& t, std::string_view s) const {
    return t.kind == TokenKind::kSymbol && t.text == s;
  }

  static Status Error(const Token& t, std::string what) {
    return Status::InvalidArgument("syntax error at " + std::to_string(t.position) + ": " + what);
  }

  Status Expect(std::string_view symbol) {
    if (!IsSymbol(Peek(), symbol)) {
      return Error(Peek(), "expected '" + std::string(symbol) + "'" +
                               (Peek().kind == TokenKind::kEnd ? " at the end" : ""));
    }
    Take();
    return Status::Ok();
  }

  static std::unique_ptr<AstNode> Make(NodeKind kind, size_t position) {
    auto n = std::make_unique<AstNode>();
    n->kind = kind;
    n->position = position;
    return n;
  }

  Result<std::unique_ptr<AstNode>> Expression(int min_precedence) {
    if (++depth_ > kMaxNestingDepth)
      return Status::ResourceExhausted("expression nested too deeply");
    auto left = Unary();
    if (!left.ok()) return left;
    std::unique_ptr<AstNode> node = std::move(*left);
    while (true) {
      const Token& t = Peek();
      if (t.kind == TokenKind::kIdentifier && (t.text == "is" || t.text == "as") &&
          kTypeOperatorPrecedence >= min_precedence) {
        Take();
        auto typed = Make(t.text == "is" ? NodeKind::kIs : NodeKind::kAs, t.position);
        Status s = TypeSpecifierInto(typed->type);
        if (!s.ok()) return s;
        typed->children.push_back(std::move(node));
        node = std::move(typed);
        continue;
      }
      BinarySpec spec;
      if (!LookupBinary(t, spec) || spec.precedence < min_precedence) break;
      Take();
      auto right = Expression(spec.precedence + 1);
      if (!right.ok()) return right;
      auto binary = Make(NodeKind::kBinary, t.position);
      binary->op = spec.op;
      binary->children.push_back(std::move(node));
      binary->children.push_back(std::move(*right));
      node = std::move(binary);
    }
    --depth_;
    return node;
  }

  Result<std::unique_ptr<AstNode>> Unary() {
    const Token& t = Peek();
    if (IsSymbol(t, "+") || IsSymbol(t, "-")) {
      Take();
      if (++depth_ > kMaxNestingDepth)
        return Status::ResourceExhausted("expression nested too deeply");
      auto operand = Unary();
      --depth_;
      if (!operand.ok()) return operand;
      if (t.text == "+") return operand;
      auto n = Make(NodeKind::kNegate, t.position);
      n->children.push_back(std::move(*operand));
      return n;
    }
    return Postfix();
  }

  Result<std::unique_ptr<AstNode>> Postfix() {
    auto term = Term();
    if (!term.ok()) return term;
    std::unique_ptr<AstNode> node = std::move(*term);
    while (true) {
      const Token& t = Peek();
      if (IsSymbol(t, ".")) {
        Take();
        auto inv = Invocation(std::move(node));
        if (!inv.ok()) return inv;
        node = std::move(*inv);
      } else if (IsSymbol(t, "[")) {
        Take();
        auto index = Expression(0);
        if (!index.ok()) return index;
        Status s = Expect("]");
        if (!s.ok()) return s;
        auto n = Make(NodeKind::kIndexer, t.position);
        n->children.push_back(std::move(node));
        n->children.push_back(std::move(*index));
        node = std::move(n);
      } else {
        break;
      }
    }
    return node;
  }

  // identifier or function call after '.' (focus given) or as a term (focus null).
  Result<std::unique_ptr<AstNode>> Invocation(std::unique_ptr<AstNode> focus) {
    const Token& t = Take();
    if (t.kind != TokenKind::kIdentifier && t.kind != TokenKind::kDelimitedIdentifier) {
      return Error(t, "expected a name");
    }
    if (t.kind == TokenKind::kIdentifier && IsSymbol(Peek(), "(")) {
      return FunctionCall(t, std::move(focus));
    }
    auto n = Make(NodeKind::kMember, t.position);
    n->name = t.text;
    n->children.push_back(std::move(focus));
    return n;
  }

  Result<std::unique_ptr<AstNode>> FunctionCall(const Token& name, std::unique_ptr<AstNode> focus) {
    auto it = Functions().find(name.text);
    if (it == Functions().end()) return Error(name, "unknown function '" + name.text + "'");
    Take();  // (
    auto n = Make(NodeKind::kFunction, name.position);
    n->fn = it->second.fn;
    n->name = name.text;
    n->children.push_back(std::move(focus));
    if (n->fn == Fn::kIs || n->fn == Fn::kAs || n->fn == Fn::kOfType) {
      Status s = TypeSpecifierInto(n->type);
      if (!s.ok()) return s;
      s = Expect(")");
      if (!s.ok()) return s;
      return n;
    }
    if (!IsSymbol(Peek(), ")")) {
      while (true) {
        auto arg = Expression(0);
        if (!arg.ok()) return arg;
        n->children.push_back(std::move(*arg));
        if (!IsSymbol(Peek(), ",")) break;
        Take();
      }
    }
    Status s = Expect(")");
    if (!s.ok()) return s;
    int args = static_cast<int>(n->children.size()) - 1;
    const FunctionSpec& spec = it->second;
    if (args < spec.min_args || (spec.max_args >= 0 && args > spec.max_args)) {
      return Error(name, name.text + "() takes " + std::to_string(spec.min_args) +
                             (spec.max_args == spec.min_args
                                  ? ""
                                  : (spec.max_args < 0 ? " or more"
                                                       : " to " + std::to_string(spec.max_args))) +
                             " arguments, not " + std::to_string(args));
    }
    return n;
  }

  // qualifiedIdentifier: (FHIR. | System.)? name
  Status TypeSpecifierInto(TypeRef& type) {
    const Token& first = Take();
    if (first.kind != TokenKind::kIdentifier && first.kind != TokenKind::kDelimitedIdentifier) {
      return Error(first, "expected a type name");
    }
    std::string ns;
    std::string name = first.text;
    if (IsSymbol(Peek(), ".") && (Peek(1).kind == TokenKind::kIdentifier ||
                                  Peek(1).kind == TokenKind::kDelimitedIdentifier)) {
      Take();
      ns = name;
      name = Take().text;
    }
    type.text = ns.empty() ? name : ns + "." + name;
    const Model& model = Model::R4();
    if (ns == "System") {
      type.system = SystemTypeNamed(name);
      return Status::Ok();
    }
    type.fhir = model.Find(name);
    if (ns == "FHIR") {
      if (type.fhir == nullptr) return Error(first, "unknown FHIR type '" + name + "'");
      return Status::Ok();
    }
    if (!ns.empty()) return Error(first, "unknown type namespace '" + ns + "'");
    type.system = SystemTypeNamed(name);
    if (type.fhir == nullptr && type.system == TypeRef::System::kNone) {
      return Error(first, "unknown type '" + name + "'");
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<AstNode>> Term() {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kEnd:
        return Error(t, "expression ends too early");
      case TokenKind::kNumber:
        return NumberOrQuantity();
      case TokenKind::kString: {
        Take();
        auto n = Make(NodeKind::kLiteral, t.position);
        n->literal.push_back(Item::String(t.text));
        return n;
      }
      case TokenKind::kDate: {
        Take();
        std::optional<Temporal> v = Temporal::ParseDateTime(t.text);
        if (v && t.text.find('T') == std::string::npos) v->kind = TemporalKind::kDate;
        if (!v) return Error(t, "bad date/time literal '@" + t.text + "'");
        auto n = Make(NodeKind::kLiteral, t.position);
        n->literal.push_back(Item::Time(*v));
        return n;
      }
      case TokenKind::kTime: {
        Take();
        std::optional<Temporal> v = Temporal::ParseTime(t.text);
        if (!v) return Error(t, "bad time literal '@T" + t.text + "'");
        auto n = Make(NodeKind::kLiteral, t.position);
        n->literal.push_back(Item::Time(*v));
        return n;
      }
      case TokenKind::kDollar: {
        Take();
        return Make(t.text == "this"    ? NodeKind::kThis
                    : t.text == "index" ? NodeKind::kIndex
                                        : NodeKind::kTotal,
                    t.position);
      }
      case TokenKind::kPercent: {
        Take();
        auto n = Make(NodeKind::kVariable, t.position);
        n->name = t.text;
        return n;
      }
      case TokenKind::kIdentifier:
        if (t.text == "true" || t.text == "false") {
          Take();
          auto n = Make(NodeKind::kLiteral, t.position);
          n->literal.push_back(Item::Boolean(t.text == "true"));
          return n;
        }
        return Invocation(nullptr);
      case TokenKind::kDelimitedIdentifier:
        return Invocation(nullptr);
      case TokenKind::kSymbol:
        break;
    }
    if (IsSymbol(t, "(")) {
      Take();
      auto inner = Expression(0);
      if (!inner.ok()) return inner;
      Status s = Expect(")");
      if (!s.ok()) return s;
      return inner;
    }
    if (IsSymbol(t, "{")) {
      Take();
      Status s = Expect("}");
      if (!s.ok()) return s;
      return Make(NodeKind::kEmpty, t.position);
    }
    return Error(t, "unexpected '" + t.text + "'");
  }

  Result<std::unique_ptr<AstNode>> NumberOrQuantity() {
    const Token& t = Take();
    auto n = Make(NodeKind::kLiteral, t.position);
    const Token& next = Peek();
    bool unit = next.kind == TokenKind::kString ||
                (next.kind == TokenKind::kIdentifier && IsCalendarWord(next.text));
    std::optional<Decimal> d = Decimal::Parse(t.text);
    if (!d) return Error(t, "number out of range");
    if (unit) {
      Take();
      Quantity q;
      q.value = *d;
      q.unit = next.text;
      q.calendar_keyword = next.kind == TokenKind::kIdentifier;
      n->literal.push_back(Item::Qty(std::move(q)));
    } else if (t.text.find('.') != std::string::npos) {
      n->literal.push_back(Item::Dec(*d));
    } else {
      std::optional<int64_t> i = d->ToInteger();
      if (!i) return Error(t, "integer out of range");
      n->literal.push_back(Item::Integer(*i));
    }
    return n;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

bool MarkCacheable(AstNode& node) {
  bool independent = true;
  switch (node.kind) {
    case NodeKind::kThis:
    case NodeKind::kIndex:
    case NodeKind::kTotal:
      independent = false;
      break;
    case NodeKind::kMember:
    case NodeKind::kFunction:
      // A leading name or function reads the focus; trace() and defineVariable() act.
      independent = node.children[0] != nullptr && node.fn != Fn::kTrace &&
                    node.fn != Fn::kDefineVariable && node.fn != Fn::kNow &&
                    node.fn != Fn::kToday && node.fn != Fn::kTimeOfDay;
      break;
    default:
      break;
  }
  std::vector<AstNode*> independent_children;
  for (auto& child : node.children) {
    if (child == nullptr) continue;
    if (MarkCacheable(*child)) {
      independent_children.push_back(child.get());
    } else {
      independent = false;
    }
  }
  // A variable defined by defineVariable() may change: never cache one.
  if (node.kind == NodeKind::kVariable) {
    static constexpr std::string_view kFixed[] = {"resource", "rootResource", "context",
                                                  "ucum",     "sct",          "loinc"};
    independent = false;
    for (std::string_view v : kFixed) independent = independent || node.name == v;
    independent = independent || node.name.rfind("vs-", 0) == 0 || node.name.rfind("ext-", 0) == 0;
  }
  if (!independent) {
    for (AstNode* child : independent_children) {
      child->cacheable = child->kind != NodeKind::kLiteral && child->kind != NodeKind::kEmpty &&
                         child->kind != NodeKind::kVariable;
    }
  }
  return independent;
}

Result<std::unique_ptr<AstNode>> ParseAst(std::string_view text) {
  auto tokens = Tokenize(text);
  if (!tokens.ok()) return tokens.status();
  return Parser(std::move(*tokens)).Run();
}

}  // namespace fhirbridge::fhirpath
