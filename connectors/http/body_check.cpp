#include "connectors/http/body_check.h"

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>

#include <pugixml.hpp>

namespace fhirbridge::http {

namespace {

// The offset of the first bracket that opens level max_depth + 1, or npos. Strings are skipped
// (with their escapes) so that brackets inside them do not count.
std::size_t TooDeepAt(std::string_view body, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

std::string At(std::size_t offset) { return "byte " + std::to_string(offset); }

}  // namespace

bool ParseJsonBody(std::string_view body, std::size_t max_depth, rapidjson::Document& doc,
                   BodyProblem& problem) {
  if (const std::size_t at = TooDeepAt(body, max_depth); at != std::string_view::npos) {
    problem = {At(at), "JSON nests deeper than " + std::to_string(max_depth) + " levels"};
    return false;
  }
  // Iterative parsing: no recursion whatever the input (the depth is bounded above anyway).
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError()) {
    problem = {At(doc.GetErrorOffset()),
               std::string("not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError())};
    return false;
  }
  return true;
}

bool CheckXmlBody(std::string_view body, std::size_t max_depth, BodyProblem& problem) {
  pugi::xml_document doc;
  const pugi::xml_parse_result result = doc.load_buffer(
      body.data(), body.size(), pugi::parse_default | pugi::parse_doctype, pugi::encoding_auto);
  if (!result) {
    problem = {At(static_cast<std::size_t>(result.offset)),
               std::string("not well-formed XML: ") + result.description()};
    return false;
  }
  if (!doc.document_element()) {
    problem = {At(0), "not an XML document: no root element"};
    return false;
  }
  struct DepthWalker : pugi::xml_tree_walker {
    std::size_t max = 0;
    bool dtd = false;
    bool too_deep = false;
    bool for_each(pugi::xml_node& node) override {
      if (node.type() == pugi::node_doctype) dtd = true;
      if (static_cast<std::size_t>(depth()) >= max) too_deep = true;
      return !dtd && !too_deep;
    }
  } walker;
  walker.max = max_depth;
  doc.traverse(walker);
  if (walker.dtd) {
    problem = {At(0), "XML with a DOCTYPE is refused (no DTDs: entity expansion)"};
    return false;
  }
  if (walker.too_deep) {
    problem = {At(0), "XML nests deeper than " + std::to_string(max_depth) + " elements"};
    return false;
  }
  return true;
}

std::string PointerText(const rapidjson::Value& doc, std::string_view pointer,
                        std::size_t max_length) {
  const rapidjson::Pointer p(pointer.data(), pointer.size());
  if (!p.IsValid()) return {};
  const rapidjson::Value* v = p.Get(doc);
  if (v == nullptr) return {};
  std::string text;
  if (v->IsString()) {
    text.assign(v->GetString(), v->GetStringLength());
  } else if (v->IsInt64()) {
    text = std::to_string(v->GetInt64());
  } else if (v->IsUint64()) {
    text = std::to_string(v->GetUint64());
  }
  if (text.size() > max_length) return {};
  return text;
}

}  // namespace fhirbridge::http
