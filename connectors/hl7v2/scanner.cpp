// The one-pass indexer behind Parse(): see parse.h.

#include <cstring>

#if defined(__SSE2__) && !defined(FHIRBRIDGE_ER7_SCALAR)
#define FHIRBRIDGE_ER7_SSE2 1
#include <emmintrin.h>
#endif

#include "connectors/hl7v2/parse.h"

namespace fhirbridge::hl7v2::internal {
namespace {

constexpr std::size_t kBlock = kScanBlock;

/// Writes block + the position of each set bit of `mask` to out[]; returns the end. A plain
/// loop: measured faster than branch-free variants that write a fixed number ahead.
inline std::uint32_t* WriteOffsets(std::uint32_t* out, std::uint32_t block, std::uint32_t mask) {
  for (; mask != 0; mask &= mask - 1)
    *out++ = block + static_cast<std::uint32_t>(__builtin_ctz(mask));
  return out;
}

/// Set bits of `mask`. Not __builtin_popcount: without -mpopcnt (baseline x86-64) it is a call
/// into libgcc.
inline std::size_t CountBits(std::uint32_t mask) {
  mask = mask - ((mask >> 1) & 0x55555555u);
  mask = (mask & 0x33333333u) + ((mask >> 2) & 0x33333333u);
  mask = (mask + (mask >> 4)) & 0x0F0F0F0Fu;
  return (mask * 0x01010101u) >> 24;
}

#ifdef FHIRBRIDGE_ER7_SSE2
inline BlockMasks Classify(const char* p, char field, char repetition) {
  const __m128i f = _mm_set1_epi8(field);
  const __m128i r = _mm_set1_epi8(repetition);
  const __m128i c = _mm_set1_epi8(0x1F);
  const auto mask = [](__m128i v) { return static_cast<std::uint32_t>(_mm_movemask_epi8(v)); };
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
  BlockMasks m;
  m.field = mask(_mm_cmpeq_epi8(lo, f)) | mask(_mm_cmpeq_epi8(hi, f)) << 16;
  m.repetition = mask(_mm_cmpeq_epi8(lo, r)) | mask(_mm_cmpeq_epi8(hi, r)) << 16;
  // Unsigned "v <= 0x1F" is "min(v, 0x1F) == v": SSE2 has no unsigned byte compare.
  m.control = mask(_mm_cmpeq_epi8(_mm_min_epu8(lo, c), lo)) |
              mask(_mm_cmpeq_epi8(_mm_min_epu8(hi, c), hi)) << 16;
  m.high = mask(lo) | mask(hi) << 16;
  return m;
}
#else
inline BlockMasks Classify(const char* p, char field, char repetition) {
  BlockMasks m;
  for (std::size_t i = 0; i < kBlock; ++i) {
    const auto b = static_cast<unsigned char>(p[i]);
    const std::uint32_t bit = 1u << i;
    if (p[i] == field) m.field |= bit;
    if (p[i] == repetition) m.repetition |= bit;
    if (b <= 0x1F) m.control |= bit;
    if (b >= 0x80) m.high |= bit;
  }
  return m;
}
#endif

}  // namespace

// ---------------------------------------------------------------------------------------------
// OccurrenceCounter: a small open-addressing table is enough for real messages (a handful of
// distinct ids); past kMaxUsed distinct ids, one counter per possible id (26 * 36 * 36).

std::uint32_t Scanner::OccurrenceCounter::Next(const char* id) {
  const std::uint32_t bytes = static_cast<std::uint32_t>(static_cast<unsigned char>(id[0])) |
                              static_cast<std::uint32_t>(static_cast<unsigned char>(id[1])) << 8 |
                              static_cast<std::uint32_t>(static_cast<unsigned char>(id[2])) << 16;
  if (bytes == last_id_) return ++*last_count_;  // OBX follows OBX: no hashing
  const auto digit = [](char c) {
    return static_cast<std::uint32_t>(c <= '9' ? c - '0' : c - 'A' + 10);
  };
  last_id_ = bytes;
  last_count_ = &Counter(static_cast<std::uint32_t>(id[0] - 'A') * 36 * 36 + digit(id[1]) * 36 +
                         digit(id[2]));
  return ++*last_count_;
}

std::uint32_t& Scanner::OccurrenceCounter::Counter(std::uint32_t key) {
  if (!all_.empty()) return all_[key];
  std::uint32_t slot = (key * 2654435761u) >> 26;  // Fibonacci hashing into 64 slots
  while (keys_[slot] != 0) {
    if (keys_[slot] == key + 1) return counts_[slot];
    slot = (slot + 1) & (kSlots - 1);
  }
  if (used_ == kMaxUsed) {
    Spill();
    return all_[key];
  }
  keys_[slot] = key + 1;
  counts_[slot] = 0;
  ++used_;
  return counts_[slot];
}

void Scanner::OccurrenceCounter::Spill() {
  all_.assign(26 * 36 * 36, 0);
  for (std::uint32_t i = 0; i < kSlots; ++i) {
    if (keys_[i] != 0) all_[keys_[i] - 1] = counts_[i];
  }
}

// ---------------------------------------------------------------------------------------------
// Scanner: the pass

Scanner::Scanner(ParsedMessage& msg, const ParseLimits& limits)
    : msg_(msg),
      limits_(limits),
      data_(msg.raw_.data()),
      size_(msg.raw_.size()),
      field_separator_(msg.delimiters_.field),
      repetition_separator_(msg.delimiters_.repetition) {}

Status Scanner::Run(std::size_t msh2_end) {
  // Sized for a PCD-01 message (a segment every ~100 bytes) so that a typical message needs
  // this one allocation and no more. Filled through segment_count_ rather than push_back(),
  // which GCC leaves out of line (a call per segment).
  msg_.segments_.resize(size_ / 64 + 4);  // not zeroed: see DefaultInitAllocator
  // MSH: fields_ starts at 2 for MSH-1 and MSH-2, which holds delimiters, not separators.
  bool ok = Scan(msh2_end, /*first_segment_only=*/true);
  const std::size_t msh_end = stop_;
  // The charset is only known once MSH-18 is: check MSH's own bytes now, the rest as we go.
  ok = ok && ReadCharset() && CheckRange(0, msh_end);
  if (ok && msh_end < size_) {
    check_high_ = msg_.charset_ != Charset::kLatin1;  // every byte is a Latin-1 character
    utf8_resume_ = msh_end + 1;
    ok = Scan(msh_end + 1, /*first_segment_only=*/false);
  }
  if (!ok) return error_;
  msg_.segments_.resize(segment_count_);
  msg_.separator_entries_ = entries_;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Segment ends: the usual one inline (about every 100 bytes, so it counts), the rest out of line.

// always_inline: FastBlocks would otherwise spill its vector registers around a call.
[[gnu::always_inline]] inline bool Scanner::EndSegment(std::size_t end) {
  const std::size_t start = seg_start_;
  const std::size_t fields = fields_;
  // Not MSH, within the field and segment limits, a plain id and a field after it (so not
  // blank). `fields - 1` wraps for 0.
  if (fields - 1 < limits_.max_fields_per_segment && segment_count_ != 0 &&
      segment_count_ < limits_.max_segments && end - start > 3 &&
      data_[start + 3] == field_separator_ && IsSegmentId(std::string_view(data_ + start, 3)) &&
      std::memcmp(data_ + start, "MSH", 3) != 0) {
    seg_start_ = end + 1;
    fields_ = 0;
    repetitions_ = 0;
    AddSegment(start, end, fields);
    return true;
  }
  return EndOtherSegment(end);
}

bool Scanner::EndOtherSegment(std::size_t end) {
  const std::size_t start = seg_start_;
  const std::size_t fields = fields_;
  seg_start_ = end + 1;
  fields_ = 0;
  repetitions_ = 0;
  // Empty lines (CRLF, doubled terminators) and trailing blanks are not segments. (MSH, the
  // only segment that starts with fields, is never blank.)
  if (fields == 0 && IsBlank(start, end)) return true;
  if (fields > limits_.max_fields_per_segment) {
    seg_start_ = start;  // FieldLimitError() names the segment that seg_start_ is in
    return FieldLimitError();
  }
  if (!CheckSegmentId(start, end)) return false;
  if (segment_count_ >= limits_.max_segments) {
    return Fail(Status::ResourceExhausted("message has more than " +
                                          std::to_string(limits_.max_segments) +
                                          " segments (limit max_segments)"));
  }
  AddSegment(start, end, fields);
  return true;
}

[[gnu::always_inline]] inline void Scanner::AddSegment(std::size_t start, std::size_t end,
                                                       std::size_t fields) {
  auto& segments = msg_.segments_;
  const bool msh = segment_count_ == 0;
  if (segment_count_ == segments.size()) segments.resize(2 * segments.size());
  segments[segment_count_++] = {static_cast<std::uint32_t>(start),
                                static_cast<std::uint32_t>(end),
                                entries_,
                                static_cast<std::uint32_t>(fields),
                                occurrences_.Next(data_ + start),
                                /*indexed=*/false};
  // Its slot: a separator per field (MSH-2 has none: MSH-1 is the separator before it), and
  // the sentinel. Fits 32 bits: at most one entry per byte of a message below 4 GiB, plus one.
  entries_ += static_cast<std::uint32_t>(fields - (msh ? 1 : 0) + 1);
}

bool Scanner::Scan(std::size_t from, bool first_segment_only) {
  std::size_t pos = from;
  while (pos < size_) {
    if (!FastBlocks(pos, first_segment_only)) return false;
    if (pos >= size_) break;
    // A block the fast loop left: it has a repetition separator, a control byte other than
    // CR/LF, a byte to check against the charset, or is the last, partial block (or we only
    // want MSH).
    const char* p = data_ + pos;
    char tail[kBlock];
    if (size_ - pos < kBlock) {
      // Pad the last block with spaces: never a delimiter, control or high byte.
      std::memcpy(tail, p, size_ - pos);
      std::memset(tail + (size_ - pos), ' ', kBlock - (size_ - pos));
      p = tail;
    }
    const BlockMasks m = Classify(p, field_separator_, repetition_separator_);
    if (m.high != 0 && check_high_ && !CheckHighBytes(pos, m.high)) return false;
    bool stopped = false;
    if (!Events(pos, p, m, first_segment_only, stopped)) return false;
    if (stopped) return true;
    pos += kBlock;
  }
  if (!EndSegment(size_)) return false;
  stop_ = size_;
  return true;
}

#ifdef FHIRBRIDGE_ER7_SSE2
namespace {

/// kPrefix + 32 - i, loaded as 32 bytes, is 0xFF for the first i bytes and 0 for the rest.
constexpr std::int8_t kPrefix[64] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                     -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                     -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

/// Field separators counted per byte lane: adding a block's compare results (0xFF = -1 per
/// separator) costs two instructions where a popcount of its mask would cost a dozen (no
/// POPCNT in baseline x86-64). A lane gains at most 2 per block, so Sum() at least every
/// kMaxBlocks blocks keeps it below 256.
class SeparatorCounts {
 public:
  static constexpr unsigned kMaxBlocks = 127;

  /// Counts the separators of one block; true when Sum() must be called before the next.
  bool Add(__m128i lo, __m128i hi) {
    lanes_ = _mm_sub_epi8(_mm_sub_epi8(lanes_, lo), hi);
    return ++blocks_ == kMaxBlocks;
  }
  /// Counts the separators left in the first `n` bytes of the block and clears them from lo/hi
  /// (the next call counts from there).
  void AddPrefix(__m128i& lo, __m128i& hi, unsigned n) {
    const __m128i lo_prefix = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kPrefix + 32 - n));
    const __m128i hi_prefix = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kPrefix + 48 - n));
    lanes_ = _mm_sub_epi8(_mm_sub_epi8(lanes_, _mm_and_si128(lo, lo_prefix)),
                          _mm_and_si128(hi, hi_prefix));
    lo = _mm_andnot_si128(lo_prefix, lo);
    hi = _mm_andnot_si128(hi_prefix, hi);
  }
  /// The count so far, and starts again from 0.
  std::size_t Sum() {
    const __m128i sums = _mm_sad_epu8(lanes_, _mm_setzero_si128());  // two 64-bit lane sums
    lanes_ = _mm_setzero_si128();
    blocks_ = 0;
    return static_cast<std::size_t>(_mm_cvtsi128_si32(sums)) +
           static_cast<std::size_t>(_mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums)));
  }

 private:
  __m128i lanes_ = _mm_setzero_si128();
  unsigned blocks_ = 0;
};

}  // namespace

