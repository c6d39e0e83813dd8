#pragma once

// The one adapter around pugixml for SDC documents: parses outside input safely and answers
// the questions the BICEPS reader asks (which namespace URI an element or an xsi:type QName is
// in, where a node is). Secure by construction: no DTD processing (a document with a DOCTYPE is
// refused, so no entity can expand), only UTF-8, size/depth/element limits. pugixml does not
// throw (built without exceptions in its API); nothing here throws either.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <pugixml.hpp>

#include "connectors/ieee11073/sdc/sdc_document.h"
#include "fhirbridge/result.h"

namespace fhirbridge::sdc {

class XmlInput {
 public:
  /// Checks the limits and the encoding, parses, refuses a DOCTYPE, checks depth and element
  /// count. Errors: InvalidArgument / ResourceExhausted with "line L:C: what".
  static Result<XmlInput> Parse(std::string_view xml, const SdcReaderLimits& limits);

  XmlInput(XmlInput&&) noexcept;
  XmlInput& operator=(XmlInput&&) noexcept;
  ~XmlInput();

  /// The document element.
  pugi::xml_node root() const;

  /// The namespace URI of an element's (prefix-resolved) name: "" when it has no prefix and no
  /// default namespace is in scope; nullopt when its prefix is declared nowhere in scope.
  std::optional<std::string_view> NamespaceOf(pugi::xml_node element) const;
  /// The URI a prefix ("" = default namespace) means at `scope`; nullopt when undeclared.
  std::optional<std::string_view> ResolvePrefix(pugi::xml_node scope,
                                                std::string_view prefix) const;
  /// True when `element` is {ns}local.
  bool Is(pugi::xml_node element, std::string_view ns, std::string_view local) const;
  /// The first child element {ns}local, or an empty node.
  pugi::xml_node Child(pugi::xml_node parent, std::string_view ns, std::string_view local) const;

  /// xsi:type of an element resolved to its local name when its namespace is `ns` (BICEPS
  /// types are in the participant namespace); "" without xsi:type; nullopt when the QName's
  /// prefix is undeclared or names another namespace (`problem` says which).
  std::optional<std::string> XsiType(pugi::xml_node element, std::string_view ns,
                                     std::string& problem) const;

  /// "line L:C (Mdib/MdState/State[3])": the node's position in the input and its path of
  /// local names (with a 1-based index where siblings share the name).
  std::string Where(pugi::xml_node node) const;
  /// "line L:C (path/@name)" for an attribute of `element`.
  std::string WhereAttribute(pugi::xml_node element, std::string_view name) const;

  const SdcReaderLimits& limits() const { return limits_; }

 private:
  XmlInput() = default;
  std::pair<std::size_t, std::size_t> LineColumn(std::ptrdiff_t offset) const;
  /// The element's path of local names, memoised (see Where).
  const std::string& PathOf(pugi::xml_node element) const;

  std::unique_ptr<pugi::xml_document> doc_;
  std::vector<std::size_t> line_starts_;  ///< byte offset of each line's start
  SdcReaderLimits limits_;
  // Memo of PathOf: the reader locates every state and metric, so a path must cost O(depth).
  mutable std::unordered_map<const void*, std::string> path_cache_;
  mutable std::unordered_map<const void*, std::size_t> index_cache_;  ///< 0: unique name
  mutable std::unordered_set<const void*> indexed_parents_;
};

/// The part of a QName after its colon (the whole name when it has none).
std::string_view LocalName(std::string_view qname);
/// The part before the colon, or "".
std::string_view Prefix(std::string_view qname);

/// Offset of the first byte that is not valid UTF-8 (overlong forms, surrogates and code points
/// above U+10FFFF included), or npos.
std::size_t FindInvalidUtf8(std::string_view text);

}  // namespace fhirbridge::sdc
