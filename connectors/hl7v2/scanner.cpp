// The one-pass indexer behind Parse(): see parse.h.

#include <algorithm>
#include <cstring>

#if defined(__SSE2__) && !defined(FHIRBRIDGE_ER7_SCALAR)
#define FHIRBRIDGE_ER7_SSE2 1
#include <emmintrin.h>
#endif

#include "connectors/hl7v2/charset.h"
#include "connectors/hl7v2/parse.h"

namespace fhirbridge::hl7v2::internal {
namespace {

constexpr std::size_t kBlock = kScanBlock;
/// Entries of separators_ kept free before each block: a block writes at most one per byte
/// (a field separator or a segment's sentinel), and the last segment's sentinel follows it.
constexpr std::size_t kRoom = 2 * kBlock;

/// Writes block + the position of each set bit of `mask` to out[]; returns the end. A plain
/// loop: measured faster than branch-free variants that write a fixed number ahead.
inline std::uint32_t* WriteOffsets(std::uint32_t* out, std::uint32_t block, std::uint32_t mask) {
  for (; mask != 0; mask &= mask - 1)
    *out++ = block + static_cast<std::uint32_t>(__builtin_ctz(mask));
  return out;
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
  const auto digit = [](char c) {
    return static_cast<std::uint32_t>(c <= '9' ? c - '0' : c - 'A' + 10);
  };
  const std::uint32_t key =
      static_cast<std::uint32_t>(id[0] - 'A') * 36 * 36 + digit(id[1]) * 36 + digit(id[2]);
  if (!all_.empty()) return ++all_[key];
  if (last_slot_ < kSlots && keys_[last_slot_] == key + 1) return ++counts_[last_slot_];
  std::uint32_t slot = (key * 2654435761u) >> 26;  // Fibonacci hashing into 64 slots
  while (keys_[slot] != 0) {
    if (keys_[slot] == key + 1) {
      last_slot_ = slot;
      return ++counts_[slot];
    }
    slot = (slot + 1) & (kSlots - 1);
  }
  if (used_ == kMaxUsed) {
    Spill();
    return ++all_[key];
  }
  keys_[slot] = key + 1;
  counts_[slot] = 1;
  ++used_;
  last_slot_ = slot;
  return 1;
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
  // Sized for a PCD-01 message (a segment every ~100 bytes, a field every ~6) so that a typical
  // message needs these two allocations and no more.
  msg_.segments_.reserve(size_ / 64 + 4);
  msg_.separators_.resize(size_ / 4 + 2 * kRoom);  // not zeroed: see DefaultInitAllocator
  out_ = msg_.separators_.data();
  room_end_ = out_ + msg_.separators_.size() - kRoom;
  // MSH: its field separator is MSH-1, and MSH-2 holds delimiters that are not separators.
  *out_++ = 3;
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
  msg_.separators_.resize(static_cast<std::size_t>(out_ - msg_.separators_.data()));
  return Status::Ok();
}

bool Scanner::Scan(std::size_t from, bool first_segment_only) {
  std::size_t pos = from;
  while (pos < size_) {
    if (!FastBlocks(pos, first_segment_only)) return false;
    if (pos >= size_) break;
    // A block the fast loop left: it has a repetition separator, a control byte other than
    // CR/LF, a byte to check against the charset, or is the last, partial block (or we only
    // want MSH, or the output needs room).
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
    if (out_ > room_end_) Grow();
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
/// The fast loop, over whole blocks whose only special bytes are field separators and segment
/// terminators: most of a message. Its state stays in registers except around EndSegment().
/// Advances `pos` to the first block it leaves to the general path.
bool Scanner::FastBlocks(std::size_t& pos, bool first_segment_only) {
  const __m128i field = _mm_set1_epi8(field_separator_);
  const __m128i repetition = _mm_set1_epi8(repetition_separator_);
  const __m128i control = _mm_set1_epi8(0x1F);
  const __m128i high = check_high_ ? _mm_set1_epi8(static_cast<char>(0x80)) : _mm_setzero_si128();
  const auto bits = [](__m128i lo, __m128i hi) {
    return static_cast<std::uint32_t>(_mm_movemask_epi8(lo)) |
           static_cast<std::uint32_t>(_mm_movemask_epi8(hi)) << 16;
  };
  const std::size_t max_fields = limits_.max_fields_per_segment;
  std::uint32_t* out = out_;
  std::uint32_t* synced = out_;  // out_ as last stored
  std::size_t fields = fields_;
  // Adds the separators of `mask`; false (with error_ set) past the field limit.
  const auto add = [&](std::uint32_t mask) {
    std::uint32_t* const next = WriteOffsets(out, static_cast<std::uint32_t>(pos), mask);
    fields += static_cast<std::size_t>(next - out);
    out = next;
    if (fields <= max_fields) return true;
    out_ = out;
    fields_ = fields;
    return FieldLimitError(pos, mask);
  };
  for (; size_ - pos >= kBlock && out <= room_end_; pos += kBlock) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data_ + pos));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data_ + pos + 16));
    const __m128i lo_control = _mm_cmpeq_epi8(_mm_min_epu8(lo, control), lo);
    const __m128i hi_control = _mm_cmpeq_epi8(_mm_min_epu8(hi, control), hi);
    const __m128i lo_repetition = _mm_cmpeq_epi8(lo, repetition);
    const __m128i hi_repetition = _mm_cmpeq_epi8(hi, repetition);
    // One test for all that is not a field separator: compare results are 0xFF per byte and a
    // high byte has bit 7 set, so a single movemask sees them all.
    const __m128i special = _mm_or_si128(_mm_or_si128(_mm_or_si128(lo_control, hi_control),
                                                      _mm_or_si128(lo_repetition, hi_repetition)),
                                         _mm_and_si128(_mm_or_si128(lo, hi), high));
    std::uint32_t fields_mask = bits(_mm_cmpeq_epi8(lo, field), _mm_cmpeq_epi8(hi, field));
    if (_mm_movemask_epi8(special) != 0) {
      // Segment terminators are handled here; anything else goes to the general path.
      if (first_segment_only ||
          _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(lo_repetition, hi_repetition),
                                         _mm_and_si128(_mm_or_si128(lo, hi), high))) != 0) {
        break;
      }
      const std::uint32_t terminators = bits(lo_control, hi_control);
      bool only_terminators = true;
      for (std::uint32_t t = terminators; t != 0; t &= t - 1) {
        const char c = data_[pos + static_cast<std::size_t>(__builtin_ctz(t))];
        only_terminators = only_terminators && (c == '\r' || c == '\n');
      }
      if (!only_terminators) break;
      for (std::uint32_t t = terminators; t != 0; t &= t - 1) {
        const std::uint32_t below = (t & (0u - t)) - 1;  // bits before the terminator
        if (!add(fields_mask & below)) return false;
        fields_mask &= ~below;
        out_ = out;
        fields_ = fields;
        if (!EndSegment(pos + static_cast<std::size_t>(__builtin_ctz(t)))) return false;
        out = synced = out_;
        fields = fields_;
      }
    }
    if (!add(fields_mask)) return false;
  }
  if (out != synced) repetitions_ = 0;  // a field separator started a new field
  out_ = out;
  fields_ = fields;
  return true;
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
    if (before != 0 && !AddFields(block, before)) return false;
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
  return fields == 0 || AddFields(block, fields);
}

