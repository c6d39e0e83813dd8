#include "mappers/pcd01_observation.h"

#include "mappers/fhir_values.h"
#include "mappers/pcd01_values.h"
#include "mappers/v2_datatypes.h"

namespace fhirbridge::mappers::pcd01 {

namespace {

constexpr char kUnreliable[] =
    R"({"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"UNRELIABLE","display":"unreliable"})";
constexpr char kTestData[] =
    R"({"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HTEST","display":"test health data"})";

// `,"meta":{...}`: the profile the Observation claims, and security labels for OBX-8 flags.
void PutMeta(JsonAppender& out, std::string_view profile_members, const Flags& flags) {
  const bool labels = flags.unreliable || flags.test_data;
  if (profile_members.empty() && !labels) return;
  out.Append(R"(,"meta":{)", profile_members);
  if (labels) {
    if (!profile_members.empty()) out.Append(',');
    out.Append(R"("security":[)");
    if (flags.unreliable) out.Append(kUnreliable);
    if (flags.unreliable && flags.test_data) out.Append(',');
    if (flags.test_data) out.Append(kTestData);
    out.Append(']');
  }
  out.Append('}');
}

// IHE PCD TF-2 B.8.7: the row's time; OBR-7..OBR-8 as a period for interval data (waveforms).
void PutEffective(JsonAppender& out, const Row& row, const Group& group, bool interval) {
  if (row.time == nullptr) return;
  // FhirTime text is digits and -:.TZ+ only: no JSON escaping.
  if (interval && group.end != nullptr && group.end->utc_seconds >= row.time->utc_seconds) {
    out.Append(R"(,"effectivePeriod":{"start":")", row.time->date_time, R"(","end":")",
               group.end->date_time, R"("})");
  } else {
    out.Append(R"(,"effectiveDateTime":")", row.time->date_time, '"');
  }
}

// True when raw bytes of the message are their own JSON string content: their own text (no
// escape, not Latin-1: Context::IsPlainText) and nothing JSON escapes (control bytes, '"',
// '\\'). One pass over a short field instead of a search and then a check.
bool IsPlainJson(const Context& ctx, std::string_view raw) {
  if (ctx.msg.charset() == hl7v2::Charset::kLatin1) return false;
  const char escape = ctx.msg.delimiters().escape;
  for (const char c : raw) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' || c == escape) return false;
  }
  return true;
}

// OBX-7 (the device's alarm limits, as text) → referenceRange.
void PutReferenceRange(Context& ctx, JsonAppender& out, const Row& row) {
  if (!row.has(7)) return;
  if (IsPlainJson(ctx, row.f(7))) {  // the usual range, "50-150": written as it is
    out.Append(R"(,"referenceRange":[{"text":")", row.f(7), R"("}])");
    return;
  }
  std::string scratch;
  out.Append(R"(,"referenceRange":[{"text":)");
  out.PutJsonString(ctx.TextView(row.obx, 7, row.f(7), scratch));
  out.Append("}]");
}

// NTE-3 of the notes that follow the row → note[].text.
void WriteNotes(Context& ctx, JsonWriter& w, const Row& row) {
  w.Key("note");
  w.BeginArray();
  for (const hl7v2::Segment& nte : row.notes) {
    std::string text = ctx.Text(nte.field(3));
    if (text.empty()) continue;
    w.BeginObject();
    w.KeyString("text", text);
    w.EndObject();
  }
  w.EndArray();
}

// Observation elements after value[x], in the order R4 defines them. For a BP panel, `panel`
// leaves interpretation and referenceRange to the components.
void PutRowDetails(Context& ctx, JsonAppender& out, const Row& row, const Flags& flags,
                   const Model& model, bool panel) {
  if (!panel) PutInterpretation(out, flags);
  if (!row.notes.empty() || row.has(20) || row.has(17)) {
    out.WithWriter(/*after_others=*/true, [&](JsonWriter& w) {
      if (!row.notes.empty()) WriteNotes(ctx, w, row);
      if (row.has(20)) WriteCodeableConcept(ctx, w, "bodySite", row.obx.field(20));
      if (row.has(17)) WriteCodeableConcept(ctx, w, "method", row.obx.field(17));
    });
  }
  if (row.device >= 0) out.Append(',', model.devices[row.device].reference.member());
  if (!panel) PutReferenceRange(ctx, out, row);
}

