#include "fhir-profiles/validator/xml_reader.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>
#include <pugixml.hpp>
#include <sstream>
#include <string>

#include "fhir-profiles/validator/validator.h"

namespace fhirbridge::validator {

namespace {

constexpr std::string_view kFhirNs = "http://hl7.org/fhir";
using Alloc = rapidjson::Document::AllocatorType;

std::string_view LocalName(const pugi::xml_node& n) {
  std::string_view name = n.name();
  std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// XML 1.0 §4.6 predefines five entities; FHIR XML declares no others (no DTD).
Status CheckEntities(std::string_view xml) {
  for (std::size_t i = xml.find('&'); i != std::string_view::npos; i = xml.find('&', i + 1)) {
    std::size_t semi = xml.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) continue;
    std::string_view name = xml.substr(i + 1, semi - i - 1);
    if (name.empty() || name[0] == '#') continue;
    if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") continue;
    return Status::InvalidArgument("The entity \"" + std::string(name) +
                                   "\" was referenced, but not declared.");
  }
  return Status::Ok();
}

class Converter {
 public:
  Converter(const Validator& v, Alloc& a, DataIssues& issues, const XmlLimits& limits)
      : v_(v), a_(a), issues_(issues), limits_(limits) {}

  void Resource(const pugi::xml_node& x, rapidjson::Value& out, const std::string& path) {
    std::string type(LocalName(x));
    out.SetObject();
    out.AddMember("resourceType", rapidjson::Value(type.c_str(), a_), a_);
    const Structure* s = v_.ForType(type);
    if (s == nullptr) return;  // the validator reports the unknown type
    for (pugi::xml_attribute at : x.attributes()) {
      std::string_view an = at.name();
      if (an == "xmlns" || an.substr(0, 6) == "xmlns:") continue;
      Issue("structure", path,
            "Undefined attribute '@" + std::string(an) + "' on " + type + " for type " + type);
    }
    Children(x, s->root->Children(), out, path, 0);
  }

 private:
  void Issue(const char* code, const std::string& path, std::string text) {
    issues_.push_back({DataIssue::Severity::kError, code, path, std::move(text)});
  }

  void Children(const pugi::xml_node& x, const std::vector<const ElementNode*>& defs,
                rapidjson::Value& obj, const std::string& path, std::size_t depth) {
    if (depth > limits_.max_depth) {
      Issue("too-costly", path, "XML nested deeper than " + std::to_string(limits_.max_depth));
      return;
    }
    for (pugi::xml_node c = x.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
        std::string_view text = c.value();
        if (text.find_first_not_of(" \t\r\n") != std::string_view::npos)
          Issue("structure", path,
                "Text should not be present ('" + std::string(text.substr(0, 40)) + "')");
        continue;
      }
      if (c.type() != pugi::node_element) continue;
      std::string name(LocalName(c));
      const ElementNode* def = nullptr;
      std::string_view type;
      for (const ElementNode* d : defs) {
        std::string_view t;
        if (!d->choice && d->name == name) {
          def = d;
          break;
        }
        if (d->choice && name.size() > d->name.size() &&
            name.compare(0, d->name.size(), d->name) == 0) {
          std::string_view suffix = std::string_view(name).substr(d->name.size());
          for (const TypeRef& tr : d->types)
            if (tr.code.size() == suffix.size() &&
                std::string_view(tr.code).substr(1) == suffix.substr(1) &&
                (tr.code[0] == suffix[0] || tr.code[0] - 'a' + 'A' == suffix[0]))
              t = tr.code;
          if (!t.empty()) {
            def = d;
            type = t;
            break;
          }
        }
      }
      if (def == nullptr) {
        Issue("structure", path + "/f:" + name, "Undefined element '" + name + "' at " + path);
        continue;
      }
      if (type.empty()) {
        if (def->types.size() >= 1 && def->content_ref == nullptr)
          type = def->types[0].code;
        else
          type = "BackboneElement";
      }
      Element(c, *def, type, name, obj, path + "/f:" + name, depth);
    }
  }

