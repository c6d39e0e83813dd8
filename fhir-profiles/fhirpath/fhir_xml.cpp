#include "fhir-profiles/fhirpath/fhir_xml.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "fhir-profiles/fhirpath/model.h"

namespace fhirbridge::fhirpath {

namespace {

using Allocator = rapidjson::Document::AllocatorType;

struct Resolved {
  const ElementInfo* element = nullptr;
  const TypeInfo* type = nullptr;
  std::string json_name;
};

// The element and type an XML child names: a plain element, or a choice element's typed name.
Resolved Resolve(const TypeInfo* owner, std::string_view name) {
  Resolved r;
  if (owner == nullptr) return r;
  if (const ElementInfo* e = owner->Find(name); e != nullptr && !e->IsChoice()) {
    r.element = e;
    r.type = e->types.empty() ? nullptr : e->types[0];
    r.json_name = std::string(name);
    return r;
  }
  for (size_t len = 1; len < name.size(); ++len) {
    if (!std::isupper(static_cast<unsigned char>(name[len]))) continue;
    const ElementInfo* e = owner->Find(name.substr(0, len));
    if (e == nullptr || !e->IsChoice()) continue;
    for (const TypeInfo* t : e->types) {
      if (ChoiceProperty(name.substr(0, len), t->name) == name) {
        r.element = e;
        r.type = t;
        r.json_name = std::string(name);
        return r;
      }
    }
  }
  return r;
}

bool IsA(const TypeInfo* t, std::string_view name) {
  for (; t != nullptr; t = t->base) {
    if (t->name == name) return true;
  }
  return false;
}

class Converter {
 public:
  Converter(Allocator& alloc, const FhirXmlLimits& limits) : alloc_(alloc), limits_(limits) {}

  Status Resource(const pugi::xml_node& node, rapidjson::Value& out, int depth) {
    const TypeInfo* type = Model::R4().Find(node.name());
    if (type == nullptr || !type->IsResource()) {
      return Status::InvalidArgument(std::string("<") + node.name() + "> is not a FHIR resource");
    }
    out.SetObject();
    out.AddMember("resourceType", rapidjson::Value(node.name(), alloc_), alloc_);
    return Members(node, type, out, depth);
  }

 private:
  Status Members(const pugi::xml_node& node, const TypeInfo* type, rapidjson::Value& out,
                 int depth) {
    if (depth >= limits_.max_depth) return Status::ResourceExhausted("XML nested too deeply");
    if (pugi::xml_attribute id = node.attribute("id")) {
      out.AddMember("id", rapidjson::Value(id.value(), alloc_), alloc_);
    }
    if (pugi::xml_attribute url = node.attribute("url"); url && type->Find("url") != nullptr) {
      out.AddMember("url", rapidjson::Value(url.value(), alloc_), alloc_);
    }
    // Children in document order, grouped by name (a repeating element's items are adjacent).
    std::vector<std::string> order;
    for (pugi::xml_node child : node.children()) {
      if (child.type() != pugi::node_element) continue;
      if (std::find(order.begin(), order.end(), child.name()) == order.end()) {
        order.push_back(child.name());
      }
    }
    for (const std::string& name : order) {
      Resolved r = Resolve(type, name);
      if (r.element == nullptr || r.type == nullptr) continue;
      std::vector<pugi::xml_node> items;
      for (pugi::xml_node child : node.children(name.c_str())) items.push_back(child);
      FHIRBRIDGE_RETURN_IF_ERROR(Property(r, items, out, depth));
    }
    return Status::Ok();
  }

  Status Property(const Resolved& r, const std::vector<pugi::xml_node>& items,
                  rapidjson::Value& out, int depth) {
    const bool primitive = r.type->IsPrimitive();
    rapidjson::Value values(rapidjson::kArrayType);
    rapidjson::Value extras(rapidjson::kArrayType);
    bool any_value = false, any_extra = false;
    for (const pugi::xml_node& item : items) {
      rapidjson::Value v, x;
      if (r.type->name == "xhtml") {
        std::ostringstream text;
        item.print(text, "", pugi::format_raw);
        v.SetString(text.str().c_str(), static_cast<rapidjson::SizeType>(text.str().size()),
                    alloc_);
      } else if (primitive) {
        FHIRBRIDGE_RETURN_IF_ERROR(Primitive(item, r.type, v, x, depth));
      } else if (r.type->IsResource()) {
        pugi::xml_node inner = item.first_child();
        while (inner && inner.type() != pugi::node_element) inner = inner.next_sibling();
        if (!inner) continue;
        FHIRBRIDGE_RETURN_IF_ERROR(Resource(inner, v, depth + 1));
      } else {
        v.SetObject();
        FHIRBRIDGE_RETURN_IF_ERROR(Members(item, r.type, v, depth + 1));
      }
      any_value = any_value || !v.IsNull();
      any_extra = any_extra || !x.IsNull();
      values.PushBack(v, alloc_);
      extras.PushBack(x, alloc_);
    }
    std::string extra_name = "_" + r.json_name;
    if (r.element->repeats) {
      if (any_value) out.AddMember(rapidjson::Value(r.json_name.c_str(), alloc_), values, alloc_);
      if (any_extra) out.AddMember(rapidjson::Value(extra_name.c_str(), alloc_), extras, alloc_);
    } else if (!values.Empty()) {
      if (!values[0].IsNull()) {
        out.AddMember(rapidjson::Value(r.json_name.c_str(), alloc_), values[0], alloc_);
      }
      if (!extras[0].IsNull()) {
        out.AddMember(rapidjson::Value(extra_name.c_str(), alloc_), extras[0], alloc_);
      }
    }
    return Status::Ok();
  }

  // A primitive: its value attribute (JSON boolean for booleans, number text kept as a string
  // like ParseFhirJson), and its id/extensions as the `_name` object.
  Status Primitive(const pugi::xml_node& item, const TypeInfo* type, rapidjson::Value& value,
                   rapidjson::Value& extras, int depth) {
    if (pugi::xml_attribute v = item.attribute("value")) {
      if (IsA(type, "boolean")) {
        value.SetBool(std::string_view(v.value()) == "true");
      } else {
        value.SetString(v.value(), alloc_);
      }
    }
    bool has_extras = item.attribute("id") || item.child("extension");
    if (has_extras) {
      extras.SetObject();
      static const TypeInfo* element = Model::R4().Find("Element");
      FHIRBRIDGE_RETURN_IF_ERROR(Members(item, element, extras, depth + 1));
    }
    return Status::Ok();
  }

  Allocator& alloc_;
  const FhirXmlLimits& limits_;
};

}  // namespace

Status FhirXmlToJson(std::string_view xml, rapidjson::Document& out, const FhirXmlLimits& limits) {
  if (xml.size() > limits.max_bytes) return Status::ResourceExhausted("XML input too large");
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default);
  if (!parsed) {
    return Status::InvalidArgument(std::string("malformed XML: ") + parsed.description() +
                                   " at offset " + std::to_string(parsed.offset));
  }
  pugi::xml_node root = doc.document_element();
  if (!root) return Status::InvalidArgument("XML has no root element");
  Converter converter(out.GetAllocator(), limits);
  return converter.Resource(root, out, 0);
}

}  // namespace fhirbridge::fhirpath
