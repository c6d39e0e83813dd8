#include "connectors/ieee11073/sdc/xml_input.h"

#include <algorithm>
#include <unordered_map>

namespace fhirbridge::sdc {

namespace {

constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";

// Depth and element count of the parsed tree, walked without recursion (the nesting is outside
// input). Returns the first element past a limit, or an empty node.
pugi::xml_node FirstOverLimit(pugi::xml_node root, const SdcReaderLimits& limits, bool& too_deep) {
  std::size_t elements = 0;
  std::size_t depth = 1;
  pugi::xml_node node = root;
  while (node) {
    if (node.type() == pugi::node_element) {
      ++elements;
      if (depth > limits.max_depth) {
        too_deep = true;
        return node;
      }
      if (elements > limits.max_elements) return node;
    }
    if (node.first_child()) {
      node = node.first_child();
      ++depth;
      continue;
    }
    while (node && !node.next_sibling() && node != root) {
      node = node.parent();
      --depth;
    }
    if (!node || node == root) break;
    node = node.next_sibling();
  }
  return {};
}

}  // namespace

std::string_view LocalName(std::string_view qname) {
  const std::size_t colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

std::string_view Prefix(std::string_view qname) {
  const std::size_t colon = qname.find(':');
  return colon == std::string_view::npos ? std::string_view() : qname.substr(0, colon);
}

std::size_t FindInvalidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // RFC 3629 section 3: shortest form only, no surrogates, nothing above U+10FFFF.
    const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

XmlInput::XmlInput(XmlInput&&) noexcept = default;
XmlInput& XmlInput::operator=(XmlInput&&) noexcept = default;
XmlInput::~XmlInput() = default;

Result<XmlInput> XmlInput::Parse(std::string_view xml, const SdcReaderLimits& limits) {
  if (xml.size() > limits.max_bytes) {
    return Status::ResourceExhausted("the document has " + std::to_string(xml.size()) +
                                     " bytes, more than the limit of " +
                                     std::to_string(limits.max_bytes));
  }
  XmlInput in;
  in.limits_ = limits;
  in.line_starts_.push_back(0);
  for (std::size_t i = 0; i < xml.size(); ++i)
    if (xml[i] == '\n') in.line_starts_.push_back(i + 1);
  if (xml.size() >= 2 &&
      (static_cast<unsigned char>(xml[0]) == 0xFE || static_cast<unsigned char>(xml[0]) == 0xFF ||
       xml[0] == '\0' || xml[1] == '\0')) {
    return Status::InvalidArgument("line 1:1: the document is not UTF-8 (UTF-16/32 is refused)");
  }
  if (const std::size_t bad = FindInvalidUtf8(xml); bad != std::string_view::npos) {
    const auto [line, column] = in.LineColumn(static_cast<std::ptrdiff_t>(bad));
    return Status::InvalidArgument("line " + std::to_string(line) + ":" + std::to_string(column) +
                                   ": the bytes are not valid UTF-8");
  }
  // Every element costs at least one '<': bound the tree's size before pugixml builds it.
  const auto tags = static_cast<std::size_t>(std::count(xml.begin(), xml.end(), '<'));
  if (tags > 2 * limits.max_elements + 4096) {
    return Status::ResourceExhausted("the document has " + std::to_string(tags) +
                                     " tags, more than the limit of " +
                                     std::to_string(limits.max_elements) + " elements allows");
  }
  in.doc_ = std::make_unique<pugi::xml_document>();
  // parse_doctype only so that a DOCTYPE becomes visible and can be refused; pugixml never
  // reads a DTD or expands entities beyond the five predefined ones and character references.
  const unsigned flags = pugi::parse_default | pugi::parse_doctype;
  const pugi::xml_parse_result parsed =
      in.doc_->load_buffer(xml.data(), xml.size(), flags, pugi::encoding_utf8);
  if (!parsed) {
    const auto [line, column] = in.LineColumn(parsed.offset);
    return Status::InvalidArgument("line " + std::to_string(line) + ":" + std::to_string(column) +
                                   ": not well-formed XML: " + parsed.description());
  }
  for (pugi::xml_node n = in.doc_->first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_doctype) {
      return Status::InvalidArgument(in.Where(n) +
                                     ": a DOCTYPE is refused (no DTDs or entities in SDC "
                                     "documents; protects against entity-expansion bombs)");
    }
  }
  if (!in.root()) return Status::InvalidArgument("line 1:1: the document has no element");
  bool too_deep = false;
  if (pugi::xml_node over = FirstOverLimit(in.root(), limits, too_deep)) {
    const std::string at = in.Where(over);
    return Status::ResourceExhausted(
        too_deep
            ? at + ": elements nested deeper than the limit of " + std::to_string(limits.max_depth)
            : at + ": more elements than the limit of " + std::to_string(limits.max_elements));
  }
  return in;
}

pugi::xml_node XmlInput::root() const { return doc_->document_element(); }

std::optional<std::string_view> XmlInput::ResolvePrefix(pugi::xml_node scope,
                                                        std::string_view prefix) const {
  if (prefix == "xml") return kXmlNs;
  const std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
  for (pugi::xml_node n = scope; n && n.type() == pugi::node_element; n = n.parent()) {
    if (pugi::xml_attribute a = n.attribute(attr.c_str())) return std::string_view(a.value());
  }
  if (prefix.empty()) return std::string_view();
  return std::nullopt;
}

std::optional<std::string_view> XmlInput::NamespaceOf(pugi::xml_node element) const {
  return ResolvePrefix(element, Prefix(element.name()));
}

bool XmlInput::Is(pugi::xml_node element, std::string_view ns, std::string_view local) const {
  if (element.type() != pugi::node_element || LocalName(element.name()) != local) return false;
  const std::optional<std::string_view> uri = NamespaceOf(element);
  return uri && *uri == ns;
}

pugi::xml_node XmlInput::Child(pugi::xml_node parent, std::string_view ns,
                               std::string_view local) const {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
    if (Is(c, ns, local)) return c;
  return {};
}

std::optional<std::string> XmlInput::XsiType(pugi::xml_node element, std::string_view ns,
                                             std::string& problem) const {
  for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
    const std::string_view name = a.name();
    if (LocalName(name) != "type" || Prefix(name).empty()) continue;
    const std::optional<std::string_view> attr_ns = ResolvePrefix(element, Prefix(name));
    if (!attr_ns || *attr_ns != kXsiNs) continue;
    const std::string_view qname = a.value();
    const std::optional<std::string_view> type_ns = ResolvePrefix(element, Prefix(qname));
    if (!type_ns) {
      problem =
          "xsi:type uses the undeclared namespace prefix \"" + std::string(Prefix(qname)) + "\"";
      return std::nullopt;
    }
    if (*type_ns != ns) {
      problem = "xsi:type names a type outside the BICEPS participant namespace";
      return std::nullopt;
    }
    return std::string(LocalName(qname));
  }
  return std::string();
}

