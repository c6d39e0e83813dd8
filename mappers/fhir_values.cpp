#include "mappers/fhir_values.h"

#include <array>
#include <bit>
#include <cstring>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace fhirbridge::mappers {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Two 64-bit lanes with different seeds over `prefix`, '|' and `text`, each followed by a
// murmur3 finaliser: a 128-bit hash in one pass over the bytes (not cryptographic: fullUrls only
// need to be deterministic and distinct within a Bundle).
struct Hash128 {
  std::uint64_t hi;
  std::uint64_t lo;
};

constexpr std::uint64_t Finalise(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Eight bytes as one native-endian word (as memcpy loads them), also in constant evaluation.
constexpr std::uint64_t LoadWord(const char* p) {
  if (std::is_constant_evaluated()) {
    std::uint64_t word = 0;
    for (int i = 0; i < 8; ++i) {
      const int byte = std::endian::native == std::endian::little ? 7 - i : i;
      word = (word << 8) | static_cast<unsigned char>(p[byte]);
    }
    return word;
  }
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

// Eight bytes at a time into two lanes (multiply and rotate), tails byte by byte.
constexpr void MixInto(Hash128& h, std::string_view text) {
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    const std::uint64_t word = LoadWord(text.data() + i);
    h.hi = ((h.hi ^ word) * 0x9e3779b97f4a7c15ULL);
    h.hi = (h.hi << 29) | (h.hi >> 35);
    h.lo = ((h.lo ^ word) * 0xc2b2ae3d27d4eb4fULL);
    h.lo = (h.lo << 31) | (h.lo >> 33);
  }
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    h.hi = (h.hi ^ c) * 0x100000001b3ULL;
    h.lo = (h.lo ^ c) * 0x100000001b3ULL;
  }
}

// The lanes after `prefix` and its separator.
constexpr Hash128 Seed(std::string_view prefix) {
  Hash128 h{0xcbf29ce484222325ULL ^ 0x9e3779b97f4a7c15ULL,
            0xcbf29ce484222325ULL ^ 0x632be59bd9b4e019ULL};
  MixInto(h, prefix);
  MixInto(h, "|");  // so that ("ab", "c") and ("a", "bc") differ
  return h;
}

// Most UUIDs are Observations': their seed is computed at compile time.
constexpr Hash128 kObservationSeed = Seed("Observation");

Hash128 HashTexts(std::string_view prefix, std::string_view text) {
  Hash128 h = prefix == "Observation" ? kObservationSeed : Seed(prefix);
  MixInto(h, text);
  // The lengths too, so that texts that differ only in trailing zero bytes differ.
  h.hi ^= text.size() * 0xff51afd7ed558ccdULL;
  return {Finalise(h.hi), Finalise(h.lo ^ h.hi)};
}

// The 16 lowercase hex digits of `v`, most significant first: each nibble is spread into a
// byte of its own, then turned into its ASCII digit (all 16 at once with SSE2, else 8 at a time).
void WriteHex16(char* out, std::uint64_t v) {
#if defined(__SSE2__)
  if constexpr (std::endian::native == std::endian::little) {
    // Most significant byte first; each byte's high nibble, then its low one.
    const __m128i bytes = _mm_cvtsi64_si128(static_cast<long long>(__builtin_bswap64(v)));
    const __m128i low4 = _mm_set1_epi8(0x0f);
    const __m128i high = _mm_and_si128(_mm_srli_epi64(bytes, 4), low4);
    const __m128i nibbles = _mm_unpacklo_epi8(high, _mm_and_si128(bytes, low4));
    // '0' + nibble, and 'a' - '0' - 10 = 39 more for 10..15.
    const __m128i letters =
        _mm_and_si128(_mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)), _mm_set1_epi8(39));
    const __m128i digits = _mm_add_epi8(_mm_add_epi8(nibbles, _mm_set1_epi8('0')), letters);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), digits);
    return;
  }
#endif
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  for (int half = 0; half < 2; ++half) {
    std::uint64_t x = half == 0 ? v >> 32 : v & 0xffffffffULL;
    x = ((x & 0xffff0000ULL) << 16) | (x & 0xffffULL);
    x = ((x & 0x0000ff000000ff00ULL) << 8) | (x & 0x000000ff000000ffULL);
    x = ((x & 0x00f000f000f000f0ULL) << 4) | (x & 0x000f000f000f000fULL);
    // Byte i holds nibble i: digits 10..15 need 'a' - '0' - 10 = 39 more than '0' + nibble.
    const std::uint64_t letters = ((x + kOnes * 6) >> 4) & kOnes;
    x += kOnes * '0' + letters * 39;
    // Most significant digit first in memory.
    if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);
    std::memcpy(out + 8 * half, &x, 8);
  }
}

}  // namespace

bool AppendFhirDecimal(std::string& out, std::string_view nm) {
  const std::size_t size = out.size();
  out.resize(size + nm.size() + 1);
  const std::size_t length = WriteFhirDecimal(out.data() + size, nm);
  out.resize(size + length);
  return length != 0;
}

