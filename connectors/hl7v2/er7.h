#pragma once

// HL7 v2 ER7 ("pipe and hat") parser.
//
// Parse() validates the whole message and indexes its segments in one pass over the bytes, and
// keeps views into the caller's buffer: nothing is copied, and escape sequences are decoded only
// when a value's text is asked for. Field offsets are indexed lazily, one segment at a time, on
// the first access to one of its fields: Parse() only counts them (so field_count() and every
// limit are known and enforced by Parse). The buffer passed to Parse() must outlive the
// ParsedMessage and every Element taken from it, and Elements/Segments point at their
// ParsedMessage: do not move the message while views taken from it are in use (moving it is
// fine otherwise; the index moves with it).
//
// Thread safety: because the field index fills on demand, a ParsedMessage (and the Segments and
// Elements taken from it) must not be used from several threads at once, even read-only. Hand
// each message to one thread, or copy it.
//
// What Parse() accepts (HL7 v2.5 ch.2, v2.7 §2.5, IHE PCD TF-2; see also
// ../shared/design/MAPPING.md):
//  - The message starts with "MSH". MSH-1 (the byte after "MSH") is the field separator and
//    MSH-2 holds 4 encoding characters (component, repetition, escape, subcomponent) or 5 (v2.7
//    adds truncation). Every delimiter is printable ASCII, not a letter or digit, and all differ.
//  - Segments end at CR, LF or CRLF (mixed is fine); empty or blank (spaces/tabs only) lines are
//    skipped. A segment id is [A-Z][A-Z0-9]{2} followed by the field separator or the line end.
//    MSH may only be the first segment (two messages glued together are an error).
//  - MSH-18 (first repetition) picks the character set: empty/ASCII, 8859/1, or UNICODE UTF-8
//    (also UTF-8, UNICODE UTF8). Every byte is checked against it by Parse(); any other set
//    is refused. C0 control bytes other than TAB (and the CR/LF terminators) are refused.
//  - Errors never quote field values: they name the segment, field, byte offset or byte value.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhirbridge/result.h"

namespace fhirbridge::hl7v2 {

/// Separators declared by MSH-1 and MSH-2.
struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
  char truncation = '\0';  ///< v2.7 fifth encoding character ('#'); '\0' when not declared
};

/// Character sets named by MSH-18 that we decode. Text always comes out as UTF-8.
enum class Charset { kAscii, kLatin1, kUtf8 };

/// Bounds on what one message may contain; exceeding one is a parse error (AR).
/// All are checked by Parse() (ResourceExhausted naming the limit).
struct ParseLimits {
  /// Whole message, framing removed. Offsets are 32-bit: anything above 4 GiB - 2 is clamped.
  std::size_t max_message_bytes = 4u << 20;
  std::size_t max_segments = 10000;
  std::size_t max_fields_per_segment = 500;  ///< for MSH, MSH-1 and MSH-2 count
  std::size_t max_repetitions = 1000;        ///< per field
};

/// Where something is in a message, for errors and data issues: "OBX[3]-5.1.2" means the third
/// OBX segment, field 5, component 1, subcomponent 2. Numbers are 1-based; 0 means "whole".
struct Location {
  /// Segment id, e.g. "OBX"; empty for the message as a whole. A view (of the message's bytes
  /// or a literal) so that Elements, which carry their Location, stay cheap to copy: call
  /// ToString() to keep a Location beyond the message's life.
  std::string_view segment;
  std::size_t occurrence = 0;  ///< 1-based count of this segment id in the message
  std::size_t field = 0;
  std::size_t repetition = 0;  ///< only printed when > 1
  std::size_t component = 0;
  std::size_t subcomponent = 0;

  std::string ToString() const;  ///< "OBX[3]-5.1", "MSH-9", "OBX[2]-5[2].1", or "message"
};

class ParsedMessage;
namespace internal {
class Scanner;

/// std::allocator whose resize() leaves new elements default-initialized (for integers:
/// unwritten), so the field index can be sized ahead and filled without zeroing it first.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
}  // namespace internal

/// A view of one field, repetition, component or subcomponent. Cheap to copy.
/// Sub-elements are split on demand from the raw bytes.
class Element {
 public:
  Element() = default;

