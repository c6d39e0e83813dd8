// Per-message helpers of PCD-01 mapping: splitting raw fields into components, decoding text
// and converting times once per distinct value (Context in pcd01_model.h).

#include "mappers/pcd01_model.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace fhirbridge::mappers::pcd01 {

namespace {

using hl7v2::Element;
using hl7v2::Segment;

// Component 1 of the first repetition of a raw field.
std::string_view FirstComponent(std::string_view field, const hl7v2::Delimiters& d) {
  field = field.substr(0, field.find(d.repetition));
  return field.substr(0, field.find(d.component));
}

// Bit i is set when byte i of the `n` (at most 16) bytes at `p` is `a` or `b`. Fields are short:
// one 16-byte compare replaces a memchr call per component.
std::uint32_t SeparatorMask(const char* p, std::size_t n, char a, char b) {
#if defined(__SSE2__)
  __m128i bytes;
  if (n >= 16) {
    bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  } else {
    char tail[16] = {};  // never read past the field (it may end the buffer)
    std::memcpy(tail, p, n);
    bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(tail));
  }
  const __m128i hits = _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(a)),
                                    _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b)));
  std::uint32_t mask = static_cast<std::uint32_t>(_mm_movemask_epi8(hits));
#else
  std::uint32_t mask = 0;
  for (std::size_t i = 0; i < n && i < 16; ++i)
    if (p[i] == a || p[i] == b) mask |= 1u << i;
#endif
  return n >= 16 ? mask : mask & ((1u << n) - 1);
}

}  // namespace

void Parts::Split(std::string_view field, const hl7v2::Delimiters& d) {
  // HL7 v2.5 §2.5.2: a field's components are those of its first repetition.
  const char* const data = field.data();
  std::size_t separators = 0, begin = 0, end = field.size();
  for (std::size_t block = 0; block < field.size() && end == field.size(); block += 16) {
    std::uint32_t mask =
        SeparatorMask(data + block, field.size() - block, d.component, d.repetition);
    for (; mask != 0; mask &= mask - 1) {
      const std::size_t at = block + static_cast<std::size_t>(__builtin_ctz(mask));
      if (data[at] == d.repetition) {
        end = at;
        break;
      }
      if (separators < kMax) Set(separators + 1, std::string_view(data + begin, at - begin));
      ++separators;
      begin = at + 1;
    }
  }
  count = 0;  // the first repetition is empty: no components
  if (end != 0) {
    if (separators < kMax) Set(separators + 1, std::string_view(data + begin, end - begin));
    count = separators + 1;
  }
}

std::optional<std::string_view> Context::ProfileUnit(const VitalSign& vital,
                                                     std::string_view ucum) {
  ProfileUnitSeen& seen = profile_unit_seen;
  // The same views give the same answer (the message and the tables outlive the Context).
  if (seen.vital != &vital || seen.ucum.data() != ucum.data() || seen.ucum.size() != ucum.size())
    seen = {&vital, ucum, terms.ProfileUnit(vital, ucum)};
  return seen.unit;
}

bool Context::HasError() const {
  return std::any_of(issues.begin(), issues.end(), [](const DataIssue& i) {
    return i.severity == DataIssue::Severity::kError || i.severity == DataIssue::Severity::kFatal;
  });
}

std::string Context::Text(const Element& e) {
  if (!e.has_value()) return {};
  Result<std::string> text = e.Text();
  if (!text.ok()) {
    Error("value", e.location(), text.status().message());
    return {};
  }
  return std::move(text).value();
}

std::string_view Context::TextView(const Element& e, std::string& scratch) {
  if (!e.has_value()) return {};
  const std::string_view raw = e.raw();
  if (IsPlainText(raw)) return raw;
  scratch = Text(e);
  return scratch;
}

std::string_view Context::TextView(const Segment& seg, std::size_t n, std::string_view raw,
                                   std::string& scratch) {
  if (raw.empty() || raw == "\"\"") return {};
  if (IsPlainText(raw)) return raw;
  scratch = Text(seg.field(n));
  return scratch;
}

const FhirTime* Context::Time(const Element& e) {
  if (!e.has_value()) return nullptr;
  return TimeOf(e.component(1).raw(), [&e] { return e.location(); });
}

const FhirTime* Context::Time(const Segment& seg, std::size_t n, std::string_view raw) {
  if (raw.empty() || raw == "\"\"") return nullptr;  // no value (empty or the HL7 null)
  return TimeOf(FirstComponent(raw, msg.delimiters()), [&] { return seg.field(n).location(); });
}

TimeScratch& TimeScratch::ForNewMessage() {
  thread_local TimeScratch scratch;
  scratch.used = 0;
  scratch.memo.clear();
  scratch.memo.reserve(16);  // distinct times of a message: a few, rarely more than 16
  return scratch;
}

template <typename Where>
const FhirTime* Context::TimeOf(std::string_view raw, const Where& where) {
  // Rows of one message share few distinct times, most often the previous row's.
  for (std::size_t k = 0; k < times.memo.size(); ++k) {
    const std::size_t i = k == 0 ? last_time : (k <= last_time ? k - 1 : k);
    const TimeSeen& seen = times.memo[i];
    if (!SameText(seen.raw, raw)) continue;
    last_time = i;
    if (seen.time == nullptr) Error(seen.error_code, where(), seen.error);
    return seen.time;
  }
  auto fail = [&](std::string code, std::string text) -> const FhirTime* {
    Error(code, where(), text);
    times.memo.push_back({raw, nullptr, std::move(code), std::move(text)});
    return nullptr;
  };
  // Rows of one message often differ only in their seconds: patch a time converted already.
  FhirTime& near = times.Next();
  for (const TimeSeen& seen : times.memo) {
    if (seen.time != nullptr && ToFhirDateTimeNear(raw, seen.raw, *seen.time, near)) {
      times.memo.push_back({raw, &near, {}, {}});
      return &near;
    }
  }
  --times.used;  // `near` stays free for the next time
  Result<Hl7Time> parsed = ParseHl7Time(raw);
  if (!parsed.ok()) return fail("value", "invalid date/time: " + parsed.status().message());
  DataIssues time_issues;
  Result<FhirTime> fhir = ToFhirDateTime(*parsed, opts.assume_timezone.get(), &time_issues);
  for (DataIssue& issue : time_issues) {
    issue.location = where().ToString();
    issues.push_back(std::move(issue));
  }
  if (!fhir.ok()) {
    // MAPPING.md "Time": a local time with no offset and no assume_timezone is a data issue.
    return fail(
        fhir.status().code() == Status::Code::kFailedPrecondition ? "business-rule" : "value",
        fhir.status().message());
  }
  FhirTime& slot = times.Next();
  slot = std::move(fhir).value();
  times.memo.push_back({raw, &slot, {}, {}});
  return &slot;
}

}  // namespace fhirbridge::mappers::pcd01
