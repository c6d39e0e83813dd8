// FHIRPath N1 §Math and §Tree navigation, and the functions FHIR adds (FHIR R4 §2.24.0.3
// fhirpath.html#functions): extension(), hasValue(), getValue(), resolve(), conformsTo(),
// memberOf(), subsumes(), htmlChecks().

#include <cmath>

#include "fhir-profiles/fhirpath/evaluator.h"

namespace fhirbridge::fhirpath {

namespace {

bool IsNumber(const Item& i) {
  return i.kind() == ItemKind::kInteger || i.kind() == ItemKind::kDecimal;
}

Decimal AsDecimal(const Item& i) {
  return i.kind() == ItemKind::kInteger ? Decimal::FromInteger(i.integer()) : i.decimal();
}

void PushDouble(double v, Collection& out) {
  if (std::optional<Decimal> d = Decimal::FromDouble(v)) out.push_back(Item::Dec(*d));
}

std::string_view Str(const rapidjson::Value& v) {
  return v.IsString() ? std::string_view(v.GetString(), v.GetStringLength()) : std::string_view();
}

const rapidjson::Value* Prop(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// A resource whose "Type/id" (or fullUrl) is `reference`, in a Bundle's entries.
const rapidjson::Value* FindInBundle(const rapidjson::Value& bundle, std::string_view reference) {
  const rapidjson::Value* entries = Prop(bundle, "entry");
  if (entries == nullptr || !entries->IsArray()) return nullptr;
  for (const auto& entry : entries->GetArray()) {
    const rapidjson::Value* resource = Prop(entry, "resource");
    if (resource == nullptr) continue;
    const rapidjson::Value* full_url = Prop(entry, "fullUrl");
    if (full_url != nullptr && Str(*full_url) == reference) return resource;
    const rapidjson::Value* type = Prop(*resource, "resourceType");
    const rapidjson::Value* id = Prop(*resource, "id");
    if (type == nullptr || id == nullptr) continue;
    std::string local = std::string(Str(*type)) + "/" + std::string(Str(*id));
    if (reference == local ||
        (reference.size() > local.size() &&
         reference.compare(reference.size() - local.size(), local.size(), local) == 0 &&
         reference[reference.size() - local.size() - 1] == '/')) {
      return resource;
    }
  }
  return nullptr;
}

const rapidjson::Value* FindContained(const rapidjson::Value* resource, std::string_view id) {
  if (resource == nullptr) return nullptr;
  const rapidjson::Value* contained = Prop(*resource, "contained");
  if (contained == nullptr || !contained->IsArray()) return nullptr;
  for (const auto& c : contained->GetArray()) {
    const rapidjson::Value* cid = Prop(c, "id");
    if (cid != nullptr && Str(*cid) == id) return &c;
  }
  return nullptr;
}

}  // namespace

Status Evaluator::MathFunction(const AstNode& node, const Collection& input,
                               const Collection& focus, Collection& out, bool& handled) {
  handled = true;
  switch (node.fn) {
    case Fn::kAbs:
    case Fn::kCeiling:
    case Fn::kExp:
    case Fn::kFloor:
    case Fn::kLn:
    case Fn::kLog:
    case Fn::kPower:
    case Fn::kRound:
    case Fn::kSqrt:
    case Fn::kTruncate:
      break;
    default:
      handled = false;
      return Status::Ok();
  }
  auto one = Singleton(input, node.name + "()");
  if (!one.ok()) return one.status();
  if (*one == nullptr) return Status::Ok();
  std::optional<Item> v = ToSystem(**one);
  if (v && v->kind() == ItemKind::kQuantity && node.fn == Fn::kAbs) {
    Quantity q = v->quantity();
    q.value = q.value.Abs();
    out.push_back(Item::Qty(std::move(q)));
    return Status::Ok();
  }
  if (!v || !IsNumber(*v)) return EvalError(node.name + "() applies to numbers");
  std::optional<Item> arg;
  if (node.children.size() > 1) {
    Collection a;
    FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, a));
    auto ai = Singleton(a, node.name + "() argument");
    if (!ai.ok()) return ai.status();
    if (*ai == nullptr) return Status::Ok();
    arg = ToSystem(**ai);
    if (!arg || !IsNumber(*arg)) return EvalError(node.name + "() expects a number argument");
  }
  const Decimal d = AsDecimal(*v);
  const bool integer = v->kind() == ItemKind::kInteger;
  auto whole = [&](Decimal::Rounding mode) {
    std::optional<int64_t> i = d.Rescale(0, mode).ToInteger();
    if (i) out.push_back(Item::Integer(*i));
  };
  switch (node.fn) {
    case Fn::kAbs:
      out.push_back(integer ? Item::Integer(std::llabs(v->integer())) : Item::Dec(d.Abs()));
      break;
    case Fn::kCeiling:
      whole(Decimal::Rounding::kCeiling);
      break;
    case Fn::kFloor:
      whole(Decimal::Rounding::kFloor);
      break;
    case Fn::kTruncate:
      whole(Decimal::Rounding::kTowardZero);
      break;
    case Fn::kRound: {
      int64_t digits = arg ? (arg->kind() == ItemKind::kInteger ? arg->integer() : 0) : 0;
      if (digits < 0) return EvalError("round() precision must not be negative");
      out.push_back(
          Item::Dec(d.Rescale(static_cast<int>(std::min<int64_t>(digits, Decimal::kMaxScale)),
                              Decimal::Rounding::kHalfAwayFromZero)));
      break;
    }
    case Fn::kExp:
      PushDouble(std::exp(d.ToDouble()), out);
      break;
    case Fn::kLn:
      PushDouble(std::log(d.ToDouble()), out);
      break;
    case Fn::kSqrt:
      PushDouble(std::sqrt(d.ToDouble()), out);
      break;
    case Fn::kLog:
      PushDouble(std::log(d.ToDouble()) / std::log(AsDecimal(*arg).ToDouble()), out);
      break;
    case Fn::kPower: {
      double r = std::pow(d.ToDouble(), AsDecimal(*arg).ToDouble());
      if (integer && arg->kind() == ItemKind::kInteger && std::isfinite(r) &&
          std::fabs(r) < 9.2e18 && r == std::floor(r)) {
        out.push_back(Item::Integer(static_cast<int64_t>(r)));
      } else {
        PushDouble(r, out);
      }
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

Status Evaluator::FhirFunction(const AstNode& node, const Collection& input,
                               const Collection& focus, Collection& out, bool& handled) {
  handled = true;
  switch (node.fn) {
    case Fn::kChildren:
      for (const Item& i : input) Children(i, out);
      return Status::Ok();
    case Fn::kDescendants: {
      Collection frontier = input;
      while (!frontier.empty()) {
        Collection next;
        for (const Item& i : frontier) Children(i, next);
        out.insert(out.end(), next.begin(), next.end());
        if (out.size() > kMaxCollectionItems)
          return Status::ResourceExhausted("collection too large");
        frontier = std::move(next);
      }
      return Status::Ok();
    }
    case Fn::kExtension: {
      Collection url;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, url));
      auto u = Singleton(url, "extension()");
      if (!u.ok()) return u.status();
      std::optional<std::string> wanted = *u ? ToStringForm(**u) : std::nullopt;
      if (!wanted) return Status::Ok();
      Collection extensions;
      for (const Item& i : input) {
        if (i.IsNode() && i.node().type != nullptr && i.node().type->Find("extension") != nullptr) {
          FHIRBRIDGE_RETURN_IF_ERROR(Member(i, "extension", extensions));
        }
      }
      for (const Item& e : extensions) {
        const rapidjson::Value* v = e.node().json ? Prop(*e.node().json, "url") : nullptr;
        if (v != nullptr && Str(*v) == *wanted) out.push_back(e);
      }
      return Status::Ok();
    }
    case Fn::kHasValue:
    case Fn::kGetValue: {
      bool has = input.size() == 1 && IsPrimitive(input[0]) &&
                 (!input[0].IsNode() || input[0].node().json != nullptr);
      if (node.fn == Fn::kHasValue) {
        out.push_back(Item::Boolean(has));
      } else if (has) {
        if (std::optional<Item> v = ToSystem(input[0])) out.push_back(*v);
      }
      return Status::Ok();
    }
    case Fn::kResolve:
      for (const Item& i : input) Resolve(i, out);
      return Status::Ok();
    case Fn::kConformsTo: {
      Collection url;
      FHIRBRIDGE_RETURN_IF_ERROR(Arg(node, 0, focus, url));
      auto u = Singleton(url, "conformsTo()");
      if (!u.ok()) return u.status();
      std::optional<std::string> profile = *u ? ToStringForm(**u) : std::nullopt;
      if (!profile) return Status::Ok();
      // Only the base definitions are known here (the validator checks profiles).
      static constexpr std::string_view kBase = "http://hl7.org/fhir/StructureDefinition/";
      const TypeInfo* type = profile->rfind(kBase, 0) == 0
                                 ? Model::R4().Find(std::string_view(*profile).substr(kBase.size()))
                                 : nullptr;
      if (type == nullptr) return EvalError("conformsTo(): unknown profile '" + *profile + "'");
      for (const Item& i : input) {
        out.push_back(
            Item::Boolean(i.IsNode() && i.node().type != nullptr && i.node().type->IsA(type)));
      }
      return Status::Ok();
    }
    case Fn::kMemberOf:
    case Fn::kSubsumes:
    case Fn::kSubsumedBy:
      // Terminology operations need a terminology service; without one the answer is unknown.
      return Status::Ok();
    case Fn::kHtmlChecks:
      out.push_back(Item::Boolean(true));
      return Status::Ok();
    default:
      handled = false;
      return Status::Ok();
  }
}

void Evaluator::Resolve(const Item& item, Collection& out) const {
  std::optional<std::string> reference;
  if (item.IsNode() && item.node().json != nullptr && !IsPrimitive(item)) {
    if (const rapidjson::Value* r = Prop(*item.node().json, "reference")) reference = Str(*r);
  } else {
    std::optional<Item> v = ToSystem(item);
    if (v && v->kind() == ItemKind::kString) reference = v->string();
  }
  if (!reference || reference->empty()) return;
  const rapidjson::Value* found = nullptr;
  if ((*reference)[0] == '#') {
    found = FindContained(subject_.resource, std::string_view(*reference).substr(1));
    if (found == nullptr)
      found = FindContained(subject_.root_resource, std::string_view(*reference).substr(1));
  } else {
    if (subject_.root_resource != nullptr)
      found = FindInBundle(*subject_.root_resource, *reference);
    if (found == nullptr && subject_.resource != nullptr)
      found = FindInBundle(*subject_.resource, *reference);
  }
  if (found != nullptr) out.push_back(Item::Node({found, nullptr, ResourceType(*found)}));
}

}  // namespace fhirbridge::fhirpath
