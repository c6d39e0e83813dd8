#include "fhir-profiles/fhirpath/value.h"

#include <cstdio>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace fhirbridge::fhirpath {

namespace {

enum class SystemKind { kString, kBoolean, kInteger, kDecimal, kDate, kDateTime, kTime };

// The System type a FHIR primitive's value maps to (FHIR R4 §2.24.0.2 "Primitive Types").
SystemKind PrimitiveKind(const TypeInfo* type) {
  for (const TypeInfo* t = type; t != nullptr; t = t->base) {
    const std::string& n = t->name;
    if (n == "boolean") return SystemKind::kBoolean;
    if (n == "integer") return SystemKind::kInteger;
    if (n == "decimal") return SystemKind::kDecimal;
    if (n == "date") return SystemKind::kDate;
    if (n == "dateTime" || n == "instant") return SystemKind::kDateTime;
    if (n == "time") return SystemKind::kTime;
  }
  return SystemKind::kString;
}

// The text of a JSON scalar: numbers parsed as strings keep their written form.
std::optional<std::string> ScalarText(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return std::string(v.GetBool() ? "true" : "false");
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsDouble()) {
    std::optional<Decimal> d = Decimal::FromDouble(v.GetDouble());
    if (d) return d->ToString();
  }
  return std::nullopt;
}

bool IsQuantityType(const TypeInfo* type) {
  static const TypeInfo* quantity = Model::R4().Find("Quantity");
  return type != nullptr && type->IsA(quantity);
}

std::optional<Item> QuantityFromNode(const rapidjson::Value& json) {
  if (!json.IsObject()) return std::nullopt;
  auto value = json.FindMember("value");
  if (value == json.MemberEnd()) return std::nullopt;
  std::optional<std::string> text = ScalarText(value->value);
  if (!text) return std::nullopt;
  std::optional<Decimal> d = Decimal::Parse(*text);
  if (!d) return std::nullopt;
  Quantity q;
  q.value = *d;
  auto code = json.FindMember("code");
  auto unit = json.FindMember("unit");
  if (code != json.MemberEnd() && code->value.IsString()) {
    q.unit = code->value.GetString();
  } else if (unit != json.MemberEnd() && unit->value.IsString()) {
    q.unit = unit->value.GetString();
  } else {
    q.unit = "1";
  }
  return Item::Qty(std::move(q));
}

