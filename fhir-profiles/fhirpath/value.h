#pragma once

// The items a FHIRPath expression works on (N1 §Data types): a FHIR element of the input
// resource (a node: a pointer into the RapidJSON document and its FHIR type), or a System value
// made by the expression (Boolean, Integer, Decimal, String, Date, DateTime, Time, Quantity).
// A node never owns JSON: the document must outlive every collection taken from it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <rapidjson/document.h>

#include "fhir-profiles/fhirpath/decimal.h"
#include "fhir-profiles/fhirpath/model.h"
#include "fhir-profiles/fhirpath/temporal.h"

namespace fhirbridge::fhirpath {

/// A FHIR element: its JSON value (nullptr for a primitive that has only extensions), the
/// `_name` sibling holding a primitive's id/extensions (or nullptr), and its FHIR type.
struct NodeRef {
  const rapidjson::Value* json = nullptr;
  const rapidjson::Value* extras = nullptr;
  const TypeInfo* type = nullptr;
};

/// A System.Quantity: a decimal value and a unit, either a UCUM code (written quoted: 'mg') or
/// a calendar-duration keyword (written bare: days).
struct Quantity {
  Decimal value;
  std::string unit;
  bool calendar_keyword = false;
  std::string ToString() const;  ///< "4 'mg'", "1 week"
};

/// The result of type(): a type's namespace ("System" or "FHIR") and name.
struct TypeSpecifier {
  std::string ns;
  std::string name;
};

enum class ItemKind : uint8_t {
  kNode,
  kBoolean,
  kInteger,
  kDecimal,
  kString,
  kDate,
  kDateTime,
  kTime,
  kQuantity,
  kTypeSpecifier,
};

/// One item of a collection.
class Item {
 public:
  static Item Node(NodeRef node) { return Item(ItemKind::kNode, Storage(node)); }
  static Item Boolean(bool v) { return Item(ItemKind::kBoolean, Storage(v)); }
  static Item Integer(int64_t v) { return Item(ItemKind::kInteger, Storage(v)); }
  static Item Dec(Decimal v) { return Item(ItemKind::kDecimal, Storage(v)); }
  static Item String(std::string v) { return Item(ItemKind::kString, Storage(std::move(v))); }
  static Item Time(Temporal v);  ///< Date, DateTime or Time by v.kind
  static Item Qty(Quantity v) { return Item(ItemKind::kQuantity, Storage(std::move(v))); }
  static Item Type(TypeSpecifier v) {
    return Item(ItemKind::kTypeSpecifier, Storage(std::move(v)));
  }

  ItemKind kind() const { return kind_; }
  bool IsNode() const { return kind_ == ItemKind::kNode; }
  const NodeRef& node() const { return std::get<NodeRef>(storage_); }
  bool boolean() const { return std::get<bool>(storage_); }
  int64_t integer() const { return std::get<int64_t>(storage_); }
  const Decimal& decimal() const { return std::get<Decimal>(storage_); }
  const std::string& string() const { return std::get<std::string>(storage_); }
  const Temporal& temporal() const { return std::get<Temporal>(storage_); }
  const Quantity& quantity() const { return std::get<Quantity>(storage_); }
  const TypeSpecifier& type_specifier() const { return std::get<TypeSpecifier>(storage_); }

 private:
  using Storage =
      std::variant<NodeRef, bool, int64_t, Decimal, std::string, Temporal, Quantity, TypeSpecifier>;
  Item(ItemKind kind, Storage storage) : kind_(kind), storage_(std::move(storage)) {}

  ItemKind kind_;
  Storage storage_;
};

using Collection = std::vector<Item>;

/// A FHIR node of a primitive type read as its System value (a `code` as a String, a
/// `dateTime` as a DateTime, a Quantity-typed element as a Quantity); System items and complex
/// nodes come back unchanged. nullopt for a primitive without a value or with a malformed one.
std::optional<Item> ToSystem(const Item& item);

/// True for a node of a primitive FHIR type or a System value other than a type specifier.
bool IsPrimitive(const Item& item);

/// The FHIRPath type name as the test suite writes it: "boolean", "integer", "decimal",
/// "string", "date", "dateTime", "time", "Quantity" for System values; the FHIR type for nodes
/// ("code", "HumanName", "Patient", "BackboneElement").
std::string_view TypeName(const Item& item);

/// The namespace ("System" or "FHIR") and name (Integer, boolean, Patient) type() reports.
TypeSpecifier TypeOf(const Item& item);

/// The string form of toString() (no '@' on dates); nullopt for complex nodes.
std::optional<std::string> ToStringForm(const Item& item);

/// The string form the suite's expected outputs use: like ToStringForm, with '@'/'@T' before
/// dates and times; complex nodes as their JSON text.
std::string OutputForm(const Item& item);

/// The FHIR type of a resource JSON object (its resourceType), or nullptr.
const TypeInfo* ResourceType(const rapidjson::Value& json);

}  // namespace fhirbridge::fhirpath
