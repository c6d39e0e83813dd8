// OBX-8 (abnormal and measurement-status flags) and OBX-11 (result status) of a PCD-01 row.

#include <string>
#include <string_view>
#include <utility>

#include "mappers/pcd01_values.h"

namespace fhirbridge::mappers::pcd01 {

namespace {

// HL7 table 0078 flags that FHIR R4's v3 ObservationInterpretation also defines, with their
// CodeableConcept prebuilt.
#define FHIRBRIDGE_INTERPRETATION(code)                                     \
  {                                                                         \
    code,                                                                   \
        "{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/" \
        "v3-ObservationInterpretation\",\"code\":\"" code "\"}]}"           \
  }
constexpr std::pair<std::string_view, std::string_view> kInterpretations[] = {
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

// The prebuilt CodeableConcept of an interpretation flag, or "" (all are one or two bytes).
std::string_view Interpretation(std::string_view flag) {
  if (flag.size() > 2) return {};
  for (const auto& [code, json] : kInterpretations) {
    if (code.size() == flag.size() && code.front() == flag.front() && code == flag) return json;
  }
  return {};
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
    std::string_view json = Interpretation(flag);
    bool is_text = false;
    if (!json.empty()) {
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