// One component of a BP panel: its code, value, interpretation and reference range.
void PutComponent(Context& ctx, JsonAppender& out, const Row& row, const CodeInfo& code) {
  const Flags flags = row.has(8) ? ReadFlags(ctx, row) : Flags{};
  const std::string* cached = code.refid.empty() ? nullptr : code.coding;
  if (code.fragments != nullptr) {
    out.Append('{', code.fragments->component_code);
  } else if (cached != nullptr) {
    // A refid is set only from the table's term (ResolveCode): the prebuilt coding is the same.
    out.Append(R"({"code":{"coding":[)", *cached, "]}");
  } else {
    std::string coding = R"({"code":{"coding":[)";
    AppendMdcCoding(coding, code.mdc, code.refid);
    coding += "]}";
    out.Append(coding);
  }
  PutNumericValue(ctx, out, row, code.vital, flags);
  PutInterpretation(out, flags);
  PutReferenceRange(ctx, out, row);
  out.Append('}');
}

// The codings of Observation.code (inside `"coding":[`).
void PutCodings(Context& ctx, JsonAppender& out, const Planned& p,
                const FragmentCache::Vital* fragments) {
  const Row& row = p.main();
  if (fragments) {
    out.Append(fragments->codings);
    // A LOINC (or other) code the sender gave besides the MDC one.
    if (HasSenderCodings(row)) {
      out.WithWriter(/*after_others=*/true, [&](JsonWriter& w) {
        WriteSenderCodings(ctx, w, row, /*present=*/fragments->codings);
      });
    }
  } else if (p.panel_code != 0) {
    auto cached = ctx.cache.mdc_coding.find(p.panel_code);  // built from the same term
    if (cached != ctx.cache.mdc_coding.end()) {
      out.Append(cached->second);
      return;
    }
    std::string coding;
    const MdcTerm* term = ctx.terms.FindCode(p.panel_code);
    AppendMdcCoding(coding, p.panel_code, term ? term->refid : std::string_view());
    out.Append(coding);
  } else if (const std::string* cached = MdcCodingOnly(ctx, row, p.code)) {
    out.Append(*cached);
  } else {
    out.WithWriter(/*after_others=*/false,
                   [&](JsonWriter& w) { WriteCodings(ctx, w, row, p.code); });
  }
}

// A vital sign only when the value is a Quantity in a unit the profile allows; otherwise the
// Observation keeps its MDC coding and loses the vital-signs claim (with a warning).
bool IsVitalSign(Context& ctx, const Planned& p) {
  const Row& row = p.main();
  const bool panel = p.panel_code != 0;
  bool vital = p.code.vital != nullptr && row.f(2) == "NM";
  if (vital && !panel && !VitalUnitAllowed(ctx, row, *p.code.vital)) vital = false;
  if (panel) {
    for (int part : {p.systolic, p.diastolic, p.mean})
      if (part >= 0 && !VitalUnitAllowed(ctx, p.group->rows[part], *p.code.vital)) vital = false;
  }
  return vital;
}

// The prebuilt codings, category and profile of a vital sign (none for one without LOINC).
const FragmentCache::Vital* VitalFragments(const Context& ctx, const Planned& p) {
  return p.panel_code != 0 ? ctx.cache.FindVital(p.panel_code) : p.code.fragments;
}