  /// The bytes exactly as they are in the message (escapes not decoded).
  std::string_view raw() const { return raw_; }
  /// Nothing between the delimiters.
  bool empty() const { return raw_.empty(); }
  /// The HL7 null `""`: the sender says "delete / no value", which differs from empty.
  bool is_null() const { return raw_ == "\"\""; }
  /// Neither empty nor null.
  bool has_value() const { return !empty() && !is_null(); }

  // Splitting. Counts are 0 for an empty element and separators + 1 otherwise; asking for a
  // piece past the count (or piece 0) gives an empty Element that still has its Location.
  // Asking a smaller piece for its own level (component(1) of a component) gives itself.

  /// Repetitions of a field (1-based). Only meaningful on a field; repetition(1) of a field
  /// without a repetition separator is the field itself.
  std::size_t repetition_count() const;
  Element repetition(std::size_t n) const;

  /// Components (1-based). On a field this splits its first repetition.
  std::size_t component_count() const;
  Element component(std::size_t n) const;

  /// The raw components (of the first repetition, on a field) in one pass over the bytes:
  /// fills out[0..] with up to `max` views (component 1 first), sets the rest to empty, and
  /// returns how many components there are. For readers that look at several components of
  /// one field: cheaper than calling component(n) for each.
  std::size_t RawComponents(std::string_view* out, std::size_t max) const;
  /// The same for raw field bytes taken from Segment::RawFields (components of the first
  /// repetition), without building an Element.
  static std::size_t RawComponents(std::string_view field, const Delimiters& delimiters,
                                   std::string_view* out, std::size_t max);

  /// Subcomponents (1-based) of a component; on a field or repetition, of its first component.
  std::size_t subcomponent_count() const;
  Element subcomponent(std::size_t n) const;

  /// The value as UTF-8 text: escape sequences decoded (\F\ \S\ \T\ \R\ \E\ \Xhh..\ \.br\),
  /// formatting escapes (\H\ \N\ \.sp\ ...) dropped, and the message's charset converted.
  /// An HL7 null gives an empty string. A malformed escape is an InvalidArgument error that
  /// says what is wrong and its byte offset in the message (the caller adds the Location).
  /// Unknown escape sequences are kept as they are. On a field, the whole field is decoded with
  /// its separators left in.
  Result<std::string> Text() const;

  /// Where this element is, for messages.
  const Location& location() const { return location_; }

 private:
  friend class ParsedMessage;
  friend class Segment;
  /// What raw_ is, which decides how it splits: a field into repetitions, a repetition into
  /// components, a component into subcomponents. kLiteral is MSH-1, MSH-2 and segment ids: the
  /// delimiters themselves, never split nor unescaped.
  enum class Level { kField, kRepetition, kComponent, kSubcomponent, kLiteral };

  Element(std::string_view raw, const ParsedMessage* msg, Level level, Location loc)
      : raw_(raw), msg_(msg), level_(level), location_(std::move(loc)) {}

  const Delimiters& delimiters() const;
  /// The same position with nothing in it (n-th piece of something that has fewer).
  Element Missing() const { return Element({}, msg_, level_, location_); }

  std::string_view raw_;
  const ParsedMessage* msg_ = nullptr;
  Level level_ = Level::kField;
  Location location_;
};

/// One segment. Field numbering follows HL7: for MSH, field(1) is the field separator and
/// field(2) the encoding characters; for every other segment field(1) is the first field
/// after the segment id.
class Segment {
 public:
  std::string_view id() const;
  std::string_view raw() const;        ///< without the segment terminator
  std::size_t occurrence() const;      ///< 1-based count of this id in the message
  std::size_t field_count() const;     ///< highest field number present
  Element field(std::size_t n) const;  ///< an empty Element when n > field_count()
  /// The raw bytes of field n (as field(n).raw()), without building an Element: for readers
  /// that only test or compare a field.
  std::string_view field_raw(std::size_t n) const;
  /// The raw bytes of fields 0 (the id) to max - 1 in one go, as field_raw(n) gives them
  /// (empty past the last field), and returns field_count(). For readers of many fields of
  /// one segment: one lookup of the field index instead of one per field. On a segment not
  /// indexed yet, the views are read straight from its bytes and the index is not built.
  std::size_t RawFields(std::string_view* out, std::size_t max) const;

