// Accessors of a parsed ER7 message: Location, Element splitting, Segment and ParsedMessage.
// Indexing lives in parse.cpp and scanner.cpp, escape decoding in escape.cpp.

#include "connectors/hl7v2/er7.h"

#include <algorithm>

#include "connectors/hl7v2/parse.h"

namespace fhirbridge::hl7v2 {
namespace {

/// Piece n (1-based) of `s` split at `sep`; empty when `s` has fewer pieces.
std::string_view Piece(std::string_view s, char sep, std::size_t n) {
  if (n == 0) return {};
  std::size_t begin = 0;
  for (std::size_t i = 1; i < n; ++i) {
    const std::size_t at = s.find(sep, begin);
    if (at == std::string_view::npos) return {};
    begin = at + 1;
  }
  const std::size_t end = s.find(sep, begin);
  return s.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
}

/// Number of pieces of `s` split at `sep`: 0 for an empty string, else separators + 1.
std::size_t PieceCount(std::string_view s, char sep) {
  if (s.empty()) return 0;
  return 1 + static_cast<std::size_t>(std::count(s.begin(), s.end(), sep));
}

const Delimiters kDefaultDelimiters{};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Location

std::string Location::ToString() const {
  if (segment.empty()) return "message";
  std::string out(segment);
  // MSH is always the first and only MSH segment, so its occurrence says nothing.
  if (segment != "MSH" && occurrence > 0) {
    out += '[';
    out += std::to_string(occurrence);
    out += ']';
  }
  if (field == 0) return out;
  out += '-';
  out += std::to_string(field);
  if (repetition > 1) {
    out += '[';
    out += std::to_string(repetition);
    out += ']';
  }
  if (component > 0 || subcomponent > 0) {
    out += '.';
    out += std::to_string(component > 0 ? component : 1);
  }
  if (subcomponent > 0) {
    out += '.';
    out += std::to_string(subcomponent);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Element

const Delimiters& Element::delimiters() const {
  return msg_ != nullptr ? msg_->delimiters_ : kDefaultDelimiters;
}

std::size_t Element::repetition_count() const {
  if (level_ == Level::kField) return PieceCount(raw_, delimiters().repetition);
  return empty() ? 0 : 1;
}

Element Element::repetition(std::size_t n) const {
  if (level_ != Level::kField) return n == 1 ? *this : Missing();
  Location loc = location_;
  loc.repetition = n;
  return Element(Piece(raw_, delimiters().repetition, n), msg_, Level::kRepetition, std::move(loc));
}

std::size_t Element::component_count() const {
  const Delimiters& d = delimiters();
  switch (level_) {
    case Level::kField:
      return PieceCount(Piece(raw_, d.repetition, 1), d.component);
    case Level::kRepetition:
      return PieceCount(raw_, d.component);
    default:
      return empty() ? 0 : 1;
  }
}

std::size_t Element::RawComponents(std::string_view* out, std::size_t max) const {
  if (level_ != Level::kField && level_ != Level::kRepetition) {
    // A component (or smaller) is its own only component, as component(1) gives itself.
    for (std::size_t i = 0; i < max; ++i) out[i] = {};
    if (max > 0) out[0] = raw_;
    return raw_.empty() ? 0 : 1;
  }
  const Delimiters& d = delimiters();
  // A repetition has no repetition separator left in it: splitting it as a field is the same.
  return RawComponents(raw_, d, out, max);
}

std::size_t Element::RawComponents(std::string_view field, const Delimiters& d,
                                   std::string_view* out, std::size_t max) {
  for (std::size_t i = 0; i < max; ++i) out[i] = {};
  // HL7 v2.5 §2.5.2: a field's components are those of its first repetition.
  const std::string_view base = Piece(field, d.repetition, 1);
  if (base.empty()) return 0;
  std::size_t count = 0;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = base.find(d.component, begin);
    if (count < max)
      out[count] = base.substr(begin, end == std::string_view::npos ? end : end - begin);
    ++count;
    if (end == std::string_view::npos) return count;
    begin = end + 1;
  }
}

Element Element::component(std::size_t n) const {
  const Delimiters& d = delimiters();
  std::string_view base;
  switch (level_) {
    case Level::kField:  // HL7 v2.5 §2.5.2: a field's components are those of its first repetition
      base = Piece(raw_, d.repetition, 1);
      break;
    case Level::kRepetition:
      base = raw_;
      break;
    default:
      return n == 1 ? *this : Missing();
  }
  Location loc = location_;
  loc.component = n;
  return Element(Piece(base, d.component, n), msg_, Level::kComponent, std::move(loc));
}

std::size_t Element::subcomponent_count() const {
  const Delimiters& d = delimiters();
  switch (level_) {
    case Level::kField:
      return PieceCount(Piece(Piece(raw_, d.repetition, 1), d.component, 1), d.subcomponent);
    case Level::kRepetition:
      return PieceCount(Piece(raw_, d.component, 1), d.subcomponent);
    case Level::kComponent:
      return PieceCount(raw_, d.subcomponent);
    default:
      return empty() ? 0 : 1;
  }
}

Element Element::subcomponent(std::size_t n) const {
  switch (level_) {
    case Level::kField:
    case Level::kRepetition:
      return component(1).subcomponent(n);
    case Level::kComponent:
      break;
    default:
      return n == 1 ? *this : Missing();
  }
  Location loc = location_;
  loc.subcomponent = n;
  return Element(Piece(raw_, delimiters().subcomponent, n), msg_, Level::kSubcomponent,
                 std::move(loc));
}

// ---------------------------------------------------------------------------------------------
// Segment

std::string_view Segment::raw() const {
  if (!valid()) return {};
  const auto& seg = msg_->segments_[index_];
  return msg_->raw_.substr(seg.begin, seg.end - seg.begin);
}

std::size_t Segment::occurrence() const { return valid() ? msg_->segments_[index_].occurrence : 0; }

Location Segment::location() const {
  Location loc;
  loc.segment = id();
  loc.occurrence = occurrence();
  return loc;
}

std::string_view Segment::field_raw(std::size_t n) const {
  if (!valid()) return {};
  const auto& seg = msg_->segments_[index_];
  if (n == 0) return id();
  if (n > seg.field_count) return {};
  return msg_->FieldRaw(seg, n);
}

std::size_t Segment::RawFields(std::string_view* out, std::size_t max) const {
  if (!valid() || max == 0) {
    for (std::size_t i = 0; i < max; ++i) out[i] = {};
    return 0;
  }
  const auto& seg = msg_->segments_[index_];
  out[0] = id();
  const std::size_t last = std::min<std::size_t>(seg.field_count, max - 1);
  for (std::size_t n = last + 1; n < max; ++n) out[n] = {};
  if (index_ == 0) {  // MSH numbers its fields differently (see FieldRaw)
    for (std::size_t n = 1; n <= last; ++n) out[n] = msg_->FieldRaw(seg, n);
    return seg.field_count;
  }
  if (!seg.indexed) {
    // Not indexed yet: the views come straight from the bytes, in the one pass that building
    // the index would take; the index is left to readers of single fields (most segments
    // read this way are read whole, once).
    internal::WriteFieldViews(msg_->raw_, seg.begin + 3, seg.end, msg_->delimiters_.field, out,
                              last + 1);
    return seg.field_count;
  }
  // Field n spans the bytes between separators n-1 and n of the segment's slot.
  const std::uint32_t* separators = msg_->Separators(seg);
  const char* bytes = msg_->raw_.data();
  for (std::size_t n = 1; n <= last; ++n) {
    const std::uint32_t begin = separators[n - 1] + 1;
    out[n] = std::string_view(bytes + begin, separators[n] - begin);
  }
  return seg.field_count;
}

Element Segment::field(std::size_t n) const {
  Location loc = location();
  loc.field = n;
  if (!valid()) return Element({}, msg_, Element::Level::kField, std::move(loc));
  const auto& seg = msg_->segments_[index_];
  if (n == 0) return Element(id(), msg_, Element::Level::kLiteral, std::move(loc));
  if (n > seg.field_count) return Element({}, msg_, Element::Level::kField, std::move(loc));
  // HL7 v2.5 §2.14.9.1-2: MSH-1 is the field separator and MSH-2 the encoding characters;
  // they are the delimiters themselves, so they are neither split nor unescaped.
  const bool msh = index_ == 0;
  const auto level = msh && n <= 2 ? Element::Level::kLiteral : Element::Level::kField;
  return Element(msg_->FieldRaw(seg, n), msg_, level, std::move(loc));
}

// ---------------------------------------------------------------------------------------------
// ParsedMessage

std::string_view ParsedMessage::FieldRaw(const SegmentIndex& seg, std::size_t n) const {
  // Only the first segment is MSH (Parse refuses another), and MSH counts its separator as
  // field 1: so MSH-n follows separator n-2 while field n of any other segment follows n-1.
  const bool msh = &seg == segments_.data();
  if (msh && n == 1) return raw_.substr(seg.begin + 3, 1);
  const std::uint32_t* separators = Separators(seg) + n - (msh ? 2 : 1);
  const std::uint32_t begin = separators[0] + 1;
  return raw_.substr(begin, separators[1] - begin);
}

const std::uint32_t* ParsedMessage::Separators(const SegmentIndex& seg) const {
  if (!seg.indexed) {
    // Parse() counted every segment's separators, so one allocation holds every slot.
    if (separators_.empty()) separators_.resize(separator_entries_);
    std::uint32_t* const slot = separators_.data() + seg.first_separator;
    // From the byte after the id: the separators Parse() counted (an id has none).
    std::uint32_t* const end =
        internal::WriteFieldSeparators(raw_, seg.begin + 3, seg.end, delimiters_.field, slot);
    *end = seg.end;  // the sentinel
    seg.indexed = true;
  }
  return separators_.data() + seg.first_separator;
}

std::optional<Segment> ParsedMessage::Find(std::string_view id) const {
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (raw_.substr(segments_[i].begin, 3) == id) return Segment(this, i);
  }
  return std::nullopt;
}

std::string_view ParsedMessage::message_type() const {
  return segments_.empty() ? std::string_view() : segment(0).field(9).component(1).raw();
}

std::string_view ParsedMessage::trigger_event() const {
  return segments_.empty() ? std::string_view() : segment(0).field(9).component(2).raw();
}

std::string_view ParsedMessage::control_id() const {
  return segments_.empty() ? std::string_view() : segment(0).field(10).raw();
}

std::string_view ParsedMessage::version() const {
  return segments_.empty() ? std::string_view() : segment(0).field(12).component(1).raw();
}

}  // namespace fhirbridge::hl7v2