// `"request":{... "ifNoneExist":"identifier=<system>|<identity>"}`: conditional create.
void PutRequest(const FragmentCache& cache, JsonAppender& out, std::string_view identity) {
  out.Append(',', cache.observation_request_prefix);
  // The identity holds only [A-Za-z0-9._~%/:-] (AppendIdentifierComponent): percent-encoding it
  // as a search value leaves it as it is, except for '%'.
  if (identity.find('%') == std::string_view::npos) {
    out.Append(identity);
  } else {
    std::string value;
    AppendSearchValue(value, identity);
    out.Append(value);
  }
  out.Append("\"}");
}

}  // namespace

void AppendMdcCoding(std::string& out, std::uint32_t code, std::string_view refid) {
  out += R"({"system":"urn:iso:std:iso:11073:10101","code":")";
  out += std::to_string(code);
  out += '"';
  if (!refid.empty()) {
    out += R"(,"display":)";
    AppendJsonString(out, refid);
  }
  out += '}';
}

void WriteObservation(Context& ctx, const Model& model, std::string_view subject, const Planned& p,
                      JsonAppender& out) {
  const FragmentCache& cache = ctx.cache;
  const Row& row = p.main();
  const std::string_view value_type = row.f(2);
  const bool panel = p.panel_code != 0;
  const bool vital_sign = IsVitalSign(ctx, p);
  const FragmentCache::Vital* fragments = vital_sign ? VitalFragments(ctx, p) : nullptr;

  out.Reserve(40 + kUuidLength);
  out.Put(R"(,{"fullUrl":"urn:uuid:)");
  char uuid[kUuidLength];
  WriteDeterministicUuid(uuid, "Observation", p.identity);
  out.Put(std::string_view(uuid, sizeof uuid));
  // The identity holds only [A-Za-z0-9._~%/:-] (AppendIdentifierComponent), so it needs no
  // JSON escaping.
  if (fragments != nullptr && !p.flags.unreliable && !p.flags.test_data) {
    out.Append(fragments->resource_head, p.identity, R"("}],"status":)");  // prebuilt
  } else {
    out.Append(R"(","resource":{"resourceType":"Observation")");
    PutMeta(out, fragments ? std::string_view(fragments->meta) : std::string_view(), p.flags);
    out.Append(',', cache.observation_identifier_prefix, p.identity, R"("}],"status":)");
  }
  const std::string_view status = ObservationStatus(ctx, row);
  if (status.data() == ctx.opts.status_for_r.data()) {
    out.PutJsonString(status);  // configured text
  } else {
    out.Append('"', status, '"');  // one of the R4 status codes: nothing to escape
  }
  if (fragments != nullptr && !HasSenderCodings(row)) {
    out.Append(fragments->code_block, subject);  // prebuilt category and codings
  } else {
    if (fragments) out.Append(',', cache.vital_category);
    out.Append(R"(,"code":{"coding":[)");
    PutCodings(ctx, out, p, fragments);
    out.Append("]},", subject);
  }
  PutEffective(out, row, *p.group, value_type == "NA");
  if (!panel) {
    const VitalSign* vital = vital_sign ? p.code.vital : nullptr;
    if (value_type == "NM") {
      PutNumericValue(ctx, out, row, vital, p.flags);
    } else {
      out.WithWriter(/*after_others=*/true, [&](JsonWriter& w) {
        WriteValue(ctx, w, *p.group, p.main_row, p.code, vital, p.flags);
      });
    }
  }
  PutRowDetails(ctx, out, row, p.flags, model, panel);
  if (panel) {
    out.Append(R"(,"component":[)");
    PutComponent(ctx, out, p.group->rows[p.systolic], p.code);
    out.Append(',');
    PutComponent(ctx, out, p.group->rows[p.diastolic], p.diastolic_code);
    if (p.mean >= 0) {
      out.Append(',');
      PutComponent(ctx, out, p.group->rows[p.mean], p.mean_code);
    }
    out.Append(']');
  }
  out.Append('}');
  PutRequest(cache, out, p.identity);
  out.Append('}');
}

}  // namespace fhirbridge::mappers::pcd01