std::size_t WriteFhirDecimal(char* out, std::string_view nm) {
  nm = Trim(nm);
  bool negative = false;
  if (!nm.empty() && (nm.front() == '+' || nm.front() == '-')) {
    negative = nm.front() == '-';
    nm.remove_prefix(1);
  }
  const std::size_t dot = nm.find('.');
  std::string_view integer = nm.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : nm.substr(dot + 1);
  if (integer.empty() && fraction.empty()) return 0;
  for (char c : integer)
    if (!IsDigit(c)) return 0;
  for (char c : fraction)
    if (!IsDigit(c)) return 0;
  // FHIR decimal: -?(0|[1-9][0-9]*)(\.[0-9]+)?
  while (integer.size() > 1 && integer.front() == '0') integer.remove_prefix(1);
  bool all_zero = integer.empty() || integer == "0";
  for (char c : fraction) all_zero = all_zero && c == '0';
  char* at = out;
  if (negative && !all_zero) *at++ = '-';
  if (integer.empty()) {
    *at++ = '0';
  } else {
    std::memcpy(at, integer.data(), integer.size());
    at += integer.size();
  }
  if (!fraction.empty()) {
    *at++ = '.';
    std::memcpy(at, fraction.data(), fraction.size());
    at += fraction.size();
  }
  return static_cast<std::size_t>(at - out);
}

bool IsFhirDecimal(std::string_view nm) {
  if (nm.empty() || !IsDigit(nm[0])) return false;
  std::size_t i = 1;
  if (nm[0] != '0') {
    while (i < nm.size() && IsDigit(nm[i])) ++i;
  }
  if (i == nm.size()) return true;
  if (nm[i] != '.' || i + 1 == nm.size()) return false;  // "5." becomes "5"
  for (++i; i < nm.size(); ++i)
    if (!IsDigit(nm[i])) return false;
  return true;
}

std::optional<std::string_view> MderSentinelReason(std::string_view nm) {
  nm = Trim(nm);
  if (nm.size() < 7 || nm.size() > 8) return std::nullopt;
  if (nm == "8388607") return "not-a-number";
  if (nm == "8388606") return "positive-infinity";
  if (nm == "8388610" || nm == "-8388606") return "negative-infinity";
  if (nm == "8388608" || nm == "-8388608") return "error";  // NRes: not at this resolution
  if (nm == "8388609") return "error";                      // reserved for future use
  return std::nullopt;
}

std::string DeterministicUuid(std::string_view kind, std::string_view text) {
  std::string out;
  out.reserve(36);
  AppendDeterministicUuid(out, kind, text);
  return out;
}

void AppendDeterministicUuid(std::string& out, std::string_view kind, std::string_view text) {
  char uuid[kUuidLength];
  WriteDeterministicUuid(uuid, kind, text);
  out.append(uuid, sizeof uuid);
}

void WriteDeterministicUuid(char* uuid, std::string_view kind, std::string_view text) {
  const Hash128 h = HashTexts(kind, text);
  std::uint64_t hi = h.hi;
  std::uint64_t lo = h.lo;
  hi = (hi & ~0xf000ULL) | 0x8000ULL;              // version 8
  lo = (lo & ~(0xc0ULL << 56)) | (0x80ULL << 56);  // RFC 4122 variant
  char digits[32];
  WriteHex16(digits, hi);
  WriteHex16(digits + 16, lo);
  // 8-4-4-4-12 digits.
  std::memcpy(uuid, digits, 8);
  uuid[8] = '-';
  std::memcpy(uuid + 9, digits + 8, 4);
  uuid[13] = '-';
  std::memcpy(uuid + 14, digits + 12, 4);
  uuid[18] = '-';
  std::memcpy(uuid + 19, digits + 16, 4);
  uuid[23] = '-';
  std::memcpy(uuid + 24, digits + 20, 12);
}

std::string HashHex64(std::string_view text) {
  std::string out;
  char hex[16];
  WriteHex16(hex, HashTexts({}, text).hi);
  out.append(hex, sizeof hex);
  return out;
}

void AppendIdentifierComponent(std::string& out, std::string_view text) {
  AppendPercentEncoded(out, text, {});
}

// RFC 3986 unreserved characters.
constexpr std::array<bool, 256> kUnreserved = [] {
  std::array<bool, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : {'-', '.', '_', '~'}) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

void AppendPercentEncoded(std::string& out, std::string_view text, std::string_view also_plain) {
  std::size_t run = 0;  // start of the plain run not yet appended
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (kUnreserved[c] ||
        (!also_plain.empty() && also_plain.find(static_cast<char>(c)) != std::string_view::npos))
      continue;
    out.append(text.data() + run, i - run);
    const char escaped[3] = {'%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15]};
    out.append(escaped, 3);
    run = i + 1;
  }
  out.append(text.data() + run, text.size() - run);
}

std::string_view KnownSystemUri(std::string_view name, std::string& scratch) {
  if (name == "MDC") return kMdcSystem;
  if (name == "LN" || name == "LOINC") return kLoincSystem;
  if (name == "SCT" || name == "SNOMED-CT" || name == "SNM3") return "http://snomed.info/sct";
  if (name == "UCUM") return kUcumSystem;
  if (name == "I10") return "http://hl7.org/fhir/sid/icd-10";
  // HL7 v2 tables: HL70078 or HL7-0078 → the v2 code system of that table.
  std::string_view digits;
  if (name.size() == 7 && name.substr(0, 3) == "HL7") digits = name.substr(3);
  if (name.size() == 8 && name.substr(0, 4) == "HL7-") digits = name.substr(4);
  if (digits.size() == 4) {
    for (char c : digits)
      if (!IsDigit(c)) return {};
    scratch = "http://terminology.hl7.org/CodeSystem/v2-";
    scratch += digits;
    return scratch;
  }
  return {};
}

}  // namespace fhirbridge::mappers