bool Scanner::AddFields(std::size_t block, std::uint32_t mask) {
  std::uint32_t* const next = WriteOffsets(out_, static_cast<std::uint32_t>(block), mask);
  fields_ += static_cast<std::size_t>(next - out_);
  if (fields_ > limits_.max_fields_per_segment) return FieldLimitError(block, mask);
  out_ = next;
  repetitions_ = 0;
  return true;
}

void Scanner::Grow() {
  auto& seps = msg_.separators_;
  const std::size_t used = static_cast<std::size_t>(out_ - seps.data());
  seps.resize(std::max(seps.size() * 2, used + 2 * kRoom));
  out_ = seps.data() + used;
  room_end_ = seps.data() + seps.size() - kRoom;
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

bool Scanner::EndSegment(std::size_t end) {
  const std::size_t start = seg_start_;
  const std::size_t fields = fields_;
  auto& segments = msg_.segments_;
  const std::size_t first = seg_first_sep_;
  seg_start_ = end + 1;
  fields_ = 0;
  repetitions_ = 0;
  const std::size_t written = static_cast<std::size_t>(out_ - msg_.separators_.data());
  // Empty lines (CRLF, doubled terminators) and trailing blanks are not segments.
  if (written == first && IsBlank(start, end)) return true;
  // The usual segment inline; CheckSegmentId() for MSH, a second MSH and bad ids.
  const bool plain = end - start >= 3 && IsSegmentId(std::string_view(data_ + start, 3)) &&
                     (end - start == 3 || data_[start + 3] == field_separator_) &&
                     !segments.empty() && std::memcmp(data_ + start, "MSH", 3) != 0;
  if (!plain && !CheckSegmentId(start, end)) return false;
  if (segments.size() >= limits_.max_segments) {
    return Fail(Status::ResourceExhausted("message has more than " +
                                          std::to_string(limits_.max_segments) +
                                          " segments (limit max_segments)"));
  }
  const std::uint32_t occurrence = occurrences_.Next(data_ + start);
  *out_++ = static_cast<std::uint32_t>(end);  // sentinel: the last field ends here
  segments.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end),
                      static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(fields),
                      occurrence});
  seg_first_sep_ = written + 1;
  return true;
}

bool Scanner::IsBlank(std::size_t begin, std::size_t end) const {
  for (std::size_t i = begin; i < end; ++i) {
    if (data_[i] != ' ' && data_[i] != '\t') return false;
  }
  return true;
}

}  // namespace fhirbridge::hl7v2::internal