/// The fast loop, over whole blocks whose only special bytes are field separators and segment
/// terminators: most of a message. It counts field separators without looking at where they
/// are, and leaves registers only around EndSegment(). Advances `pos` to the first block it
/// leaves to the general path. The field limit is checked at each segment end and on the way
/// out, which is before any error the general path could report for later bytes: so the
/// first error in the message is still the one reported.
bool Scanner::FastBlocks(std::size_t& pos, bool first_segment_only) {
  const __m128i field = _mm_set1_epi8(field_separator_);
  const __m128i repetition = _mm_set1_epi8(repetition_separator_);
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  // One signed compare finds the bytes to stop at: "v < 0x20" is true for control bytes and,
  // as signed, for bytes >= 0x80 too; for Latin-1, where those are data, flipping bit 7 first
  // makes it the unsigned "v < 0x20".
  const __m128i bias = _mm_set1_epi8(static_cast<char>(check_high_ ? 0 : 0x80));
  const __m128i limit = _mm_set1_epi8(static_cast<char>(check_high_ ? 0x20 : 0xA0));
  const auto bits = [](__m128i lo, __m128i hi) {
    return static_cast<std::uint32_t>(_mm_movemask_epi8(lo)) |
           static_cast<std::uint32_t>(_mm_movemask_epi8(hi)) << 16;
  };
  const char* const data = data_;  // locals: EndSegment() could change members, not these
  const std::size_t size = size_;
  SeparatorCounts counts;
  std::size_t fields = fields_;
  for (; size - pos >= kBlock; pos += kBlock) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos + 16));
    const __m128i lo_stop = _mm_cmplt_epi8(_mm_xor_si128(lo, bias), limit);
    const __m128i hi_stop = _mm_cmplt_epi8(_mm_xor_si128(hi, bias), limit);
    const __m128i lo_repetition = _mm_cmpeq_epi8(lo, repetition);
    const __m128i hi_repetition = _mm_cmpeq_epi8(hi, repetition);
    __m128i lo_field = _mm_cmpeq_epi8(lo, field);
    __m128i hi_field = _mm_cmpeq_epi8(hi, field);
    if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(lo_stop, hi_stop),
                                       _mm_or_si128(lo_repetition, hi_repetition))) != 0) {
      // Segment terminators are handled here; anything else goes to the general path.
      const std::uint32_t terminators = bits(lo_stop, hi_stop);
      const std::uint32_t crlf = bits(_mm_or_si128(_mm_cmpeq_epi8(lo, cr), _mm_cmpeq_epi8(lo, lf)),
                                      _mm_or_si128(_mm_cmpeq_epi8(hi, cr), _mm_cmpeq_epi8(hi, lf)));
      if (first_segment_only || terminators != crlf ||
          _mm_movemask_epi8(_mm_or_si128(lo_repetition, hi_repetition)) != 0) {
        break;
      }
      // Each terminator ends the segment with the separators before it; the block's later
      // separators belong to the next one.
      for (std::uint32_t t = terminators; t != 0; t &= t - 1) {
        const auto at = static_cast<unsigned>(__builtin_ctz(t));
        counts.AddPrefix(lo_field, hi_field, at);
        fields_ = fields + counts.Sum();
        if (!EndSegment(pos + at)) return false;
        fields = fields_;
      }
    }
    if (counts.Add(lo_field, hi_field)) {
      fields += counts.Sum();
      if (fields > limits_.max_fields_per_segment) break;  // reported on the way out
    }
  }
  fields += counts.Sum();
  if (fields != fields_) repetitions_ = 0;  // a field separator started a new field
  fields_ = fields;
  return fields <= limits_.max_fields_per_segment || FieldLimitError();
}
#else
bool Scanner::FastBlocks(std::size_t&, bool) { return true; }  // the general path does it all
#endif