 private:
  friend class ParsedMessage;
  Segment(const ParsedMessage* msg, std::size_t index) : msg_(msg), index_(index) {}
  bool valid() const;  ///< false for an index past the last segment (then everything is empty)
  Location location() const;
  const ParsedMessage* msg_;
  std::size_t index_;
};

/// A whole parsed message.
class ParsedMessage {
 public:
  const Delimiters& delimiters() const { return delimiters_; }
  Charset charset() const { return charset_; }
  std::string_view raw() const { return raw_; }

  std::size_t segment_count() const { return segments_.size(); }
  Segment segment(std::size_t index) const { return Segment(this, index); }  ///< 0-based

  /// First segment with this id, if any.
  std::optional<Segment> Find(std::string_view id) const;

  /// Convenience for MSH fields: MSH-9.1, MSH-10 ... (raw views).
  std::string_view message_type() const;   ///< MSH-9.1, e.g. "ORU"
  std::string_view trigger_event() const;  ///< MSH-9.2, e.g. "R01"
  std::string_view control_id() const;     ///< MSH-10
  std::string_view version() const;        ///< MSH-12.1

 private:
  friend class Segment;
  friend class Element;
  friend class internal::Scanner;
  friend Result<ParsedMessage> Parse(std::string_view bytes, const ParseLimits& limits);

  struct SegmentIndex {
    std::uint32_t begin;            ///< offset of the segment id in raw_
    std::uint32_t end;              ///< offset one past the last byte (terminator excluded)
    std::uint32_t first_separator;  ///< index into separators_ of the separator after the id
    std::uint32_t field_count;      ///< highest field number (for MSH, MSH-1 counts)
    std::uint32_t occurrence;       ///< 1-based count of this id so far
    /// Its slot of separators_ is filled (see Separators()). No initializer, so that the
    /// struct stays trivial and Parse() can size segments_ without writing it twice.
    mutable bool indexed;
  };

  /// The raw bytes of field n >= 1 of `seg` (n <= field_count).
  std::string_view FieldRaw(const SegmentIndex& seg, std::size_t n) const;
  /// The slot of separators_ for `seg`, filled by one scan of its bytes on first use.
  const std::uint32_t* Separators(const SegmentIndex& seg) const;

  std::string_view raw_;
  Delimiters delimiters_;
  Charset charset_ = Charset::kAscii;
  std::vector<SegmentIndex, internal::DefaultInitAllocator<SegmentIndex>> segments_;
  /// For each segment, a slot of the offset of every field separator in it (the first is the
  /// one right after the id, which for MSH is MSH-1 itself), then one sentinel holding the
  /// segment's end. So the field that follows separator k spans [separators_[k] + 1,
  /// separators_[k + 1]). Parse() counts the separators, so it knows where each slot starts and
  /// how many entries there are (separator_entries_), but leaves the vector empty: most readers
  /// look at a few fields of a few segments, and recording ~every 6th byte's offset was most of
  /// the parse time. The first field access sizes it (one allocation, never grown) and fills
  /// the slot of its segment; mutable because that happens behind const accessors.
  mutable std::vector<std::uint32_t, internal::DefaultInitAllocator<std::uint32_t>> separators_;
  std::uint32_t separator_entries_ = 0;
};

// Inline: the mappers ask every segment for its id and field count while walking a message.
inline bool Segment::valid() const { return msg_ != nullptr && index_ < msg_->segments_.size(); }

inline std::string_view Segment::id() const {
  if (!valid()) return {};
  return std::string_view(msg_->raw_.data() + msg_->segments_[index_].begin, 3);
}

inline std::size_t Segment::field_count() const {
  return valid() ? msg_->segments_[index_].field_count : 0;
}

/// Parses one message (framing already removed). Accepts CR, LF or CRLF segment terminators.
/// Errors are InvalidArgument (malformed: what and where, e.g. "MSH-2: ...") or
/// ResourceExhausted (a limit exceeded, naming the limit).
Result<ParsedMessage> Parse(std::string_view bytes, const ParseLimits& limits = {});

}  // namespace fhirbridge::hl7v2
