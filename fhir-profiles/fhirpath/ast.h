#pragma once

// The parsed form of a FHIRPath expression. Built once by the parser, then only read: one AST
// may be evaluated by many threads at once.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fhir-profiles/fhirpath/model.h"
#include "fhir-profiles/fhirpath/value.h"

namespace fhirbridge::fhirpath {

enum class NodeKind : uint8_t {
  kLiteral,   ///< literal (one item)
  kEmpty,     ///< {}
  kMember,    ///< children[0] (or the focus when null) . name
  kFunction,  ///< children[0] (or the focus when null) . fn(children[1..])
  kIndexer,   ///< children[0] [ children[1] ]
  kThis,
  kIndex,
  kTotal,
  kVariable,  ///< %name
  kNegate,    ///< - children[0]
  kBinary,    ///< children[0] op children[1]
  kIs,        ///< children[0] is type
  kAs,        ///< children[0] as type
};

enum class BinaryOp : uint8_t {
  kMul,
  kDiv,
  kIntDiv,
  kMod,
  kAdd,
  kSub,
  kConcat,
  kUnion,
  kLt,
  kGt,
  kLe,
  kGe,
  kEq,
  kNe,
  kEquiv,
  kNotEquiv,
  kIn,
  kContains,
  kAnd,
  kOr,
  kXor,
  kImplies,
};

/// Every function of FHIRPath N1 (plus the FHIR additions and the 2.1 string functions the R4
/// test suite uses).
enum class Fn : uint8_t {
  kEmpty,
  kExists,
  kAll,
  kAllTrue,
  kAnyTrue,
  kAllFalse,
  kAnyFalse,
  kSubsetOf,
  kSupersetOf,
  kCount,
  kDistinct,
  kIsDistinct,
  kWhere,
  kSelect,
  kRepeat,
  kOfType,
  kSingle,
  kFirst,
  kLast,
  kTail,
  kSkip,
  kTake,
  kIntersect,
  kExclude,
  kUnion,
  kCombine,
  kIif,
  kToBoolean,
  kConvertsToBoolean,
  kToInteger,
  kConvertsToInteger,
  kToDecimal,
  kConvertsToDecimal,
  kToString,
  kConvertsToString,
  kToDate,
  kConvertsToDate,
  kToDateTime,
  kConvertsToDateTime,
  kToTime,
  kConvertsToTime,
  kToQuantity,
  kConvertsToQuantity,
  kIndexOf,
  kSubstring,
  kStartsWith,
  kEndsWith,
  kContains,
  kUpper,
  kLower,
  kReplace,
  kMatches,
  kMatchesFull,
  kReplaceMatches,
  kLength,
  kToChars,
  kTrim,
  kSplit,
  kJoin,
  kEncode,
  kDecode,
  kEscape,
  kUnescape,
  kAbs,
  kCeiling,
  kExp,
  kFloor,
  kLn,
  kLog,
  kPower,
  kRound,
  kSqrt,
  kTruncate,
  kChildren,
  kDescendants,
  kTrace,
  kNow,
  kTimeOfDay,
  kToday,
  kDefineVariable,
  kLowBoundary,
  kHighBoundary,
  kPrecision,
  kComparable,
  kIs,
  kAs,
  kType,
  kNot,
  kAggregate,
  kSort,
  kExtension,
  kHasValue,
  kGetValue,
  kResolve,
  kConformsTo,
  kMemberOf,
  kSubsumes,
  kSubsumedBy,
  kHtmlChecks,
  // FHIRPath 2.1 additions.
  kLastIndexOf,
  kRepeatAll,
  kToLong,
  kConvertsToLong,
  kYearOf,
  kMonthOf,
  kDayOf,
  kHourOf,
  kMinuteOf,
  kSecondOf,
  kMillisecondOf,
  kTimezoneOffsetOf,
  kDateOf,
  kTimeOf,
};

/// A type named in is/as/ofType: a FHIR type, a System type, or both for an unqualified name
/// that is both (Quantity).
struct TypeRef {
  enum class System : uint8_t {
    kNone,
    kBoolean,
    kInteger,
    kDecimal,
    kString,
    kDate,
    kDateTime,
    kTime,
    kQuantity,
  };
  std::string text;                ///< as written, for messages
  const TypeInfo* fhir = nullptr;  ///< nullptr when not a FHIR type
  System system = System::kNone;
};

struct AstNode {
  NodeKind kind = NodeKind::kEmpty;
  BinaryOp op = BinaryOp::kAdd;
  Fn fn = Fn::kEmpty;
  std::string name;                                ///< member, variable or function name
  Collection literal;                              ///< kLiteral: one item
  TypeRef type;                                    ///< kIs, kAs, and is()/as()/ofType()
  std::vector<std::unique_ptr<AstNode>> children;  ///< see NodeKind
  size_t position = 0;                             ///< byte offset in the expression, for messages
  /// The node's value does not depend on the focus, $this, $index or $total (it starts from
  /// a literal or a %variable): one evaluation serves every iteration (MarkCacheable).
  bool cacheable = false;
};

/// Marks the largest subtrees whose value is the same wherever they are evaluated within one
/// evaluation (`%resource.code.coding` inside a where()). Returns whether `node` is such a tree.
bool MarkCacheable(AstNode& node);

}  // namespace fhirbridge::fhirpath