/// A block with control bytes or repetition separators: take them in order, adding the field
/// separators before each in bulk.
bool Scanner::Events(std::size_t block, const char* bytes, const BlockMasks& m,
                     bool first_segment_only, bool& stopped) {
  std::uint32_t fields = m.field;
  std::uint32_t events = m.control | m.repetition;
  while (events != 0) {
    const auto i = static_cast<unsigned>(__builtin_ctz(events));
    const std::uint32_t bit = 1u << i;
    events &= events - 1;
    const std::uint32_t before = fields & (bit - 1);
    if (before != 0 && !AddFields(before)) return false;
    fields &= ~(bit - 1);
    if ((m.repetition & bit) != 0) {
      if (!AddRepetition(block + i)) return false;
    } else if (bytes[i] == '\r' || bytes[i] == '\n') {
      // HL7 v2.5 §2.5.1: segments end with CR; LF and CRLF are what files and some senders use.
      if (!EndSegment(block + i)) return false;
      if (first_segment_only) {
        stop_ = block + i;
        stopped = true;
        return true;
      }
    } else if (bytes[i] != '\t') {
      // NUL ends C strings, VT/FS are MLLP framing, and FHIR strings forbid C0 controls.
      return ByteError(block + i, "is a control character, which is not allowed");
    }
  }
  return fields == 0 || AddFields(fields);
}

