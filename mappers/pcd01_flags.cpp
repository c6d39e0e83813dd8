// OBX-8 (abnormal and measurement-status flags) and OBX-11 (result status) of a PCD-01 row.

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include "mappers/pcd01_values.h"

namespace fhirbridge::mappers::pcd01 {

namespace {

// HL7 table 0078 flags that FHIR R4's v3 ObservationInterpretation also defines, with their
// CodeableConcept prebuilt, alone and as the whole member of an Observation with that one flag.
struct KnownFlag {
  std::string_view code;
  std::string_view json;
  std::string_view member;  // `,"interpretation":[<json>]`
};
#define FHIRBRIDGE_CONCEPT(code)                                      \
  "{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/" \
  "v3-ObservationInterpretation\",\"code\":\"" code "\"}]}"
#define FHIRBRIDGE_INTERPRETATION(code) \
  { code, FHIRBRIDGE_CONCEPT(code), ",\"interpretation\":[" FHIRBRIDGE_CONCEPT(code) "]" }
constexpr KnownFlag kInterpretations[] = {
    FHIRBRIDGE_INTERPRETATION("H"),  FHIRBRIDGE_INTERPRETATION("L"),
    FHIRBRIDGE_INTERPRETATION("HH"), FHIRBRIDGE_INTERPRETATION("LL"),
    FHIRBRIDGE_INTERPRETATION("N"),  FHIRBRIDGE_INTERPRETATION("A"),
    FHIRBRIDGE_INTERPRETATION("AA"), FHIRBRIDGE_INTERPRETATION("<"),
    FHIRBRIDGE_INTERPRETATION(">"),  FHIRBRIDGE_INTERPRETATION("U"),
    FHIRBRIDGE_INTERPRETATION("D"),  FHIRBRIDGE_INTERPRETATION("B"),
    FHIRBRIDGE_INTERPRETATION("W"),  FHIRBRIDGE_INTERPRETATION("S"),
    FHIRBRIDGE_INTERPRETATION("R"),  FHIRBRIDGE_INTERPRETATION("I"),
};
#undef FHIRBRIDGE_INTERPRETATION
#undef FHIRBRIDGE_CONCEPT

// For each byte, 1 + the index in kInterpretations of the one-byte flag that is that byte, and
// of the two-byte flag that is that byte twice ("HH"); 0 for none. Every flag is one of these.
struct FlagIndex {
  std::uint8_t single[128] = {};
  std::uint8_t twice[128] = {};
};
constexpr FlagIndex kFlagIndex = [] {
  FlagIndex index;
  for (std::size_t i = 0; i < std::size(kInterpretations); ++i) {
    const std::string_view code = kInterpretations[i].code;
    const auto at = static_cast<std::size_t>(code[0]);
    (code.size() == 1 ? index.single : index.twice)[at] = static_cast<std::uint8_t>(i + 1);
  }
  return index;
}();

// The known interpretation flag `flag` is, or null.
const KnownFlag* Interpretation(std::string_view flag) {
  if (flag.empty() || flag.size() > 2) return nullptr;
  const auto first = static_cast<unsigned char>(flag[0]);
  if (first >= 128 || (flag.size() == 2 && flag[1] != flag[0])) return nullptr;
  const std::uint8_t at = (flag.size() == 1 ? kFlagIndex.single : kFlagIndex.twice)[first];
  return at == 0 ? nullptr : &kInterpretations[at - 1];
}

}  // namespace

Flags ReadFlags(Context& ctx, const Row& row, bool report) {
  Flags flags;
  ReadFlags(ctx, row, report, flags);
  return flags;
}

void ReadFlags(Context& ctx, const Row& row, bool report, Flags& flags) {
  if (!row.has(8)) return;
  const hl7v2::Delimiters& d = ctx.msg.delimiters();
  std::string_view rest = row.f(8);
  // The usual OBX-8: one interpretation flag ("N", "H", "LL"), found without splitting.
  if (rest.size() <= 2) {
    bool single = true;
    for (char c : rest) single = single && c != d.repetition && c != d.component;
    if (const KnownFlag* known = single ? Interpretation(rest) : nullptr) {
      flags.Add({known->json.data(), static_cast<std::uint32_t>(known->json.size()), false});
      flags.member = known->member;
      return;
    }
  }
  bool more = true;
  for (std::size_t r = 1; more; ++r) {
    // Component 1 of repetition r (split here: no Element is built unless a flag is reported).
    const std::size_t end = rest.find(d.repetition);
    more = end != std::string_view::npos;
    const std::string_view repetition = rest.substr(0, end);
    if (more) rest.remove_prefix(end + 1);
    const std::string_view flag = repetition.substr(0, repetition.find(d.component));
    if (flag.empty()) continue;
    // The usual flag first ("N", "H", ...); the codes below are none of these.
    const KnownFlag* known = Interpretation(flag);
    std::string_view json = known != nullptr ? known->json : std::string_view();
    bool is_text = false;
    if (known != nullptr) {
      // Observation.interpretation
    } else if (flag == "INV" || flag == "QUES") {
      flags.unreliable = true;
      json = flag == "INV" ? R"({"text":"INV: invalid measurement"})"
                           : R"({"text":"QUES: questionable measurement"})";
    } else if (flag == "DEMO" || flag == "TEST") {
      flags.test_data = true;
      continue;
    } else if (flag == "NAV" || flag == "NI") {
      flags.absent_reason = "unknown";
      continue;
    } else if (flag == "OFF") {
      flags.absent_reason = "not-performed";
      continue;
    } else {
      json = flag;
      is_text = true;
      if (report) {
        ctx.Warning(
            "code-unknown", row.obx.field(8).repetition(r).location(),
            "OBX-8 flag '" + std::string(flag) + "' has no FHIR interpretation; kept as text");
      }
    }
    if (flags.item_count == Flags::kMaxItems) {
      if (report)
        ctx.Warning("too-long", row.obx.field(8).location(),
                    "more than 8 OBX-8 flags; the rest left out");
      break;
    }
    flags.Add({json.data(), static_cast<std::uint32_t>(json.size()), is_text});
  }
}

void PutInterpretation(JsonAppender& out, const Flags& flags) {
  if (flags.item_count == 0) return;
  if (!flags.member.empty()) {
    out.Append(flags.member);  // prebuilt
    return;
  }
  out.Reserve(32);
  out.Put(R"(,"interpretation":[)");
  for (std::size_t i = 0; i < flags.item_count; ++i) {
    const Flags::Item item = flags.item(i);
    if (i > 0) out.Put(',');
    if (!item.is_text) {
      out.Reserve(item.size + 1);
      out.Put(item.value());
    } else {
      out.Reserve(10);
      out.Put(R"({"text":)");
      out.PutJsonString(item.value());
      out.Reserve(2);
      out.Put('}');
    }
  }
  out.Reserve(1);
  out.Put(']');
}

std::string_view ObservationStatus(Context& ctx, const Row& row) {
  const std::string_view s = row.f(11);
  if (s == "F" || s == "U") return "final";
  if (s == "C") return "corrected";
  if (s == "A") return "amended";
  if (s == "P" || s == "S") return "preliminary";
  if (s == "R") return ctx.opts.status_for_r;
  if (s == "D" || s == "W") return "entered-in-error";
  if (s == "I") return "registered";
  if (s == "X") {
    ctx.Warning("value", row.obx.field(11).location(),
                "OBX-11 'X' (no result) on a row with a value: mapped as preliminary");
    return "preliminary";
  }
  ctx.Warning("value", row.obx.field(11).location(),
              s.empty() ? "OBX-11 is empty: status unknown" : "OBX-11 status not known: unknown");
  return "unknown";
}

}  // namespace fhirbridge::mappers::pcd01