std::pair<std::size_t, std::size_t> XmlInput::LineColumn(std::ptrdiff_t offset) const {
  const auto at = static_cast<std::size_t>(std::max<std::ptrdiff_t>(offset, 0));
  const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at);
  const std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());
  return {line, at - line_starts_[line - 1] + 1};
}

const std::string& XmlInput::PathOf(pugi::xml_node element) const {
  const void* key = element.internal_object();
  if (auto it = path_cache_.find(key); it != path_cache_.end()) return it->second;
  const pugi::xml_node parent = element.parent();
  std::string path;
  if (parent.type() == pugi::node_element) {
    path = PathOf(parent);  // depth is bounded by max_depth
    path += '/';
  }
  path += LocalName(element.name());
  // The 1-based index among same-named siblings, computed once per parent for all its children
  // so that locating every child of a long list costs linear time.
  const void* parent_key = parent.internal_object();
  if (indexed_parents_.insert(parent_key).second) {
    std::unordered_map<std::string_view, std::size_t> counts;
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
      if (c.type() == pugi::node_element) index_cache_[c.internal_object()] = ++counts[c.name()];
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
      if (c.type() == pugi::node_element && counts[c.name()] == 1)
        index_cache_[c.internal_object()] = 0;
  }
  if (const std::size_t index = index_cache_[key]; index > 0)
    path += "[" + std::to_string(index) + "]";
  return path_cache_.emplace(key, std::move(path)).first->second;
}

std::string XmlInput::Where(pugi::xml_node node) const {
  const std::ptrdiff_t offset = node.offset_debug();
  // offset_debug points past "<" for an element and past "<!DOCTYPE " for a doctype.
  const std::ptrdiff_t back = node.type() == pugi::node_element   ? 1
                              : node.type() == pugi::node_doctype ? 10
                                                                  : 0;
  const auto [line, column] = LineColumn(offset >= back ? offset - back : offset);
  std::string out = "line " + std::to_string(line) + ":" + std::to_string(column);
  if (node.type() == pugi::node_element) out += " (" + PathOf(node) + ")";
  return out;
}

std::string XmlInput::WhereAttribute(pugi::xml_node element, std::string_view name) const {
  std::string where = Where(element);
  if (!where.empty() && where.back() == ')') {
    where.insert(where.size() - 1, "/@" + std::string(name));
  }
  return where;
}

}  // namespace fhirbridge::sdc
