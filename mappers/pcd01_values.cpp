#include "mappers/pcd01_values.h"
#include "mappers/fhir_json.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

#include "mappers/fhir_values.h"
#include "mappers/v2_datatypes.h"

namespace fhirbridge::mappers::pcd01 {

namespace {

using hl7v2::Element;

void AppendMdc(JsonWriter& w, std::uint32_t code, std::string_view refid) {
  w.BeginObject();
  w.KeyString("system", kMdcSystem);
  w.KeyString("code", std::to_string(code));
  if (!refid.empty()) w.KeyString("display", refid);
  w.EndObject();
}

// The CWE triplet (1 or 4) that names the MDC system, or 0.
std::size_t MdcTriplet(const Parts& cwe) {
  if (cwe[3] == "MDC") return 1;
  if (cwe[6] == "MDC") return 4;
  return 0;
}

}  // namespace

void AppendUcumMembers(std::string& out, std::string_view ucum) {
  out += R"("unit":)";
  AppendJsonString(out, ucum);
  out += R"(,"system":"http://unitsofmeasure.org","code":)";
  AppendJsonString(out, ucum);
}

namespace {

void PutDataAbsent(JsonAppender& out, std::string_view reason) {
  out.Reserve(128);
  out.Put(
      R"(,"dataAbsentReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/data-absent-reason","code":)");
  out.PutJsonString(reason);
  out.Reserve(3);
  out.Put("}]}");
}

// A unit from OBX-6: UCUM when the sender gave it, else the MDC unit's UCUM equivalent.
struct Unit {
  std::string_view ucum;  // empty when unknown; views the message or the terminology
  std::string display;    // what the sender called it, when there is no UCUM code
};

Unit ResolveUnit(Context& ctx, const Row& row, bool report) {
  Unit unit;
  if (!row.has(6)) return unit;
  if (!row.ucum.empty()) {  // found by ReadModel
    unit.ucum = row.ucum;
    return unit;
  }
  const Element obx6 = row.obx.field(6);
  unit.display = ctx.Text(obx6.component(2).has_value() ? obx6.component(2) : obx6.component(1));
  if (report) {
    ctx.Warning("code-unknown", obx6.location(),
                "unit is neither UCUM nor a known MDC unit; the Quantity carries it as text only");
  }
  return unit;
}

// `"unit":..,"system":..,"code":..` for a UCUM code: prebuilt for the codes the terminology
// knows, written out for others.
void WriteUcum(const Context& ctx, JsonWriter& w, std::string_view ucum) {
  if (const std::string* members = ctx.cache.unit_members.Find(ucum)) {
    w.RawMembers(*members);
    return;
  }
  std::string members;
  AppendUcumMembers(members, ucum);
  w.RawMembers(members);
}

void WriteQuantity(const Context& ctx, JsonWriter& w, std::string_view key,
                   std::string_view decimal, const Unit& unit, std::string_view ucum,
                   std::string_view comparator = {}) {
  w.Key(key);
  w.BeginObject();
  w.Key("value");
  w.NumberText(decimal);
  if (!comparator.empty()) w.KeyString("comparator", comparator);
  if (!ucum.empty()) {
    WriteUcum(ctx, w, ucum);
  } else if (!unit.display.empty()) {
    w.KeyString("unit", unit.display);
  }
  w.EndObject();
}

// A decimal from text, reported at `where` when it is not a number.
bool Decimal(Context& ctx, const Element& e, std::string& out) {
  out.clear();
  if (AppendFhirDecimal(out, e.raw())) return true;
  ctx.Error("value", e.location(), "not a number");
  return false;
}

// The fraction of a second a FhirTime's UTC key keeps.
double Fraction(const FhirTime& t) {
  double s = 0;
  const std::size_t dot = t.utc_key.find('.');
  if (dot == std::string::npos) return s;
  double scale = 0.1;
  for (std::size_t i = dot + 1; i < t.utc_key.size() && t.utc_key[i] >= '0' && t.utc_key[i] <= '9';
       ++i, scale /= 10)
    s += scale * (t.utc_key[i] - '0');
  return s;
}

// Seconds from `start` to `end` (whole seconds and fractions apart, to keep the precision).
double Elapsed(const FhirTime& start, const FhirTime& end) {
  return static_cast<double>(end.utc_seconds - start.utc_seconds) + Fraction(end) - Fraction(start);
}

void WriteSampledData(Context& ctx, JsonWriter& w, const Group& group, int row_index,
                      const Unit& unit) {
  const Row& row = group.rows[row_index];
  const Element samples = row.obx.field(5);
  std::string data;
  std::size_t count = 0;
  for (std::size_t c = 1; c <= samples.component_count(); ++c) {
    if (count > 0) data += ' ';
    if (!AppendFhirDecimal(data, samples.component(c).raw())) {
      ctx.Error("value", samples.component(c).location(), "waveform sample is not a number");
      return;
    }
    ++count;
  }
  // Facets of the waveform row (IHE PCD TF-2 B.8.3 "NA" metrics): sample rate and data range.
  std::string rate, low, high;
  for (const Row& facet : group.rows) {
    if (facet.kind != RowKind::kFacet || facet.parent != row_index) continue;
    const std::string_view refid = facet.obx.field(3).component(2).raw();
    if (refid == "MDC_ATTR_SAMP_RATE") {
      Decimal(ctx, facet.obx.field(5), rate);
    } else if (refid == "MDC_ATTR_DATA_RANGE") {
      Decimal(ctx, facet.obx.field(5).component(1), low);
      Decimal(ctx, facet.obx.field(5).component(2), high);
    } else {
      ctx.Warning("not-supported", facet.obx.field(3).location(),
                  "waveform attribute not mapped to SampledData");
    }
  }
  double period_ms = 0;
  if (!rate.empty() && std::strtod(rate.c_str(), nullptr) > 0) {
    period_ms = 1000.0 / std::strtod(rate.c_str(), nullptr);
  } else if (row.time && group.end && count > 0 && Elapsed(*row.time, *group.end) > 0) {
    // No rate facet: the OBR-7..OBR-8 interval divided by the sample count.
    period_ms = 1000.0 * Elapsed(*row.time, *group.end) / static_cast<double>(count);
  } else {
    ctx.Error("required", row.obx.field(5).location(),
              "waveform without a sample rate (MDC_ATTR_SAMP_RATE facet) or an OBR-7/OBR-8 "
              "interval: the sample period is unknown");
    return;
  }
  char period[32];
  std::snprintf(period, sizeof period, "%.9g", period_ms);
  w.Key("valueSampledData");
  w.BeginObject();
  w.Key("origin");
  w.BeginObject();
  w.Key("value");
  w.NumberText("0");
  if (!unit.ucum.empty()) WriteUcum(ctx, w, unit.ucum);
  w.EndObject();
  w.Key("period");
  w.NumberText(period);
  if (!low.empty()) {
    w.Key("lowerLimit");
    w.NumberText(low);
  }
  if (!high.empty()) {
    w.Key("upperLimit");
    w.NumberText(high);
  }
  w.Key("dimensions");
  w.Int(1);
  w.KeyString("data", data);
  w.EndObject();
}

// SN: <comparator>^<num1>[^<separator>^<num2>] (HL7 v2 2.A.74).
void WriteStructuredNumeric(Context& ctx, JsonWriter& w, const Row& row) {
  const Element sn = row.obx.field(5);
  const Unit unit = ResolveUnit(ctx, row, true);
  const std::string_view comparator = sn.component(1).raw();
  const std::string_view separator = sn.component(3).raw();
  std::string num1, num2;
  if (!Decimal(ctx, sn.component(2), num1)) return;
  if (separator.empty()) {
    if (comparator.empty() || comparator == "=") {
      WriteQuantity(ctx, w, "valueQuantity", num1, unit, unit.ucum);
    } else if (comparator == "<" || comparator == ">" || comparator == "<=" || comparator == ">=") {
      WriteQuantity(ctx, w, "valueQuantity", num1, unit, unit.ucum, comparator);
    } else {
      ctx.Error("value", sn.component(1).location(), "comparator cannot be expressed in FHIR");
    }
    return;
  }
  if (!Decimal(ctx, sn.component(4), num2)) return;
  if (separator == "-") {
    w.Key("valueRange");
    w.BeginObject();
    WriteQuantity(ctx, w, "low", num1, unit, unit.ucum);
    WriteQuantity(ctx, w, "high", num2, unit, unit.ucum);
    w.EndObject();
  } else if (separator == ":" || separator == "/") {
    w.Key("valueRatio");
    w.BeginObject();
    w.Key("numerator");
    w.BeginObject();
    w.Key("value");
    w.NumberText(num1);
    w.EndObject();
    w.Key("denominator");
    w.BeginObject();
    w.Key("value");
    w.NumberText(num2);
    w.EndObject();
    w.EndObject();
  } else {
    ctx.Error("value", sn.component(3).location(), "SN separator not supported (use - : or /)");
  }
}

}  // namespace

CodeInfo ResolveCode(Context& ctx, const Row& row) {
  CodeInfo info;
  if (const FragmentCache::KnownTerm* known = row.known) {
    // The usual OBX-3, prebuilt: what the checks below find for it.
    info.mdc = known->code;
    info.refid = known->refid;
    info.vital = known->vital;
    info.key = known->key;
    info.fragments = known->fragments;
    info.coding = known->coding;
    return info;
  }
  const Parts& parts = row.code;
  const std::size_t t = MdcTriplet(parts);
  if (t == 0) {
    // Not MDC: the sender's coding under its system (LOINC, SNOMED, or a private system).
    const std::string_view system = parts[3];
    std::string key;
    AppendIdentifierComponent(key, system.empty() ? std::string_view("unspecified") : system);
    key += ':';
    AppendIdentifierComponent(key, parts[1]);
    info.key = ctx.Keep(std::move(key));
    if (parts[1].empty())
      ctx.Error("required", row.obx.field(3).location(), "OBX-3 has no observation code");
    return info;
  }
  const std::string_view code_text = parts[t];
  const std::string_view refid = parts[t + 1];
  const std::optional<std::uint32_t> code = ParseMdcCode(code_text);
  const MdcTerm* term = code ? ctx.terms.FindCode(*code) : nullptr;
  // The usual case first: a known code sent with its preferred reference id, or without one.
  if (term != nullptr && (refid.empty() || refid == term->refid)) {
    info.mdc = *code;
    info.refid = term->refid;
  } else {
    // The code the reference id names (0 = none); a plain integer keeps GCC's
    // -Wmaybe-uninitialized quiet about optional<> here.
    std::uint32_t refid_code = 0;
    if (!refid.empty()) refid_code = ctx.terms.CodeForRefid(refid).value_or(0);
    std::string problem;
    if (!code) {
      problem = "MDC code is not a number";
    } else if (*code == 0) {
      problem = "MDC code 0 (unspecified)";
    } else if (*code < 0x10000 && refid_code != 0 && (refid_code & 0xffff) == *code) {
      problem = "bare MDC term code without its partition (" + std::string(refid) + " is " +
                std::to_string(refid_code) + ")";
    } else if (term != nullptr) {
      if (ctx.terms.IsConsistent(*code, refid)) {
        info.mdc = *code;
        info.refid = term->refid;
      } else {
        problem = "MDC code " + std::to_string(*code) + " is " + std::string(term->refid) +
                  " but the reference id says " + std::string(refid);
      }
    } else if (refid_code != 0) {
      problem = "MDC code " + std::to_string(*code) + " is not " + std::string(refid) + " (" +
                std::to_string(refid_code) + ")";
    } else {
      // A code our table does not know (newer nomenclature): keep it as MDC, no LOINC.
      info.mdc = *code;
      ctx.Info("code-unknown", row.obx.field(3).location(),
               "MDC code " + std::to_string(*code) +
                   " is not in the terminology table; mapped without LOINC");
    }
    if (info.mdc == 0) {
      ctx.Warning("code-invalid", row.obx.field(3).location(),
                  problem + ": kept as the sender's coding, not as MDC (no LOINC, no vital sign)");
      std::string key = "MDC-as-sent:";
      AppendIdentifierComponent(key, code_text);
      if (code && *code == 0) {
        key += ':';
        AppendIdentifierComponent(key, refid);
      }
      info.key = ctx.Keep(std::move(key));
      return info;
    }
  }
  info.vital = ctx.terms.FindVitalSign(info.mdc);
  info.key = ctx.Keep(std::to_string(info.mdc));
  info.fragments = ctx.cache.FindVital(info.mdc);
  info.coding = ctx.cache.FindCoding(info.mdc);
  return info;
}

void WriteCodings(Context& ctx, JsonWriter& w, const Row& row, const CodeInfo& code) {
  const std::size_t t = MdcTriplet(row.code);
  for (std::size_t first : {std::size_t{1}, std::size_t{4}}) {
    if (row.code[first].empty()) continue;
    if (first == t && code.mdc != 0) {
      auto cached = ctx.cache.mdc_coding.find(code.mdc);
      if (cached != ctx.cache.mdc_coding.end()) {
        w.RawValue(cached->second);
      } else {
        AppendMdc(w, code.mdc, code.refid.empty() ? row.code[first + 1] : code.refid);
      }
      continue;
    }
    const Element obx3 = row.obx.field(3);
    if (first == t) {
      // An MDC triplet that failed the check: the sender's coding under a local system.
      w.BeginObject();
      std::string system = "urn:fhirbridge:source:";
      AppendIdentifierComponent(system, ctx.opts.source_name);
      system += ":code-system:MDC-as-sent";
      w.KeyString("system", system);
      w.KeyString("code", ctx.Text(obx3.component(first)));
      if (obx3.component(first + 1).has_value())
        w.KeyString("display", ctx.Text(obx3.component(first + 1)));
      w.EndObject();
      continue;
    }
    AppendCoding(ctx, w, obx3, first);
  }
}

bool HasSenderCodings(const Row& row) {
  const std::size_t t = MdcTriplet(row.code);
  for (std::size_t first : {std::size_t{1}, std::size_t{4}}) {
    if (first == t || row.code[first].empty() || row.code[first] == "\"\"") continue;
    return true;
  }
  return false;
}

const std::string* MdcCodingOnly(const Context& ctx, const Row& row, const CodeInfo& code) {
  (void)ctx;
  if (code.mdc == 0 || MdcTriplet(row.code) != 1 || !row.code[4].empty()) return nullptr;
  return code.coding;
}

void WriteSenderCodings(Context& ctx, JsonWriter& w, const Row& row, std::string_view present) {
  const std::size_t t = MdcTriplet(row.code);
  for (std::size_t first : {std::size_t{1}, std::size_t{4}}) {
    if (first == t || row.code[first].empty() || row.code[first] == "\"\"") continue;
    const std::string quoted = "\"code\":\"" + std::string(row.code[first]) + "\"";
    if (present.find(quoted) != std::string_view::npos) continue;
    AppendCoding(ctx, w, row.obx.field(3), first);
  }
}

bool VitalUnitAllowed(Context& ctx, const Row& row, const VitalSign& vital) {
  if (!row.has(5)) return true;  // dataAbsentReason needs no unit
  // The usual row: OBX-6 resolved to UCUM by ReadModel, in a unit the profile allows.
  if (!row.ucum.empty() && ctx.ProfileUnit(vital, row.ucum)) return true;
  const Unit unit = ResolveUnit(ctx, row, false);
  if (!unit.ucum.empty() && ctx.ProfileUnit(vital, unit.ucum)) return true;
  ctx.Warning("value", row.obx.field(6).location(),
              "unit '" + (unit.ucum.empty() ? unit.display : std::string(unit.ucum)) +
                  "' is not allowed by " + std::string(vital.profile_url) +
                  ": mapped with its MDC code only, not as a vital sign");
  return false;
}

void PutNumericValue(Context& ctx, JsonAppender& out, const Row& row, const VitalSign* vital,
                     const Flags& flags) {
  if (!flags.absent_reason.empty()) return PutDataAbsent(out, flags.absent_reason);
  if (!row.has(5)) return PutDataAbsent(out, "unknown");
  const std::string_view raw5 = row.f(5);
  const std::string_view nm = raw5.substr(0, raw5.find(ctx.msg.delimiters().repetition));
  if (auto sentinel = MderSentinelReason(nm)) return PutDataAbsent(out, *sentinel);
  char digits[64];  // a decimal is at most one byte longer than the NM text
  std::string long_decimal;
  std::string_view decimal;
  if (IsFhirDecimal(nm)) {
    decimal = nm;  // the usual case: written as it was sent
  } else if (nm.size() < sizeof digits) {
    decimal = std::string_view(digits, WriteFhirDecimal(digits, nm));
  } else if (AppendFhirDecimal(long_decimal, nm)) {
    decimal = long_decimal;
  }
  if (decimal.empty()) {
    ctx.Error("value", row.obx.field(5).location(), "OBX-2 says NM but OBX-5 is not a number");
    return;
  }
  std::string_view ucum = row.ucum;  // found by ReadModel
  Unit unit;                         // else OBX-6 as text (ResolveUnit), reported here
  if (ucum.empty()) {
    unit = ResolveUnit(ctx, row, true);
    ucum = unit.ucum;
  }
  const std::string* members = row.ucum_members;  // prebuilt for the row's own unit, if known
  if (vital != nullptr) {
    if (auto profile_unit = ctx.ProfileUnit(*vital, ucum)) {
      if (*profile_unit != ucum) members = nullptr;  // the profile's spelling of the unit
      ucum = *profile_unit;
    }
  }
  out.Reserve(32 + decimal.size());
  out.Put(R"(,"valueQuantity":{"value":)");
  out.Put(decimal);
  if (!ucum.empty()) {
    if (members == nullptr) {
      members = ctx.cache.unit_members.Find(ucum);
    }
    if (members != nullptr) {
      out.Reserve(members->size() + 2);
      out.Put(',');
      out.Put(*members);
    } else {
      std::string members;
      AppendUcumMembers(members, ucum);
      out.Reserve(members.size() + 2);
      out.Put(',');
      out.Put(members);
    }
  } else if (!unit.display.empty()) {
    out.Reserve(8);
    out.Put(R"(,"unit":)");
    out.PutJsonString(unit.display);
  }
  out.Reserve(1);
  out.Put('}');
}

void WriteValue(Context& ctx, JsonWriter& w, const Group& group, int row_index,
                const CodeInfo& code, const VitalSign* vital, const Flags& flags) {
  const Row& row = group.rows[row_index];
  const std::string_view type = row.f(2);
  (void)code;
  if (type == "NM") {
    // Members after the Observation's first ones: the appender writes their commas.
    JsonAppender out(w.out());
    return PutNumericValue(ctx, out, row, vital, flags);
  }
  const Element value = row.obx.field(5);
  if (!flags.absent_reason.empty()) return WriteDataAbsent(w, flags.absent_reason);
  if (!value.has_value()) return WriteDataAbsent(w, "unknown");
  if (type == "ST" || type == "TX" || type == "FT") {
    std::string text;
    for (std::size_t r = 1; r <= value.repetition_count(); ++r) {
      if (r > 1) text += '\n';
      text += ctx.Text(value.repetition(r));
    }
    w.KeyString("valueString", text);
  } else if (type == "CWE" || type == "CE" || type == "CNE" || type == "CF") {
    if (!WriteCodeableConcept(ctx, w, "valueCodeableConcept", value.repetition(1)))
      WriteDataAbsent(w, "unknown");
  } else if (type == "SN") {
    WriteStructuredNumeric(ctx, w, row);
  } else if (type == "NA") {
    WriteSampledData(ctx, w, group, row_index, ResolveUnit(ctx, row, true));
  } else if (type == "NR") {
    const Unit unit = ResolveUnit(ctx, row, true);
    std::string low, high;
    if (!Decimal(ctx, value.component(1), low) || !Decimal(ctx, value.component(2), high)) return;
    w.Key("valueRange");
    w.BeginObject();
    WriteQuantity(ctx, w, "low", low, unit, unit.ucum);
    WriteQuantity(ctx, w, "high", high, unit, unit.ucum);
    w.EndObject();
  } else if (type == "DTM" || type == "TS" || type == "DT") {
    if (const FhirTime* t = ctx.Time(value)) w.KeyString("valueDateTime", t->date_time);
  } else if (type.empty()) {
    ctx.Error("required", row.obx.field(2).location(), "OBX-5 has a value but OBX-2 no type");
  } else {
    ctx.Error("not-supported", row.obx.field(2).location(),
              "OBX-2 value type '" + std::string(type) + "' is not mapped");
  }
}

}  // namespace fhirbridge::mappers::pcd01