  rapidjson::Value PrimitiveValue(std::string_view type, const char* text) {
    char* end = nullptr;
    if (type == "boolean") {
      if (std::string_view(text) == "true") return rapidjson::Value(true);
      if (std::string_view(text) == "false") return rapidjson::Value(false);
    } else if (type == "integer" || type == "positiveInt" || type == "unsignedInt") {
      long long v = std::strtoll(text, &end, 10);
      if (*text && end && *end == 0 && v >= INT32_MIN && v <= INT32_MAX)
        return rapidjson::Value(static_cast<int>(v));
    } else if (type == "decimal") {
      double d = std::strtod(text, &end);
      if (*text && end && *end == 0) return rapidjson::Value(d);
    }
    return rapidjson::Value(text, a_);
  }

  void Append(rapidjson::Value& obj, const std::string& key, rapidjson::Value value, bool array,
              bool primitive_array_align) {
    (void)primitive_array_align;
    auto it = obj.FindMember(key.c_str());
    if (!array) {
      if (it != obj.MemberEnd()) {
        // A repeated single element: keep both, so the validator reports the cardinality.
        if (!it->value.IsArray()) {
          rapidjson::Value arr(rapidjson::kArrayType);
          arr.PushBack(it->value, a_);
          it->value = arr;
        }
        it->value.PushBack(value, a_);
        return;
      }
      obj.AddMember(rapidjson::Value(key.c_str(), a_), value, a_);
      return;
    }
    if (it == obj.MemberEnd()) {
      obj.AddMember(rapidjson::Value(key.c_str(), a_), rapidjson::Value(rapidjson::kArrayType), a_);
      it = obj.FindMember(key.c_str());
    }
    it->value.PushBack(value, a_);
  }

  void Element(const pugi::xml_node& c, const ElementNode& def, std::string_view type,
               const std::string& name, rapidjson::Value& obj, const std::string& path,
               std::size_t depth) {
    if (type == "xhtml") {
      std::ostringstream os;
      c.print(os, "", pugi::format_raw);
      Append(obj, name, rapidjson::Value(os.str().c_str(), a_), def.is_array, false);
      return;
    }
    if (IsPrimitiveType(type)) {
      Primitive(c, def, type, name, obj, path, depth);
      return;
    }
    rapidjson::Value child(rapidjson::kObjectType);
    if (type == "Resource" || v_.definitions().IsResourceType(type)) {
      pugi::xml_node inner = c.first_child();
      while (inner && inner.type() != pugi::node_element) inner = inner.next_sibling();
      if (inner) Resource(inner, child, path + "/" + std::string(LocalName(inner)));
      Append(obj, name, std::move(child), def.is_array, false);
      return;
    }
    for (pugi::xml_attribute at : c.attributes()) {
      std::string_view an = at.name();
      if (an == "id" || (an == "url" && (type == "Extension"))) {
        child.AddMember(rapidjson::Value(at.name(), a_), rapidjson::Value(at.value(), a_), a_);
      } else if (an.substr(0, 5) != "xmlns") {
        Issue("structure", path,
              "Undefined attribute '@" + std::string(an) + "' on " + name + " for type " +
                  std::string(type));
      }
    }
    const std::vector<const ElementNode*>* kids = &def.Children();
    const Structure* ts = v_.ForType(type);
    if (kids->empty() && ts) kids = &ts->root->Children();
    if (type == "Extension") {
      if (const Structure* ext = v_.ForType("Extension")) kids = &ext->root->Children();
    }
    Children(c, *kids, child, path, depth + 1);
    Append(obj, name, std::move(child), def.is_array, false);
  }