std::string JsonText(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string Quantity::ToString() const {
  if (calendar_keyword) return value.ToString() + " " + unit;
  return value.ToString() + " '" + unit + "'";
}

Item Item::Time(Temporal v) {
  ItemKind kind = v.kind == TemporalKind::kDate       ? ItemKind::kDate
                  : v.kind == TemporalKind::kDateTime ? ItemKind::kDateTime
                                                      : ItemKind::kTime;
  return Item(kind, Storage(std::move(v)));
}

std::optional<Item> ToSystem(const Item& item) {
  if (!item.IsNode()) return item;
  const NodeRef& n = item.node();
  if (n.type == nullptr || !n.type->IsPrimitive()) {
    if (n.json != nullptr && IsQuantityType(n.type)) return QuantityFromNode(*n.json);
    return item;
  }
  if (n.json == nullptr) return std::nullopt;
  std::optional<std::string> text = ScalarText(*n.json);
  if (!text) return std::nullopt;
  switch (PrimitiveKind(n.type)) {
    case SystemKind::kString:
      return Item::String(std::move(*text));
    case SystemKind::kBoolean:
      if (*text == "true" || *text == "false") return Item::Boolean(*text == "true");
      return std::nullopt;
    case SystemKind::kInteger: {
      std::optional<Decimal> d = Decimal::Parse(*text);
      std::optional<int64_t> i = d ? d->ToInteger() : std::nullopt;
      if (!i) return std::nullopt;
      return Item::Integer(*i);
    }
    case SystemKind::kDecimal: {
      std::optional<Decimal> d = Decimal::Parse(*text);
      if (!d) return std::nullopt;
      return Item::Dec(*d);
    }
    case SystemKind::kDate: {
      std::optional<Temporal> t = Temporal::ParseDate(*text);
      if (!t) return std::nullopt;
      return Item::Time(*t);
    }
    case SystemKind::kDateTime: {
      std::optional<Temporal> t = Temporal::ParseDateTime(*text);
      if (!t) return std::nullopt;
      return Item::Time(*t);
    }
    case SystemKind::kTime: {
      std::optional<Temporal> t = Temporal::ParseTime(*text);
      if (!t) return std::nullopt;
      return Item::Time(*t);
    }
  }
  return std::nullopt;
}

bool IsPrimitive(const Item& item) {
  if (item.IsNode()) return item.node().type != nullptr && item.node().type->IsPrimitive();
  return item.kind() != ItemKind::kTypeSpecifier;
}

std::string_view TypeName(const Item& item) {
  switch (item.kind()) {
    case ItemKind::kNode: {
      const NodeRef& n = item.node();
      if (n.type != nullptr) return n.type->shown;
      return "Element";
    }
    case ItemKind::kBoolean:
      return "boolean";
    case ItemKind::kInteger:
      return "integer";
    case ItemKind::kDecimal:
      return "decimal";
    case ItemKind::kString:
      return "string";
    case ItemKind::kDate:
      return "date";
    case ItemKind::kDateTime:
      return "dateTime";
    case ItemKind::kTime:
      return "time";
    case ItemKind::kQuantity:
      return "Quantity";
    case ItemKind::kTypeSpecifier:
      return "TypeInfo";
  }
  return "";
}

TypeSpecifier TypeOf(const Item& item) {
  switch (item.kind()) {
    case ItemKind::kNode:
      return {"FHIR", std::string(TypeName(item))};
    case ItemKind::kBoolean:
      return {"System", "Boolean"};
    case ItemKind::kInteger:
      return {"System", "Integer"};
    case ItemKind::kDecimal:
      return {"System", "Decimal"};
    case ItemKind::kString:
      return {"System", "String"};
    case ItemKind::kDate:
      return {"System", "Date"};
    case ItemKind::kDateTime:
      return {"System", "DateTime"};
    case ItemKind::kTime:
      return {"System", "Time"};
    case ItemKind::kQuantity:
      return {"System", "Quantity"};
    case ItemKind::kTypeSpecifier:
      return {"System", "TypeInfo"};
  }
  return {};
}

std::optional<std::string> ToStringForm(const Item& item) {
  switch (item.kind()) {
    case ItemKind::kNode: {
      if (!IsPrimitive(item)) {
        std::optional<Item> q = ToSystem(item);
        if (q && q->kind() == ItemKind::kQuantity) return q->quantity().ToString();
        return std::nullopt;
      }
      if (item.node().json == nullptr) return std::nullopt;
      return ScalarText(*item.node().json);
    }
    case ItemKind::kBoolean:
      return std::string(item.boolean() ? "true" : "false");
    case ItemKind::kInteger:
      return std::to_string(item.integer());
    case ItemKind::kDecimal:
      return item.decimal().ToString();
    case ItemKind::kString:
      return item.string();
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime:
      return item.temporal().ToString();
    case ItemKind::kQuantity:
      return item.quantity().ToString();
    case ItemKind::kTypeSpecifier:
      return item.type_specifier().ns + "." + item.type_specifier().name;
  }
  return std::nullopt;
}

std::string OutputForm(const Item& item) {
  if (item.IsNode()) {
    const NodeRef& n = item.node();
    if (n.type != nullptr && n.type->IsPrimitive()) {
      std::optional<Item> system = ToSystem(item);
      if (system && (system->kind() == ItemKind::kDate || system->kind() == ItemKind::kDateTime ||
                     system->kind() == ItemKind::kTime)) {
        return (system->kind() == ItemKind::kTime ? "@T" : "@") + ToStringForm(item).value_or("");
      }
      return ToStringForm(item).value_or("");
    }
    return n.json != nullptr ? JsonText(*n.json) : "{}";
  }
  if (item.kind() == ItemKind::kDate || item.kind() == ItemKind::kDateTime ||
      item.kind() == ItemKind::kTime) {
    return item.temporal().ToLiteral();
  }
  return ToStringForm(item).value_or("");
}

const TypeInfo* ResourceType(const rapidjson::Value& json) {
  if (!json.IsObject()) return nullptr;
  auto it = json.FindMember("resourceType");
  if (it == json.MemberEnd() || !it->value.IsString()) return nullptr;
  return Model::R4().Find(std::string_view(it->value.GetString(), it->value.GetStringLength()));
}

}  // namespace fhirbridge::fhirpath
