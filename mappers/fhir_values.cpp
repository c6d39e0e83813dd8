#include "mappers/fhir_values.h"

#include <array>
#include <cstring>

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

std::uint64_t Finalise(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Eight bytes at a time into two lanes (multiply and rotate), tails byte by byte.
void MixInto(Hash128& h, std::string_view text) {
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
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

Hash128 HashTexts(std::string_view prefix, std::string_view text) {
  Hash128 h{0xcbf29ce484222325ULL ^ 0x9e3779b97f4a7c15ULL,
            0xcbf29ce484222325ULL ^ 0x632be59bd9b4e019ULL};
  MixInto(h, prefix);
  MixInto(h, "|");  // so that ("ab", "c") and ("a", "bc") differ
  MixInto(h, text);
  // The lengths too, so that texts that differ only in trailing zero bytes differ.
  h.hi ^= text.size() * 0xff51afd7ed558ccdULL;
  return {Finalise(h.hi), Finalise(h.lo ^ h.hi)};
}

constexpr char kHex[] = "0123456789abcdef";

// The two hex digits of every byte, so that a UUID is written a byte (not a nibble) at a time.
constexpr std::array<char, 512> kHexPairs = [] {
  std::array<char, 512> t{};
  for (std::size_t b = 0; b < 256; ++b) {
    t[2 * b] = kHex[b >> 4];
    t[2 * b + 1] = kHex[b & 15];
  }
  return t;
}();

// `digits` (even) lowercase hex digits of the low bits of `v`, most significant first.
char* WriteHex(char* at, std::uint64_t v, int digits) {
  for (int i = digits / 2 - 1; i >= 0; --i) {
    const std::size_t b = (v >> (8 * i)) & 0xff;
    *at++ = kHexPairs[2 * b];
    *at++ = kHexPairs[2 * b + 1];
  }
  return at;
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
  char* at = WriteHex(uuid, hi >> 32, 8);
  *at++ = '-';
  at = WriteHex(at, (hi >> 16) & 0xffff, 4);
  *at++ = '-';
  at = WriteHex(at, hi & 0xffff, 4);
  *at++ = '-';
  at = WriteHex(at, lo >> 48, 4);
  *at++ = '-';
  WriteHex(at, lo & 0xffffffffffffULL, 12);
}

std::string HashHex64(std::string_view text) {
  std::string out;
  char hex[16];
  WriteHex(hex, HashTexts({}, text).hi, 16);
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