  void Primitive(const pugi::xml_node& c, const ElementNode& def, std::string_view type,
                 const std::string& name, rapidjson::Value& obj, const std::string& path,
                 std::size_t depth) {
    rapidjson::Value value;  // null when there is no value attribute
    rapidjson::Value ext(rapidjson::kObjectType);
    for (pugi::xml_attribute at : c.attributes()) {
      std::string_view an = at.name();
      if (an == "value") {
        value = PrimitiveValue(type, at.value());
      } else if (an == "id") {
        ext.AddMember("id", rapidjson::Value(at.value(), a_), a_);
      } else if (an.substr(0, 5) != "xmlns") {
        Issue("structure", path,
              "Undefined attribute '@" + std::string(an) + "' on " + name + " for type " +
                  std::string(type));
      }
    }
    const Structure* element = v_.ForType("Element");
    if (element) Children(c, element->root->Children(), ext, path, depth + 1);
    // An element with neither value nor extensions stays visible to the validator as `_name: {}`.
    bool has_ext = ext.MemberCount() > 0 || value.IsNull();
    std::string under = "_" + name;
    if (!def.is_array) {
      if (!value.IsNull() || !has_ext) Append(obj, name, std::move(value), false, false);
      if (has_ext) Append(obj, under, std::move(ext), false, false);
      if (!value.IsNull() || !has_ext) return;
      return;
    }
    // Arrays of primitives: `name` and `_name` stay aligned, with nulls where one side is absent.
    auto vi = obj.FindMember(name.c_str());
    std::size_t n = vi != obj.MemberEnd() && vi->value.IsArray() ? vi->value.Size() : 0;
    auto ei = obj.FindMember(under.c_str());
    std::size_t m = ei != obj.MemberEnd() && ei->value.IsArray() ? ei->value.Size() : 0;
    std::size_t before = std::max(n, m);
    auto pad = [&](const std::string& key, std::size_t have) {
      for (std::size_t k = have; k < before; ++k) Append(obj, key, rapidjson::Value(), true, false);
    };
    if (has_ext || m > 0) {
      pad(under, m);
      Append(obj, under, has_ext ? std::move(ext) : rapidjson::Value(), true, false);
    }
    pad(name, n);
    Append(obj, name, std::move(value), true, false);
  }

  const Validator& v_;
  Alloc& a_;
  DataIssues& issues_;
  const XmlLimits& limits_;
};

}  // namespace

Status XmlToJson(std::string_view xml, const Validator& validator, rapidjson::Document& out,
                 DataIssues& issues, const XmlLimits& limits) {
  if (xml.size() > limits.max_bytes)
    return Status::ResourceExhausted("XML larger than " + std::to_string(limits.max_bytes) +
                                     " bytes");
  FHIRBRIDGE_RETURN_IF_ERROR(CheckEntities(xml));
  pugi::xml_document doc;
  pugi::xml_parse_result r =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata_single);
  if (!r)
    return Status::InvalidArgument(std::string("XML error at offset ") + std::to_string(r.offset) +
                                   ": " + r.description());
  pugi::xml_node root = doc.document_element();
  if (!root) return Status::InvalidArgument("no root element");
  std::string_view ns = root.attribute("xmlns").value();
  if (ns != kFhirNs) {
    std::string_view name = root.name();
    std::size_t colon = name.find(':');
    std::string attr =
        colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(name.substr(0, colon));
    if (std::string_view(root.attribute(attr.c_str()).value()) != kFhirNs)
      return Status::InvalidArgument(
          "The XML root element is not in the FHIR namespace (http://hl7.org/fhir)");
  }
  Converter conv(validator, out.GetAllocator(), issues, limits);
  conv.Resource(root, out, "/f:" + std::string(LocalName(root)));
  return Status::Ok();
}

Result<std::string> ToJsonText(std::string_view text, const Validator& validator) {
  std::size_t first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first == std::string_view::npos || text[first] != '<') return std::string(text);
  rapidjson::Document doc;
  DataIssues issues;
  FHIRBRIDGE_RETURN_IF_ERROR(XmlToJson(text, validator, doc, issues));
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace fhirbridge::validator
