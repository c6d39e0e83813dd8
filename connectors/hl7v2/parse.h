#pragma once

// Internals of Parse() shared between parse.cpp and scanner.cpp (not part of the API).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/hl7v2/er7.h"
#include "fhirbridge/status.h"

namespace fhirbridge::hl7v2::internal {

/// True for "[A-Z][A-Z0-9]{2}" (HL7 v2.5 §2.5.3: segment ids; Z for local segments).
inline bool IsSegmentId(std::string_view id) {
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return id.size() == 3 && upper(id[0]) && (upper(id[1]) || digit(id[1])) &&
         (upper(id[2]) || digit(id[2]));
}

/// Up to `max` bytes of `s` for an error message, bytes outside printable ASCII as \xHH, and
/// "..." when cut. Only for things that are not field values (segment ids, MSH-18 codes).
std::string Printable(std::string_view s, std::size_t max);

/// Where byte `at` of a message is, for an error: "PID[1]-5", "MSH-18", "PID[1]" (with_field
/// false, or a byte of the id), "segment 4" (the segment's id is not valid), or "message".
/// Counts segments and fields the way the scanner does; slow, only for errors.
std::string DescribeByte(std::string_view raw, char field_separator, std::size_t at,
                         bool with_field = true);

/// Bytes the scanner classifies at once, one bit each in a 32-bit mask.
constexpr std::size_t kScanBlock = 32;

/// One bit per byte of a 32-byte block, for the bytes the scanner has to look at.
struct BlockMasks {
  std::uint32_t field = 0;       ///< the field separator
  std::uint32_t repetition = 0;  ///< the repetition separator (counted for max_repetitions)
  std::uint32_t control = 0;     ///< 0x00-0x1F: CR/LF end segments, TAB is data, others refused
  std::uint32_t high = 0;        ///< >= 0x80: checked against the declared charset
};

/// Writes the offset of every `separator` in raw[begin, end) to out[] in order; returns the end.
/// Bytes of `raw` past `end` may be read (never past raw's end). The lazy field index of
/// ParsedMessage::Separators(); lives with the Scanner to share its SSE2 code.
std::uint32_t* WriteFieldSeparators(std::string_view raw, std::size_t begin, std::size_t end,
                                    char separator, std::uint32_t* out);

/// Views of the fields of a segment straight from its bytes, without recording offsets: for a
/// segment whose field index is not built yet (ParsedMessage::Separators) when a reader asks
/// for many of its fields at once (Segment::RawFields). `begin` is the byte after the segment
/// id, so the field that follows the k-th `separator` (k from 1) in raw[begin, end) goes to
/// out[k], for k < max; out[0] is not written, nor are fields the segment does not have. Reads
/// like WriteFieldSeparators, and stops once out[max - 1] is written.
void WriteFieldViews(std::string_view raw, std::size_t begin, std::size_t end, char separator,
                     std::string_view* out, std::size_t max);

/// The offset of the n-th (1-based) `separator` in raw[begin, end), or npos. Reads like
/// WriteFieldSeparators.
std::size_t FindSeparator(std::string_view raw, std::size_t begin, std::size_t end, char separator,
                          std::size_t n);

/// Indexes the segments of a message whose delimiters are known and validates it, in one pass
/// over the bytes: 32 at a time with SSE2 (a scalar loop elsewhere), stopping only at segment
/// terminators, repetition separators, other control bytes and (to check the charset) bytes
/// >= 0x80. Field separators are only counted (for field_count and max_fields_per_segment):
/// their offsets are found later, per segment, by WriteFieldSeparators. The hot path returns
/// bool; the Status of a failure is kept in error_.
class Scanner {
 public:
  Scanner(ParsedMessage& msg, const ParseLimits& limits);

  /// Indexes the whole message; `msh2_end` is the offset just past MSH-2.
  Status Run(std::size_t msh2_end);

 private:
  bool Scan(std::size_t from, bool first_segment_only);
  bool FastBlocks(std::size_t& pos, bool first_segment_only);
  bool Events(std::size_t block, const char* bytes, const BlockMasks& m, bool first_segment_only,
              bool& stopped);
  bool AddFields(std::uint32_t mask);
  bool AddRepetition(std::size_t at);
  bool EndSegment(std::size_t end);
  bool EndOtherSegment(std::size_t end);
  void AddSegment(std::size_t start, std::size_t end, std::size_t fields);
  bool FieldLimitError();
  bool CheckSegmentId(std::size_t start, std::size_t end);
  bool CheckHighBytes(std::size_t block, std::uint32_t mask);
  bool CheckRange(std::size_t begin, std::size_t end);
  std::string_view Msh18() const;
  bool ReadCharset();
  bool ByteError(std::size_t at, std::string_view reason);
  bool Fail(Status status);
  bool IsBlank(std::size_t begin, std::size_t end) const;
  std::string CharsetReason() const;

  /// Counts segment ids as they come (Segment::occurrence).
  class OccurrenceCounter {
   public:
    std::uint32_t Next(const char* id);

   private:
    static constexpr std::uint32_t kSlots = 64;  // power of two
    static constexpr std::uint32_t kMaxUsed = 48;
    std::uint32_t& Counter(std::uint32_t key);
    void Spill();
    std::uint32_t keys_[kSlots] = {};  // id key + 1; 0 = free
    std::uint32_t counts_[kSlots];     // set when its key is: not zeroed for every Parse
    std::uint32_t used_ = 0;
    std::uint32_t last_id_ = 0;            ///< the previous id's 3 bytes (0: none): OBX follows OBX
    std::uint32_t* last_count_ = nullptr;  ///< its counter
    std::vector<std::uint32_t> all_;       // one counter per possible id once kMaxUsed is reached
  };

  ParsedMessage& msg_;
  const ParseLimits& limits_;
  const char* data_;
  std::size_t size_;
  char field_separator_;
  char repetition_separator_;
  Status error_;

  std::size_t seg_start_ = 0;      ///< first byte of the segment being scanned
  std::size_t segment_count_ = 0;  ///< entries of msg_.segments_ in use
  std::uint32_t entries_ = 0;      ///< entries of msg_.separators_ the segments so far need
  std::size_t fields_ = 2;         ///< fields so far in it (MSH starts with MSH-1, MSH-2)
  std::size_t repetitions_ = 0;    ///< repetition separators in the current field
  bool check_high_ = false;        ///< check bytes >= 0x80 (not for Latin-1)
  std::size_t utf8_resume_ = 0;    ///< bytes before this were checked as UTF-8
  std::size_t stop_ = 0;           ///< where Scan() stopped
  OccurrenceCounter occurrences_;
};

}  // namespace fhirbridge::hl7v2::internal
