#include "fhir-profiles/validator/structure.h"

#include <cstdlib>
#include <unordered_map>

#include "fhir-profiles/validator/definitions.h"

namespace fhirbridge::validator {

namespace {

std::string_view Str(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::uint32_t ParseMax(std::string_view max) {
  if (max.empty() || max == "*") return kUnbounded;
  return static_cast<std::uint32_t>(std::strtoul(std::string(max).c_str(), nullptr, 10));
}

// R4 writes the type of Element.id, Extension.url and the primitive values as FHIRPath system
// types; the digest replaces them by the fhir-type extension, loaded definitions may not.
std::string NormalizeTypeCode(std::string_view code) {
  constexpr std::string_view kSystem = "http://hl7.org/fhirpath/System.";
  if (code.substr(0, kSystem.size()) != kSystem) return std::string(code);
  std::string_view t = code.substr(kSystem.size());
  if (t == "String") return "string";
  if (t == "Boolean") return "boolean";
  if (t == "Integer") return "integer";
  if (t == "Decimal") return "decimal";
  if (t == "Date") return "date";
  if (t == "DateTime") return "dateTime";
  if (t == "Time") return "time";
  return "string";
}

std::vector<std::string> Strings(const rapidjson::Value& v, const char* key) {
  std::vector<std::string> out;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& s : it->value.GetArray())
    if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
  return out;
}

void ReadTypes(const rapidjson::Value& e, const Definitions& defs, ElementNode& node) {
  auto it = e.FindMember("type");
  if (it == e.MemberEnd() || !it->value.IsArray()) return;
  for (const auto& t : it->value.GetArray()) {
    TypeRef ref;
    ref.code = NormalizeTypeCode(Str(t, "code"));
    ref.profiles = Strings(t, "profile");
    ref.target_profiles = Strings(t, "targetProfile");
    for (const std::string& a : Strings(t, "aggregation")) ref.bundled |= a == "bundled";
    for (const std::string& p : ref.target_profiles) {
      const rapidjson::Value* sd = defs.StructureByUrl(p);
      if (sd == nullptr) ref.unknown_targets.push_back(p);
      // An unknown target profile constrains nothing we can check.
      ref.target_types.push_back(sd ? std::string(Str(*sd, "type")) : "Resource");
    }
    node.types.push_back(std::move(ref));
  }
}

void ReadValues(const rapidjson::Value& e, ElementNode& node) {
  for (auto m = e.MemberBegin(); m != e.MemberEnd(); ++m) {
    std::string_view k(m->name.GetString(), m->name.GetStringLength());
    if (k.substr(0, 5) == "fixed") {
      node.fixed = &m->value;
      node.fixed_name = std::string(k);
    } else if (k.substr(0, 7) == "pattern") {
      node.pattern = &m->value;
      node.fixed_name = std::string(k);
    } else if (k.substr(0, 8) == "minValue") {
      node.min_value = &m->value;
    } else if (k.substr(0, 8) == "maxValue") {
      node.max_value = &m->value;
    }
  }
}

void ReadBinding(const rapidjson::Value& e, const Definitions& defs, ElementNode& node) {
  auto it = e.FindMember("binding");
  if (it == e.MemberEnd() || !it->value.IsObject()) return;
  std::string_view s = Str(it->value, "strength");
  node.binding = s == "required"     ? BindingStrength::kRequired
                 : s == "extensible" ? BindingStrength::kExtensible
                 : s == "preferred"  ? BindingStrength::kPreferred
                                     : BindingStrength::kExample;
  node.value_set = std::string(Str(it->value, "valueSet"));
  if (node.binding == BindingStrength::kRequired && !node.value_set.empty())
    node.codes = defs.ValueSetCodes(node.value_set);
}

void ReadConstraints(const rapidjson::Value& e, const std::string& url, ElementNode& node) {
  auto it = e.FindMember("constraint");
  if (it == e.MemberEnd() || !it->value.IsArray()) return;
  for (const auto& c : it->value.GetArray()) {
    Invariant inv;
    inv.key = std::string(Str(c, "key"));
    // ele-1 (value or children) and ext-1 (extension or value, not both) are checked directly
    // by the structure walk, on every element: no FHIRPath needed.
    // ref-1 (a local reference has its contained resource) is the walk's contained-reference
    // check.
    if (inv.key == "ele-1" || inv.key == "ext-1" || inv.key == "ref-1") continue;
    inv.human = std::string(Str(c, "human"));
    inv.expression = std::string(Str(c, "expression"));
    inv.error = Str(c, "severity") != "warning";
    inv.source = url;
    inv.native = FindNativeInvariant(inv.key, inv.expression);
    if (!inv.expression.empty()) node.invariants.push_back(std::move(inv));
  }
}

// Extensions on ElementDefinition that carry rules (R4 registry and the R5 backports).
void ReadElementExtensions(const rapidjson::Value& e, const Definitions& defs, ElementNode& node) {
  auto ext = e.FindMember("extension");
  if (ext != e.MemberEnd() && ext->value.IsArray()) {
    for (const auto& x : ext->value.GetArray()) {
      std::string_view url = Str(x, "url");
      auto b = x.FindMember("valueBoolean");
      auto i = x.FindMember("valueInteger");
      if (url.ends_with("ElementDefinition.mustHaveValue") && b != x.MemberEnd() &&
          b->value.IsBool())
        node.must_have_value = b->value.GetBool();
      if (url.ends_with("ElementDefinition.valueAlternatives"))
        if (std::string_view alt = Str(x, "valueCanonical"); !alt.empty())
          node.value_alternatives.emplace_back(alt);
      if (url == "http://hl7.org/fhir/StructureDefinition/minLength" && i != x.MemberEnd() &&
          i->value.IsUint())
        node.min_length = i->value.GetUint();
    }
  }
  auto binding = e.FindMember("binding");
  if (binding == e.MemberEnd() || !binding->value.IsObject()) return;
  auto bext = binding->value.FindMember("extension");
  if (bext == binding->value.MemberEnd() || !bext->value.IsArray()) return;
  for (const auto& x : bext->value.GetArray()) {
    if (!Str(x, "url").ends_with("binding.additional")) continue;
    auto parts = x.FindMember("extension");
    if (parts == x.MemberEnd() || !parts->value.IsArray()) continue;
    std::string_view purpose, vs;
    for (const auto& p : parts->value.GetArray()) {
      if (Str(p, "url") == "purpose") purpose = Str(p, "valueCode");
      if (Str(p, "url") == "valueSet") vs = Str(p, "valueCanonical");
    }
    if (purpose == "required" && !vs.empty())
      if (const CodeSet* codes = defs.ValueSetCodes(vs)) node.additional_required.push_back(codes);
  }
}

void ReadSlicing(const rapidjson::Value& e, ElementNode& node) {
  auto it = e.FindMember("slicing");
  if (it == e.MemberEnd() || !it->value.IsObject()) return;
  auto s = std::make_unique<Slicing>();
  s->closed = Str(it->value, "rules") == "closed";
  auto ord = it->value.FindMember("ordered");
  s->ordered = ord != it->value.MemberEnd() && ord->value.IsBool() && ord->value.GetBool();
  auto d = it->value.FindMember("discriminator");
  if (d != it->value.MemberEnd() && d->value.IsArray()) {
    for (const auto& x : d->value.GetArray()) {
      Discriminator disc;
      std::string_view type = Str(x, "type");
      disc.kind = type == "pattern"   ? Discriminator::Kind::kPattern
                  : type == "type"    ? Discriminator::Kind::kType
                  : type == "profile" ? Discriminator::Kind::kProfile
                  : type == "exists"  ? Discriminator::Kind::kExists
                                      : Discriminator::Kind::kValue;
      disc.path = std::string(Str(x, "path"));
      s->discriminators.push_back(std::move(disc));
    }
  }
  node.slicing = std::move(s);
}

// The id of an element that has none (older profiles): the path, with the slice names of the
// nearest enclosing slices.
std::string DeriveId(std::string_view path, std::string_view slice_name,
                     std::unordered_map<std::string, std::string>& open_slices) {
  std::string id(path);
  // Replace the longest path prefix that has an open slice.
  for (std::size_t cut = path.size(); cut != std::string_view::npos && cut > 0;
       cut = path.rfind('.', cut - 1)) {
    auto it = open_slices.find(std::string(path.substr(0, cut)));
    if (it != open_slices.end()) {
      id = it->second + std::string(path.substr(cut));
      break;
    }
    if (cut == 0) break;
  }
  if (!slice_name.empty()) {
    id += ":" + std::string(slice_name);
    open_slices[std::string(path)] = id;
  }
  return id;
}

}  // namespace

// The definition at a relative path below `node` (following children, then the slice's type
// profile for extension urls).
const ElementNode* Descend(const ElementNode& node, std::string_view path, bool into_slices) {
  const ElementNode* n = &node;
  while (!path.empty() && path != "$this") {
    std::size_t dot = path.find('.');
    std::string_view head = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (head.substr(0, 7) == "ofType(") continue;
    const ElementNode* next = nullptr;
    for (const ElementNode* c : n->Children())
      if (c->name == head || (c->choice && head.size() > c->name.size() &&
                              head.compare(0, c->name.size(), c->name) == 0))
        next = c;
    if (next == nullptr) return nullptr;
    // A discriminator through a sliced element (component: code.coding.code) takes its value
    // from the slice that fixes it (coding:SBPCode.code).
    if (into_slices && !next->slices.empty()) next = next->slices[0];
    n = next;
  }
  return n;
}

const TypeRef* ElementNode::FindType(std::string_view code) const {
  for (const TypeRef& t : types)
    if (t.code == code) return &t;
  return nullptr;
}

const ElementNode* ElementNode::FindChild(std::string_view json, std::string_view& type) const {
  for (const ElementNode* c : Children()) {
    if (!c->choice) {
      if (c->name == json) {
        type = {};
        return c;
      }
      continue;
    }
    const std::string& n = c->name;
    if (json.size() <= n.size() || json.compare(0, n.size(), n) != 0) continue;
    std::string_view suffix = json.substr(n.size());
    for (const TypeRef& t : c->types) {
      // valueQuantity -> Quantity, valueString -> string (FHIR R4 §2.6.2.4 choice names)
      if (t.code.size() == suffix.size() &&
          (t.code[0] == suffix[0] || t.code[0] + 'A' - 'a' == suffix[0]) &&
          suffix.substr(1) == std::string_view(t.code).substr(1)) {
        type = t.code;
        return c;
      }
    }
  }
  return nullptr;
}

std::uint32_t ElementNode::Lookup(std::string_view json, const TypeRef*& type) const {
  const ElementNode& o = ChildOwner();
  type = nullptr;
  const std::uint64_t head = NameHead(json);
  for (const NameKey& k : o.child_index) {
    if (k.head != head || k.length != json.size()) continue;
    if (json.size() <= 8 || o.children[k.index]->name == json) return k.index;
  }
  for (std::uint32_t i : o.choice_children) {
    const ElementNode* c = o.children[i];
    const std::string& n = c->name;
    if (json.size() <= n.size() || json.compare(0, n.size(), n) != 0) continue;
    std::string_view suffix = json.substr(n.size());
    for (const TypeRef& t : c->types) {
      // valueQuantity -> Quantity, valueString -> string (FHIR R4 §2.6.2.4 choice names)
      if (t.code.size() == suffix.size() &&
          suffix.substr(1) == std::string_view(t.code).substr(1) &&
          (t.code[0] == suffix[0] || t.code[0] - 'a' + 'A' == suffix[0])) {
        type = &t;
        return i;
      }
    }
  }
  return static_cast<std::uint32_t>(o.children.size());
}

void LinkTypes(Structure& s,
               const std::unordered_map<std::string, std::unique_ptr<Structure>>& types,
               const Definitions& defs) {
  for (ElementNode& n : s.nodes) {
    for (TypeRef& t : n.types) {
      auto it = types.find(t.code);
      if (it != types.end()) t.structure = it->second.get();
      t.is_resource = t.code == "Resource" || defs.IsResourceType(t.code);
    }
  }
}

Result<std::unique_ptr<Structure>> CompileStructure(const rapidjson::Value& sd,
                                                    const Definitions& defs) {
  auto s = std::make_unique<Structure>();
  s->definition = &sd;
  s->url = std::string(Str(sd, "url"));
  s->version = std::string(Str(sd, "version"));
  s->name = std::string(Str(sd, "name"));
  s->type = std::string(Str(sd, "type"));
  s->kind = std::string(Str(sd, "kind"));
  s->is_profile = Str(sd, "derivation") == "constraint";
  s->is_extension = s->type == "Extension";
  if (auto ctx = sd.FindMember("context"); ctx != sd.MemberEnd() && ctx->value.IsArray()) {
    for (const auto& c : ctx->value.GetArray())
      if (c.IsObject()) s->contexts.emplace_back(Str(c, "expression"));
  }
  auto snap = sd.FindMember("snapshot");
  if (snap == sd.MemberEnd() || !snap->value.HasMember("element") ||
      !snap->value["element"].IsArray() || snap->value["element"].Empty())
    return Status::InvalidArgument(s->url + ": StructureDefinition has no snapshot");

  std::unordered_map<std::string, ElementNode*> by_id;
  std::unordered_map<std::string, std::string> open_slices;
  std::vector<std::pair<ElementNode*, std::string>> content_refs;
  for (const auto& e : snap->value["element"].GetArray()) {
    if (!e.IsObject()) continue;
    ElementNode& node = s->nodes.emplace_back();
    node.owner = s.get();
    node.path = std::string(Str(e, "path"));
    node.slice_name = std::string(Str(e, "sliceName"));
    node.id = std::string(Str(e, "id"));
    if (node.id.empty()) node.id = DeriveId(node.path, node.slice_name, open_slices);
    std::size_t dot = node.path.rfind('.');
    node.name = dot == std::string::npos ? node.path : node.path.substr(dot + 1);
    if (node.name.size() > 3 && node.name.compare(node.name.size() - 3, 3, "[x]") == 0) {
      node.choice = true;
      node.name.resize(node.name.size() - 3);
    }
    if (auto m = e.FindMember("min"); m != e.MemberEnd() && m->value.IsUint())
      node.min = m->value.GetUint();
    node.max = ParseMax(Str(e, "max"));
    std::string_view base_max = node.max == kUnbounded ? "*" : Str(e, "max");
    if (auto b = e.FindMember("base"); b != e.MemberEnd() && b->value.IsObject())
      base_max = Str(b->value, "max");
    node.is_array = base_max != "1" && base_max != "0";
    if (auto m = e.FindMember("maxLength"); m != e.MemberEnd() && m->value.IsUint())
      node.max_length = m->value.GetUint();
    if (auto m = e.FindMember("mustHaveValue"); m != e.MemberEnd() && m->value.IsBool())
      node.must_have_value = m->value.GetBool();
    ReadTypes(e, defs, node);
    ReadValues(e, node);
    ReadBinding(e, defs, node);
    ReadConstraints(e, s->url, node);
    ReadSlicing(e, node);
    ReadElementExtensions(e, defs, node);
    std::string_view cref = Str(e, "contentReference");
    if (!cref.empty())
      content_refs.emplace_back(&node, std::string(cref.substr(cref.find('#') + 1)));

    if (s->root == nullptr) {
      s->root = &node;
      by_id[node.id] = &node;
      continue;
    }
    // The parent is the id up to the last '.'; a slice hangs off the unsliced element.
    std::string_view id = node.id;
    std::size_t last_dot = id.rfind('.');
    std::size_t colon = id.rfind(':');
    if (!node.slice_name.empty() && colon != std::string_view::npos &&
        (last_dot == std::string_view::npos || colon > last_dot)) {
      std::string sliced(id.substr(0, colon));
      std::size_t slash = sliced.rfind('/');  // re-slice "a:b/c": a slice of slice b
      (void)slash;
      auto it = by_id.find(sliced);
      if (it != by_id.end()) it->second->slices.push_back(&node);
    } else if (last_dot != std::string_view::npos) {
      auto parent = by_id.find(std::string(id.substr(0, last_dot)));
      if (parent != by_id.end()) {
        // R4 profiles may name a choice type directly (Observation.valueQuantity): treat it as a
        // type slice of the choice element.
        const ElementNode* choice = nullptr;
        if (!node.choice) {
          for (const ElementNode* c : parent->second->children)
            if (c->choice && node.name.size() > c->name.size() &&
                node.name.compare(0, c->name.size(), c->name) == 0)
              choice = c;
        }
        if (choice != nullptr) {
          auto* ch = const_cast<ElementNode*>(choice);
          if (!ch->slicing) {
            ch->slicing = std::make_unique<Slicing>();
            ch->slicing->discriminators.push_back({Discriminator::Kind::kType, "$this"});
          }
          node.slice_name = node.name;
          node.name = ch->name;
          node.choice = true;
          ch->slices.push_back(&node);
        } else {
          parent->second->children.push_back(&node);
        }
      }
    }
    by_id[node.id] = &node;
  }
  for (ElementNode& n : s->nodes) {
    for (std::uint32_t i = 0; i < n.children.size(); ++i) {
      const ElementNode* c = n.children[i];
      if (c->choice) {
        n.choice_children.push_back(i);
      } else {
        n.child_index.push_back({NameHead(c->name), static_cast<std::uint32_t>(c->name.size()), i});
      }
    }
  }
  for (auto& [node, target] : content_refs) {
    auto it = by_id.find(target);
    if (it == by_id.end()) {
      // Older definitions reference by path; the unsliced element has id == path.
      for (ElementNode& n : s->nodes)
        if (n.path == target && n.slice_name.empty()) {
          node->content_ref = &n;
          break;
        }
    } else {
      node->content_ref = it->second;
    }
  }
  for (ElementNode& n : s->nodes) {
    if (!n.slicing) continue;
    for (const ElementNode* slice : n.slices) {
      auto* sl = const_cast<ElementNode*>(slice);
      for (const Discriminator& d : n.slicing->discriminators) {
        const ElementNode* t = Descend(*slice, d.path);
        if (t == nullptr || (!t->fixed && !t->pattern)) {
          const ElementNode* alt = Descend(*slice, d.path, true);
          if (alt && (alt->fixed || alt->pattern)) t = alt;
        }
        sl->discriminator_nodes.push_back(t);
      }
    }
  }
  return s;
}

}  // namespace fhirbridge::validator
