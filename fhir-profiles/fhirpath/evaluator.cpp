#include "fhir-profiles/fhirpath/evaluator.h"

#include <cctype>
#include <cstring>

namespace fhirbridge::fhirpath {

namespace {

// The type of a value of element type `declared`: a Resource-typed element holds any resource.
const TypeInfo* ActualType(const TypeInfo* declared, const rapidjson::Value* json) {
  if (declared != nullptr && declared->IsResource() && json != nullptr) {
    if (const TypeInfo* t = ResourceType(*json)) return t;
  }
  return declared;
}

// Appends the node(s) of one JSON property (and its `_name` sibling) as items of `type`.
void AppendProperty(const rapidjson::Value* value, const rapidjson::Value* extras,
                    const TypeInfo* type, Collection& out) {
  if (value != nullptr && value->IsArray()) {
    const bool extras_array = extras != nullptr && extras->IsArray();
    for (rapidjson::SizeType i = 0; i < value->Size(); ++i) {
      const rapidjson::Value* v = &(*value)[i];
      const rapidjson::Value* x =
          extras_array && i < extras->Size() && (*extras)[i].IsObject() ? &(*extras)[i] : nullptr;
      if (v->IsNull()) v = nullptr;
      if (v == nullptr && x == nullptr) continue;
      out.push_back(Item::Node({v, x, ActualType(type, v)}));
    }
    return;
  }
  if (value == nullptr && extras != nullptr && extras->IsArray()) {
    for (const auto& x : extras->GetArray()) {
      if (x.IsObject()) out.push_back(Item::Node({nullptr, &x, type}));
    }
    return;
  }
  if (value != nullptr && value->IsNull()) value = nullptr;
  if (value == nullptr && (extras == nullptr || !extras->IsObject())) return;
  out.push_back(Item::Node({value, extras, ActualType(type, value)}));
}

const rapidjson::Value* FindMember(const rapidjson::Value& obj, std::string_view name) {
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// The `_name` sibling of property `name`.
const rapidjson::Value* FindExtras(const rapidjson::Value& obj, std::string_view name) {
  char buf[128];
  if (name.size() + 1 > sizeof buf) return nullptr;
  buf[0] = '_';
  std::memcpy(buf + 1, name.data(), name.size());
  return FindMember(obj, std::string_view(buf, name.size() + 1));
}

bool StartsUpper(std::string_view s) {
  return !s.empty() && std::isupper(static_cast<unsigned char>(s[0]));
}

}  // namespace

Status EvalError(std::string what) { return Status::InvalidArgument(std::move(what)); }

Result<std::optional<bool>> SingletonBoolean(const Collection& c, std::string_view what) {
  if (c.empty()) return std::optional<bool>();
  if (c.size() > 1) {
    return EvalError(std::string(what) + " expects a single Boolean, got " +
                     std::to_string(c.size()) + " items");
  }
  std::optional<Item> v = ToSystem(c[0]);
  if (v && v->kind() == ItemKind::kBoolean) return std::optional<bool>(v->boolean());
  return std::optional<bool>(true);
}

Result<const Item*> Singleton(const Collection& c, std::string_view what) {
  if (c.empty()) return static_cast<const Item*>(nullptr);
  if (c.size() > 1) {
    return EvalError(std::string(what) + " expects a single item, got " + std::to_string(c.size()));
  }
  return &c[0];
}

bool TypeMatches(const Item& item, const TypeRef& type, bool exact_primitive) {
  if (item.IsNode()) {
    const TypeInfo* t = item.node().type;
    if (type.fhir == nullptr || t == nullptr) return false;
    if (exact_primitive && t->IsPrimitive()) return t == type.fhir;
    return t->IsA(type.fhir);
  }
  using S = TypeRef::System;
  switch (item.kind()) {
    case ItemKind::kBoolean:
      return type.system == S::kBoolean;
    case ItemKind::kInteger:
      return type.system == S::kInteger;
    case ItemKind::kDecimal:
      return type.system == S::kDecimal;
    case ItemKind::kString:
      return type.system == S::kString;
    case ItemKind::kDate:
      return type.system == S::kDate;
    case ItemKind::kDateTime:
      return type.system == S::kDateTime;
    case ItemKind::kTime:
      return type.system == S::kTime;
    case ItemKind::kQuantity:
      return type.system == S::kQuantity;
    default:
      return false;
  }
}

Status Evaluator::Eval(const AstNode& node, const Collection& focus, Collection& out) {
  if (++depth_ > kMaxEvaluationDepth) return EvalError("expression evaluation nested too deeply");
  struct DepthGuard {
    int& d;
    ~DepthGuard() { --d; }
  } guard{depth_};
  if (node.cacheable) {
    for (const auto& [cached, value] : cache_) {
      if (cached == &node) {
        out.insert(out.end(), value.begin(), value.end());
        return Status::Ok();
      }
    }
    Collection value;
    FHIRBRIDGE_RETURN_IF_ERROR(EvalUncached(node, focus, value));
    out.insert(out.end(), value.begin(), value.end());
    cache_.emplace_back(&node, std::move(value));
    return Status::Ok();
  }
  return EvalUncached(node, focus, out);
}

Status Evaluator::EvalUncached(const AstNode& node, const Collection& focus, Collection& out) {
  switch (node.kind) {
    case NodeKind::kLiteral:
      out.insert(out.end(), node.literal.begin(), node.literal.end());
      return Status::Ok();
    case NodeKind::kEmpty:
      return Status::Ok();
    case NodeKind::kMember:
      return MemberNode(node, focus, out);
    case NodeKind::kFunction:
      return Function(node, focus, out);
    case NodeKind::kIndexer: {
      Collection base, index;
      FHIRBRIDGE_RETURN_IF_ERROR(Eval(*node.children[0], focus, base));
      FHIRBRIDGE_RETURN_IF_ERROR(Eval(*node.children[1], focus, index));
      auto i = Singleton(index, "[]");
      if (!i.ok()) return i.status();
      if (*i == nullptr) return Status::Ok();
      std::optional<Item> n = ToSystem(**i);
      if (!n || n->kind() != ItemKind::kInteger) return EvalError("[] expects an Integer index");
      if (n->integer() >= 0 && n->integer() < static_cast<int64_t>(base.size())) {
        out.push_back(base[static_cast<size_t>(n->integer())]);
      }
      return Status::Ok();
    }
    case NodeKind::kThis:
      out.insert(out.end(), focus.begin(), focus.end());
      return Status::Ok();
    case NodeKind::kIndex:
      out.push_back(Item::Integer(scope_.index));
      return Status::Ok();
    case NodeKind::kTotal:
      if (scope_.total != nullptr)
        out.insert(out.end(), scope_.total->begin(), scope_.total->end());
      return Status::Ok();
    case NodeKind::kVariable:
      return Variable(node, focus, out);
    case NodeKind::kNegate: {
      Collection operand;
      FHIRBRIDGE_RETURN_IF_ERROR(Eval(*node.children[0], focus, operand));
      auto one = Singleton(operand, "unary -");
      if (!one.ok()) return one.status();
      if (*one == nullptr) return Status::Ok();
      std::optional<Item> v = ToSystem(**one);
      if (v && v->kind() == ItemKind::kInteger) {
        out.push_back(Item::Integer(-v->integer()));
      } else if (v && v->kind() == ItemKind::kDecimal) {
        out.push_back(Item::Dec(v->decimal().Negate()));
      } else if (v && v->kind() == ItemKind::kQuantity) {
        Quantity q = v->quantity();
        q.value = q.value.Negate();
        out.push_back(Item::Qty(std::move(q)));
      } else {
        return EvalError("unary - applies to numbers and quantities only");
      }
      return Status::Ok();
    }
    case NodeKind::kBinary:
      return Binary(node, focus, out);
    case NodeKind::kIs:
    case NodeKind::kAs: {
      Collection operand;
      FHIRBRIDGE_RETURN_IF_ERROR(Eval(*node.children[0], focus, operand));
      auto one = Singleton(operand, node.kind == NodeKind::kIs ? "is" : "as");
      if (!one.ok()) return one.status();
      if (*one == nullptr) return Status::Ok();
      bool match = TypeMatches(**one, node.type, node.kind == NodeKind::kAs);
      if (node.kind == NodeKind::kIs) {
        out.push_back(Item::Boolean(match));
      } else if (match) {
        out.push_back(**one);
      }
      return Status::Ok();
    }
  }
  return EvalError("unknown expression node");
}

Status Evaluator::MemberNode(const AstNode& node, const Collection& focus, Collection& out) {
  Collection computed;
  const Collection* input = &focus;
  if (node.children[0] != nullptr) {
    FHIRBRIDGE_RETURN_IF_ERROR(Eval(*node.children[0], focus, computed));
    input = &computed;
  } else if (StartsUpper(node.name)) {
    // N1 §Path selection: a leading type name selects the focus items of that type.
    if (const TypeInfo* type = Model::R4().Find(node.name)) {
      for (const Item& item : *input) {
        if (item.IsNode() && item.node().type != nullptr && item.node().type->IsA(type)) {
          out.push_back(item);
        }
      }
      return Status::Ok();
    }
  }
  for (const Item& item : *input) FHIRBRIDGE_RETURN_IF_ERROR(Member(item, node.name, out));
  if (out.size() > kMaxCollectionItems) return Status::ResourceExhausted("collection too large");
  return Status::Ok();
}

Status Evaluator::Member(const Item& item, std::string_view name, Collection& out) const {
  if (item.kind() == ItemKind::kTypeSpecifier) {
    if (name == "namespace") out.push_back(Item::String(item.type_specifier().ns));
    if (name == "name") out.push_back(Item::String(item.type_specifier().name));
    return Status::Ok();
  }
  if (!item.IsNode()) return Status::Ok();
  const NodeRef& n = item.node();
  const TypeInfo* type = n.type;
  // A primitive's id and extensions live in its `_name` sibling.
  const rapidjson::Value* obj = type != nullptr && type->IsPrimitive() ? n.extras : n.json;
  if (obj == nullptr || !obj->IsObject()) return Status::Ok();
  if (type == nullptr) {
    AppendProperty(FindMember(*obj, name), FindExtras(*obj, name), nullptr, out);
    return Status::Ok();
  }
  const ElementInfo* element = type->Find(name);
  // Not an element of this item's type: nothing here (a collection may mix types; unknown
  // names are rejected before evaluation by the static check).
  if (element == nullptr) return Status::Ok();
  if (!element->IsChoice()) {
    AppendProperty(FindMember(*obj, name), FindExtras(*obj, name),
                   element->types.empty() ? nullptr : element->types[0], out);
    return Status::Ok();
  }
  // value[x]: the property is `name` + the type's name with its first letter upper-cased.
  for (const auto& m : obj->GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (key.size() <= name.size() || key.compare(0, name.size(), name) != 0) continue;
    std::string_view suffix = key.substr(name.size());
    if (!StartsUpper(suffix)) continue;
    for (const TypeInfo* t : element->types) {
      if (t->name.size() == suffix.size() &&
          std::toupper(static_cast<unsigned char>(t->name[0])) == suffix[0] &&
          t->name.compare(1, std::string::npos, suffix.substr(1)) == 0) {
        AppendProperty(&m.value, FindExtras(*obj, key), t, out);
        break;
      }
    }
  }
  // A choice primitive given only as `_valueString` (extensions, no value).
  for (const auto& m : obj->GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (key.size() <= name.size() + 1 || key[0] != '_' || key.compare(1, name.size(), name) != 0 ||
        FindMember(*obj, key.substr(1)) != nullptr) {
      continue;
    }
    std::string_view suffix = key.substr(name.size() + 1);
    for (const TypeInfo* t : element->types) {
      if (ChoiceProperty(name, t->name) == key.substr(1)) {
        AppendProperty(nullptr, &m.value, t, out);
        (void)suffix;
      }
    }
  }
  return Status::Ok();
}

void Evaluator::Children(const Item& item, Collection& out) const {
  if (!item.IsNode()) return;
  const NodeRef& n = item.node();
  const TypeInfo* type = n.type;
  const rapidjson::Value* obj = type != nullptr && type->IsPrimitive() ? n.extras : n.json;
  if (obj == nullptr || !obj->IsObject()) return;
  for (const auto& m : obj->GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (key == "resourceType") continue;
    if (key[0] == '_') {
      // Only extensions of a primitive without a value: otherwise met with the value.
      if (FindMember(*obj, key.substr(1)) != nullptr) continue;
      key = key.substr(1);
    }
    if (type == nullptr || type->Find(key) != nullptr) {
      Status ignored = Member(item, key, out);
      (void)ignored;  // the element exists: Member cannot fail
      continue;
    }
    // A choice element's typed property (valueQuantity): find `value` and the type.
    const TypeInfo* found = nullptr;
    for (size_t len = 1; len < key.size() && found == nullptr; ++len) {
      if (!StartsUpper(key.substr(len))) continue;
      const ElementInfo* element = type->Find(key.substr(0, len));
      if (element == nullptr) continue;
      for (const TypeInfo* t : element->types) {
        if (ChoiceProperty(key.substr(0, len), t->name) == key) found = t;
      }
    }
    AppendProperty(FindMember(*obj, key), FindExtras(*obj, key), found, out);
  }
}

Status Evaluator::Variable(const AstNode& node, const Collection& focus, Collection& out) const {
  (void)focus;
  const std::string& name = node.name;
  auto add_json = [&](const rapidjson::Value* json) {
    if (json != nullptr) out.push_back(Item::Node({json, nullptr, ResourceType(*json)}));
  };
  if (name == "context") {
    out.insert(out.end(), context_.begin(), context_.end());
  } else if (name == "resource") {
    add_json(subject_.resource);
  } else if (name == "rootResource") {
    add_json(subject_.root_resource != nullptr ? subject_.root_resource : subject_.resource);
  } else if (name == "ucum") {
    out.push_back(Item::String("http://unitsofmeasure.org"));
  } else if (name == "sct") {
    out.push_back(Item::String("http://snomed.info/sct"));
  } else if (name == "loinc") {
    out.push_back(Item::String("http://loinc.org"));
  } else if (name.rfind("vs-", 0) == 0) {
    out.push_back(Item::String("http://hl7.org/fhir/ValueSet/" + name.substr(3)));
  } else if (name.rfind("ext-", 0) == 0) {
    out.push_back(Item::String("http://hl7.org/fhir/StructureDefinition/" + name.substr(4)));
  } else {
    for (auto it = defined_.rbegin(); it != defined_.rend(); ++it) {
      if (it->first == name) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return Status::Ok();
      }
    }
    if (subject_.variables != nullptr) {
      for (const auto& [n, value] : *subject_.variables) {
        if (n == name) {
          out.insert(out.end(), value.begin(), value.end());
          return Status::Ok();
        }
      }
    }
    return EvalError("unknown variable %" + name);
  }
  return Status::Ok();
}

}  // namespace fhirbridge::fhirpath