bool Scanner::AddFields(std::uint32_t mask) {
  fields_ += CountBits(mask);
  if (fields_ > limits_.max_fields_per_segment) return FieldLimitError();
  repetitions_ = 0;
  return true;
}

bool Scanner::AddRepetition(std::size_t at) {
  ++repetitions_;
  if (repetitions_ + 1 > limits_.max_repetitions) {
    return Fail(Status::ResourceExhausted(
        DescribeByte(msg_.raw_, field_separator_, at) + ": field has more than " +
        std::to_string(limits_.max_repetitions) + " repetitions (limit max_repetitions)"));
  }
  return true;
}

bool Scanner::IsBlank(std::size_t begin, std::size_t end) const {
  for (std::size_t i = begin; i < end; ++i) {
    if (data_[i] != ' ' && data_[i] != '\t') return false;
  }
  return true;
}

#ifdef FHIRBRIDGE_ER7_SSE2
// One bit per byte of raw[pos, pos + 16) that is `sep`, with the bits at or past `end` dropped.
// Reads past the segment (never past the message: callers check raw.size() - pos >= 16).
static std::uint32_t SeparatorMask(std::string_view raw, std::size_t pos, std::size_t end,
                                   __m128i sep) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(raw.data() + pos));
  auto mask = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, sep)));
  if (end - pos < 16) mask &= (1u << (end - pos)) - 1;
  return mask;
}
#endif

std::size_t FindSeparator(std::string_view raw, std::size_t begin, std::size_t end, char separator,
                          std::size_t n) {
  std::size_t pos = begin;
#ifdef FHIRBRIDGE_ER7_SSE2
  const __m128i sep = _mm_set1_epi8(separator);
  for (; pos < end && raw.size() - pos >= 16; pos += 16) {
    std::uint32_t mask = SeparatorMask(raw, pos, end, sep);
    const std::size_t count = CountBits(mask);
    if (count < n) {
      n -= count;
      continue;
    }
    for (; n > 1; --n) mask &= mask - 1;
    return pos + static_cast<std::size_t>(__builtin_ctz(mask));
  }
#endif
  for (; pos < end; ++pos) {
    if (raw[pos] == separator && --n == 0) return pos;
  }
  return std::string_view::npos;
}

std::uint32_t* WriteFieldSeparators(std::string_view raw, std::size_t begin, std::size_t end,
                                    char separator, std::uint32_t* out) {
  std::size_t pos = begin;
#ifdef FHIRBRIDGE_ER7_SSE2
  const __m128i sep = _mm_set1_epi8(separator);
  for (; pos < end && raw.size() - pos >= 16; pos += 16)
    out = WriteOffsets(out, static_cast<std::uint32_t>(pos), SeparatorMask(raw, pos, end, sep));
#endif
  for (; pos < end; ++pos) {
    if (raw[pos] == separator) *out++ = static_cast<std::uint32_t>(pos);
  }
  return out;
}

void WriteFieldViews(std::string_view raw, std::size_t begin, std::size_t end, char separator,
                     std::string_view* out, std::size_t max) {
  // An id is followed by the field separator or the line end (Parse checked it).
  if (max <= 1 || begin >= end || raw[begin] != separator) return;
  const char* const data = raw.data();
  std::string_view* next = out + 1;  // the field that `start` starts
  std::string_view* const last = out + max - 1;
  const char* start = data + begin + 1;
  std::size_t pos = begin + 1;
#ifdef FHIRBRIDGE_ER7_SSE2
  const __m128i sep = _mm_set1_epi8(separator);
  for (; pos < end && raw.size() - pos >= 16; pos += 16) {
    for (std::uint32_t mask = SeparatorMask(raw, pos, end, sep); mask != 0; mask &= mask - 1) {
      const char* const at = data + pos + static_cast<std::size_t>(__builtin_ctz(mask));
      *next = std::string_view(start, static_cast<std::size_t>(at - start));
      if (next == last) return;
      ++next;
      start = at + 1;
    }
  }
#endif
  for (; pos < end; ++pos) {
    if (raw[pos] != separator) continue;
    const char* const at = data + pos;
    *next = std::string_view(start, static_cast<std::size_t>(at - start));
    if (next == last) return;
    ++next;
    start = at + 1;
  }
  *next = std::string_view(start, static_cast<std::size_t>(data + end - start));
}

}  // namespace fhirbridge::hl7v2::internal
