#include "mappers/pcd01_model.h"

#include <algorithm>
#include <array>

#include "mappers/fhir_values.h"

namespace fhirbridge::mappers::pcd01 {

namespace {

using hl7v2::Element;
using hl7v2::Segment;

bool IsHex16(std::string_view s) {
  if (s.size() != 16) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

bool IsOid(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// Segments of ORU^R01 (HL7 v2.5–v2.8) and the most fields each may have in the latest of those
// versions. More fields than that means two segments ran together (a lost terminator).
struct SegmentRule {
  std::string_view id;
  std::size_t max_fields;
};

// A segment id as one integer, so that the walk over a message compares ids without memcmp.
constexpr std::uint32_t IdKey(std::string_view id) {
  return id.size() == 3 ? (static_cast<std::uint32_t>(static_cast<unsigned char>(id[0])) << 16) |
                              (static_cast<std::uint32_t>(static_cast<unsigned char>(id[1])) << 8) |
                              static_cast<unsigned char>(id[2])
                        : 0;
}
constexpr std::array<SegmentRule, 21> kOruSegments = {{
    // OBX first: most segments are OBX, and FindRule searches in this order.
    {"OBX", 33}, {"MSH", 30}, {"SFT", 10}, {"UAC", 5},  {"PID", 40}, {"PD1", 25}, {"NTE", 10},
    {"NK1", 45}, {"PV1", 55}, {"PV2", 55}, {"ORC", 35}, {"OBR", 55}, {"TQ1", 15}, {"TQ2", 15},
    {"CTD", 10}, {"PRT", 25}, {"SPM", 35}, {"FT1", 60}, {"CTI", 5},  {"DSC", 5},  {"EVN", 10},
}};

constexpr std::array<std::uint32_t, kOruSegments.size()> kOruSegmentKeys = [] {
  std::array<std::uint32_t, kOruSegments.size()> keys{};
  for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = IdKey(kOruSegments[i].id);
  return keys;
}();

const SegmentRule* FindRule(std::uint32_t key) {
  for (std::size_t i = 0; i < kOruSegmentKeys.size(); ++i)
    if (kOruSegmentKeys[i] == key) return &kOruSegments[i];
  return nullptr;
}

// OBX segments from `first` up to the next OBR: the rows of the group that starts there.
std::size_t CountGroupRows(const hl7v2::ParsedMessage& msg, std::size_t first) {
  std::size_t rows = 0;
  for (std::size_t i = first; i < msg.segment_count(); ++i) {
    const std::uint32_t id = IdKey(msg.segment(i).id());
    if (id == IdKey("OBR")) break;
    if (id == IdKey("OBX")) ++rows;
  }
  return rows;
}

// OBX-4 as a path of dot-separated levels with trailing ".0" levels removed, so that an MDS
// "1.0.0.0" becomes "1" and a channel "1.1.1.0" becomes "1.1.1" (IHE PCD TF-2 B.8.3). Kept as
// the trimmed text: the levels of one row are those of another followed by more exactly when
// its text is the other's followed by '.', so ancestors are found without splitting levels.
struct SubId {
  static constexpr std::size_t kMaxLevels = 8;
  std::string_view path;           // the levels kept, as sent (empty when none or invalid)
  std::size_t depth = 0;           // levels in `path`
  std::size_t written_depth = 0;   // levels as sent, before trimming zeros (at most kMaxLevels)
  bool last_written_zero = false;  // level written_depth is "0"
  bool valid = true;               // at most kMaxLevels levels
};

void SplitSubId(std::string_view s, SubId& id) {
  if (s.empty()) return;
  // Levels are a few digits: a plain loop counts the dots sooner than calls to memchr.
  std::size_t dots = 0;
  std::size_t eighth = 0;  // where level kMaxLevels starts, when there is one
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '.') continue;
    if (++dots == SubId::kMaxLevels - 1) eighth = i + 1;
  }
  if (dots >= SubId::kMaxLevels) {
    // Too many levels: no path (it has no ancestor nor descendants); what was read of it still
    // tells a device row (IsDeviceRow).
    id.valid = false;
    id.written_depth = SubId::kMaxLevels;
    id.last_written_zero = s.substr(eighth, s.find('.', eighth) - eighth) == "0";
    return;
  }
  id.written_depth = dots + 1;
  const auto ends_with_zero_level = [](std::string_view t) {
    return t.size() >= 2 && t[t.size() - 1] == '0' && t[t.size() - 2] == '.';
  };
  id.last_written_zero = dots == 0 ? s == "0" : ends_with_zero_level(s);
  id.depth = id.written_depth;
  while (id.depth > 1 && ends_with_zero_level(s)) {
    s.remove_suffix(2);
    --id.depth;
  }
  id.path = s;
}

// Paths are a few bytes: compared byte by byte rather than by a call to memcmp.
inline bool IsProperPrefix(const SubId& ancestor, const SubId& row) {
  if (ancestor.depth == 0 || ancestor.depth >= row.depth) return false;
  const std::string_view a = ancestor.path, r = row.path;
  if (r.size() <= a.size() || r[a.size()] != '.') return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != r[i]) return false;
  return true;
}

// True when the row describes the device tree rather than reporting a measurement:
// OBX-4 n.0.0.0 / n.m.0.0 / n.m.k.0, or OBX-11 "X" with no value, or an MDC object/
// infrastructure code (partitions 1 and 8: MDC_DEV_*) with no value.
bool IsDeviceRow(const Row& row, const SubId& id) {
  if (id.written_depth >= 4 && id.last_written_zero) return true;
  if (row.has(5)) return false;
  if (row.f(11) == "X") return true;
  const Parts& code = row.code;
  if (code[3] != "MDC") return false;
  std::uint32_t cf = 0;
  for (char c : code[1]) {
    if (c < '0' || c > '9') return false;
    cf = cf * 10 + static_cast<std::uint32_t>(c - '0');
    if (cf > 0xffffffu / 10) return false;
  }
  const std::uint32_t partition = cf >> 16;
  return partition == 1 || partition == 8;
}

// OBX-6 as UCUM: the sender's UCUM code (a triplet with system UCUM), else the UCUM code of
// the MDC unit a triplet names (by code, or by reference id when the code is 0 or missing).
std::string_view ResolveUcum(const Context& ctx, Row& row) {
  if (!row.has(6)) return {};
  const hl7v2::Delimiters& d = ctx.msg.delimiters();
  if (d.component == '^' && d.repetition == '~') {
    // The usual OBX-6: a known MDC unit.
    if (const FragmentCache::KnownUnit* known = ctx.cache.known_obx6.Find(row.f(6))) {
      row.ucum_members = known->members;
      return known->ucum;
    }
  }
  const Parts parts(row.f(6), d);
  for (std::size_t first : {std::size_t{1}, std::size_t{4}}) {
    const std::string_view code = parts[first];
    // A UCUM code never needs an HL7 escape; one with an escape is not taken as UCUM.
    if (parts[first + 2] == "UCUM" && !code.empty() &&
        code.find(ctx.msg.delimiters().escape) == std::string_view::npos)
      return code;
  }
  for (std::size_t first : {std::size_t{1}, std::size_t{4}}) {
    const std::string_view system = parts[first + 2];
    if (system != "MDC" && !(system.empty() && first == 1)) continue;
    std::optional<std::uint32_t> cf = ParseMdcCode(parts[first]);
    const std::string_view refid = parts[first + 1];
    if ((!cf || *cf == 0) && !refid.empty()) cf = ctx.terms.MdcUnitCodeForRefid(refid);
    if (cf) {
      if (auto ucum = ctx.terms.UcumForMdcUnit(*cf)) return *ucum;
    }
  }
  return {};
}

}  // namespace

std::optional<std::uint32_t> ParseMdcCode(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return v;
}

Row::Row(const Segment& segment, const hl7v2::Delimiters& d, const FragmentCache& cache)
    : obx(segment), equipment(segment) {
  // The views are made in fields_, whose bytes are their storage (C++20 implicit object
  // creation: an array of unsigned char provides storage for trivially copyable objects).
  std::string_view* const fields = reinterpret_cast<std::string_view*>(fields_);
  segment.RawFields(fields, kFields);
  sub_id = fields[4];
  // The known texts hold '_' and '^' only as themselves: the standard delimiters are needed.
  if (d.component == '^' && d.repetition == '~') {
    known = cache.known_obx3.Find(fields[3]);
  }
  if (known != nullptr) {
    // "<code>^<refid>^MDC": the components are where the known text puts them.
    const std::size_t code_size = known->key.size();
    code.Assign({fields[3].substr(0, code_size),
                 fields[3].substr(code_size + 1, known->refid.size()),
                 fields[3].substr(fields[3].size() - 3)});
  } else {
    code.Split(fields[3], d);  // in place: Parts is ~150 bytes, not worth building twice per row
  }
}

namespace {

// The HL7 null "" holds no value (hl7v2::Element::has_value).
std::string_view Value(std::string_view raw) { return raw == "\"\"" ? std::string_view() : raw; }

// Components 1..4 of `ei` as text, into texts[1..4]: views of the message when the text is the
// bytes (no escape, not Latin-1: the parser validated them), else decoded into `scratch`.
void ComponentTexts(Context& ctx, const Element& ei, std::string_view (&texts)[5],
                    std::string (&scratch)[5]) {
  if (ctx.IsPlainText(ei.raw())) {
    const Parts parts(ei.raw(), ctx.msg.delimiters());
    for (std::size_t n = 1; n <= 4; ++n) texts[n] = Value(parts[n]);
    return;
  }
  for (std::size_t n = 1; n <= 4; ++n) texts[n] = scratch[n] = ctx.Text(ei.component(n));
}

}  // namespace

std::optional<Identity> DeviceIdentity(Context& ctx, const Element& ei) {
  if (!ei.has_value()) return std::nullopt;
  std::string_view texts[5];
  std::string scratch[5];
  ComponentTexts(ctx, ei, texts, scratch);
  const std::string_view e1 = texts[1], e2 = texts[2], e3 = texts[3];
  const std::string e4 = Upper(texts[4]);
  Identity id;
  // IHE PCD TF-2 B.8.6: OBX-18 EI with universal id type EUI-64 (long form id^ns^eui^EUI-64, or
  // the short form eui^EUI-64 some agents send).
  std::string_view eui;
  if (e4 == "EUI-64" || e4 == "EUI64") eui = e3.empty() ? e1 : e3;
  if (eui.empty() && Upper(e2) == "EUI-64" && e3.empty()) eui = e1;
  if (!eui.empty()) {
    if (IsHex16(eui)) {
      id.system = kEui64System;
      id.value = Upper(eui);
      id.key = id.value;
      return id;
    }
    ctx.Warning("value", ei.location(),
                "equipment identifier says EUI-64 but is not 16 hex digits; kept as a local id");
  }
  if (e4 == "ISO" && IsOid(e3) && !e1.empty()) {
    id.system = "urn:oid:";
    id.system += e3;
    id.value = e1;
  } else if (e1.rfind("urn:", 0) == 0) {
    id.system = kUriSystem;
    id.value = e1;
  } else if ((e4 == "URN" || e4 == "URI") && !e3.empty()) {
    id.system = kUriSystem;
    id.value = e3;
  } else {
    const std::string_view value = e1.empty() ? e3 : e1;
    if (value.empty()) return std::nullopt;
    // No global system: scope the id to this source and the namespace the sender gave.
    id.system = "urn:fhirbridge:source:";
    AppendIdentifierComponent(id.system, ctx.opts.source_name);
    id.system += ":device-id";
    const std::string_view ns = !e2.empty() ? e2 : (e4 == "DNS" ? e3 : e2);
    if (!ns.empty()) {
      id.system += ':';
      AppendIdentifierComponent(id.system, ns);
    }
    id.value = value;
  }
  AppendIdentifierComponent(id.key, id.value);
  return id;
}

namespace {

// The parts of a PID-3 CX that name the patient, as text: CX-1 (the id), CX-5 (type code) and
// the assigning authority CX-4 (HD: namespace, universal id, its type).
struct CxTexts {
  std::string_view value, type_code, hd1, hd2, hd3;
  std::string scratch[5];  // decoded texts, when the field has escapes or is Latin-1
};

// Repetition r of PID-3, only to say where a problem is.
hl7v2::Location CxLocation(const Segment& pid, std::size_t r) {
  return pid.field(3).repetition(r).location();
}

// The patient that repetition r of PID-3 names (its CX-1 has a value).
std::optional<PatientInfo> MakePatient(Context& ctx, const Segment& pid, std::size_t r,
                                       const CxTexts& cx) {
  PatientInfo patient;
  patient.pid = pid;
  patient.id.value = cx.value;
  patient.type_code = cx.type_code;
  const std::string hd3 = Upper(cx.hd3);
  // MAPPING.md: an ISO OID assigning authority gives the system directly.
  if (hd3 == "ISO" && IsOid(cx.hd2)) {
    patient.id.system = "urn:oid:";
    patient.id.system += cx.hd2;
    return patient;
  }
  const std::string name(cx.hd1.empty() ? cx.hd2 : cx.hd1);
  auto it = ctx.opts.identifier_systems.find(name);
  if (it != ctx.opts.identifier_systems.end()) {
    patient.id.system = it->second;
  } else if (ctx.opts.unknown_assigning_authority == Pcd01Options::UnknownAuthority::kHold) {
    ctx.Error("incomplete", CxLocation(pid, r),
              "PID-3 assigning authority '" + name +
                  "' has no identifier system (sources[].identifier_systems): held as "
                  "awaiting patient");
    return std::nullopt;
  } else {
    patient.id.system = "urn:fhirbridge:source:";
    AppendIdentifierComponent(patient.id.system, ctx.opts.source_name);
    patient.id.system += ":patient-id:";
    AppendIdentifierComponent(
        patient.id.system,
        name.empty() ? (patient.type_code.empty() ? std::string("none") : patient.type_code)
                     : name);
    ctx.Warning("incomplete", CxLocation(pid, r),
                "PID-3 assigning authority '" + name +
                    "' is not configured in sources[].identifier_systems; the identifier "
                    "is scoped to this source (" +
                    patient.id.system + ")");
  }
  return patient;
}

// Subcomponent n (from 1) of a raw component.
std::string_view Subcomponent(std::string_view component, char separator, std::size_t n) {
  for (; n > 1; --n) {
    const std::size_t at = component.find(separator);
    if (at == std::string_view::npos) return {};
    component.remove_prefix(at + 1);
  }
  return component.substr(0, component.find(separator));
}

// The first repetition of raw PID-3 whose CX-1 has a value, from the bytes (the text is the
// bytes: no escape, not Latin-1); 0 when none.
std::size_t FirstPlainCx(std::string_view ids, const hl7v2::Delimiters& d, CxTexts& cx) {
  std::size_t r = 0;
  while (!ids.empty()) {
    ++r;
    const std::size_t end = std::min(ids.find(d.repetition), ids.size());
    const Parts parts(ids.substr(0, end), d);
    ids.remove_prefix(std::min(end + 1, ids.size()));
    if (Value(parts[1]).empty()) continue;
    cx.value = parts[1];
    cx.type_code = Value(parts[5]);
    cx.hd1 = Value(Subcomponent(parts[4], d.subcomponent, 1));
    cx.hd2 = Value(Subcomponent(parts[4], d.subcomponent, 2));
    cx.hd3 = Value(Subcomponent(parts[4], d.subcomponent, 3));
    return r;
  }
  return 0;
}

// The same through decoded text, for a PID-3 with escapes or in Latin-1.
std::size_t FirstDecodedCx(Context& ctx, const Element& ids, CxTexts& cx) {
  for (std::size_t r = 1; r <= ids.repetition_count(); ++r) {
    const Element c = ids.repetition(r);
    if (!c.component(1).has_value()) continue;
    cx.value = cx.scratch[0] = ctx.Text(c.component(1));
    cx.type_code = cx.scratch[1] = ctx.Text(c.component(5));
    const Element hd = c.component(4);
    cx.hd1 = cx.scratch[2] = ctx.Text(hd.subcomponent(1));
    cx.hd2 = cx.scratch[3] = ctx.Text(hd.subcomponent(2));
    cx.hd3 = cx.scratch[4] = ctx.Text(hd.subcomponent(3));
    return r;
  }
  return 0;
}

std::optional<PatientInfo> ReadPatient(Context& ctx, const Segment& pid) {
  std::string_view fields[32];  // PID-0 .. PID-31, raw
  pid.RawFields(fields, 32);
  if (fields[31] == "Y") {
    ctx.Error("incomplete", pid.field(31).location(),
              "PID-31 says the patient's identity is unknown: held as awaiting patient");
    return std::nullopt;
  }
  const hl7v2::Delimiters& d = ctx.msg.delimiters();
  CxTexts cx;
  const std::size_t r = ctx.IsPlainText(fields[3]) ? FirstPlainCx(fields[3], d, cx)
                                                   : FirstDecodedCx(ctx, pid.field(3), cx);
  if (r != 0) return MakePatient(ctx, pid, r, cx);
  ctx.Error("incomplete", pid.field(3).location(),
            "PID-3 holds no patient identifier: held as awaiting patient");
  return std::nullopt;
}

// Resolves each row's nearest ancestor, kind, own device and own time.
void ClassifyRows(Context& ctx, Group& group, Model& model) {
  std::vector<SubId> ids(group.rows.size());
  for (std::size_t i = 0; i < group.rows.size(); ++i) {
    const Row& row = group.rows[i];
    SplitSubId(row.sub_id, ids[i]);
    if (!ids[i].valid)
      ctx.Error("value", row.obx.field(4).location(), "OBX-4 has more than 8 levels");
  }
  // The last OBX-14 converted to a time: the rows of a channel usually share it.
  std::string_view last_obx14;
  const FhirTime* last_time = nullptr;
  for (std::size_t i = 0; i < group.rows.size(); ++i) {
    Row& row = group.rows[i];
    // Rows come in tree order (IHE PCD TF-2 B.8.3), so the last ancestor before a row is its
    // parent. Only when there is none do we look for one after it (senders that break the order).
    for (std::size_t j = i; j-- > 0;) {
      if (IsProperPrefix(ids[j], ids[i])) {
        row.parent = static_cast<int>(j);
        break;
      }
    }
    std::size_t best_depth = 0;
    for (std::size_t j = i + 1; row.parent < 0 && j < group.rows.size(); ++j) {
      if (IsProperPrefix(ids[j], ids[i]) && ids[j].depth > best_depth) best_depth = ids[j].depth;
    }
    for (std::size_t j = i + 1; row.parent < 0 && best_depth > 0 && j < group.rows.size(); ++j)
      if (IsProperPrefix(ids[j], ids[i]) && ids[j].depth == best_depth)
        row.parent = static_cast<int>(j);
    if (IsDeviceRow(row, ids[i])) {
      row.kind = RowKind::kDevice;
    } else if (!row.has(5) && row.f(2).empty()) {
      row.kind = RowKind::kContainer;
    } else if (row.parent >= 0 && group.rows[row.parent].f(2) == "NA" &&
               group.rows[row.parent].kind == RowKind::kMetric) {
      row.kind = RowKind::kFacet;
    }
    const std::string_view obx14 = row.f(14);
    if (last_time != nullptr && SameText(obx14, last_obx14)) {
      row.time = last_time;  // the same text as the last row's: the same time (and no issue)
    } else if (!obx14.empty()) {
      row.time = last_time = ctx.Time(row.obx, 14, obx14);
      last_obx14 = obx14;
    }
  }
  // Devices: OBX-18 (or a PRT EQUIP participation) names the equipment; rows without one
  // inherit their nearest ancestor's (MAPPING.md).
  std::vector<int> own_device(group.rows.size(), -1);
  for (std::size_t i = 0; i < group.rows.size(); ++i) {
    const Row& row = group.rows[i];
    if (row.equipment_field == 0) continue;
    std::optional<Identity> id = DeviceIdentity(ctx, row.equipment.field(row.equipment_field));
    if (!id) continue;
    auto found = std::find_if(model.devices.begin(), model.devices.end(), [&](const DeviceInfo& d) {
      return d.id.system == id->system && d.id.value == id->value;
    });
    if (found == model.devices.end()) {
      DeviceInfo device;
      device.id = std::move(*id);
      found = model.devices.insert(model.devices.end(), std::move(device));
    }
    if (!found->declared_by && group.rows[i].kind == RowKind::kDevice)
      found->declared_by = group.rows[i].obx;
    own_device[i] = static_cast<int>(found - model.devices.begin());
  }
  for (std::size_t i = 0; i < group.rows.size(); ++i) {
    Row& row = group.rows[i];
    int at = static_cast<int>(i);
    if (own_device[i] < 0 && row.parent >= 0 && row.parent < at) {
      row.device = group.rows[row.parent].device;  // the parent's, resolved above (tree order)
      at = -1;
    }
    for (std::size_t hops = 0; at >= 0 && hops <= group.rows.size(); ++hops) {
      if (own_device[at] >= 0) {
        row.device = own_device[at];
        break;
      }
      at = group.rows[at].parent;
    }
    // Effective time: OBX-14, else the nearest ancestor's OBX-14, else OBR-7 (IHE PCD TF-2
    // B.8.7: the observation-level time overrides the report's).
    if (row.time) continue;
    at = row.parent;
    for (std::size_t hops = 0; at >= 0 && hops <= group.rows.size(); ++hops) {
      if (group.rows[at].time) {
        row.time = group.rows[at].time;
        break;
      }
      at = group.rows[at].parent;
    }
    if (!row.time) row.time = group.start;
  }
}

void CheckSegmentShape(Context& ctx, const Segment& seg, std::uint32_t key) {
  const SegmentRule* rule = FindRule(key);
  if (rule == nullptr) {
    if (seg.id().front() == 'Z') {
      ctx.Info("informational", seg.field(0).location(),
               "site-defined segment " + std::string(seg.id()) + " ignored");
    } else {
      ctx.Warning("structure", seg.field(0).location(),
                  "segment " + std::string(seg.id()) + " is not part of ORU^R01; ignored");
    }
    return;
  }
  if (seg.field_count() > rule->max_fields) {
    ctx.Error("structure", seg.field(0).location(),
              std::string(seg.id()) + " has " + std::to_string(seg.field_count()) +
                  " fields but at most " + std::to_string(rule->max_fields) +
                  " are defined: two segments joined by a lost terminator?");
  }
}

}  // namespace

Model ReadModel(Context& ctx) {
  Model model;
  std::optional<Segment> pid;
  for (std::size_t i = 0; i < ctx.msg.segment_count(); ++i) {
    const Segment seg = ctx.msg.segment(i);
    const std::uint32_t id = IdKey(seg.id());
    CheckSegmentShape(ctx, seg, id);
    if (id == IdKey("PID")) {
      if (pid) {
        ctx.Error("not-supported", seg.field(0).location(),
                  "a second PID: one PCD-01 message must report on one patient");
      }
      pid = seg;
    } else if (id == IdKey("OBR")) {
      Group group{seg, ctx.Time(seg, 7, seg.field_raw(7)), ctx.Time(seg, 8, seg.field_raw(8)), {}};
      model.groups.push_back(std::move(group));
      model.groups.back().rows.reserve(CountGroupRows(ctx.msg, i + 1));
    } else if (id == IdKey("OBX")) {
      if (model.groups.empty()) {
        ctx.Error("structure", seg.field(0).location(), "OBX before any OBR");
        continue;
      }
      Row& row = model.groups.back().rows.emplace_back(seg, ctx.msg.delimiters(), ctx.cache);
      row.ucum = ResolveUcum(ctx, row);
      if (row.has(18)) row.equipment_field = 18;
    } else if (id == IdKey("PRT") && !model.groups.empty() && !model.groups.back().rows.empty()) {
      // HL7 v2.7+: the equipment of an observation may come as a PRT participation "EQUIP".
      Row& row = model.groups.back().rows.back();
      if (seg.field(4).component(1).raw() == "EQUIP" && seg.field(10).has_value() &&
          row.equipment_field == 0) {
        row.equipment = seg;
        row.equipment_field = 10;
      }
    } else if (id == IdKey("NTE") && !model.groups.empty() && !model.groups.back().rows.empty()) {
      model.groups.back().rows.back().notes.push_back(seg);
    }
  }
  if (pid) {
    model.patient = ReadPatient(ctx, *pid);
  } else {
    ctx.Error("incomplete", hl7v2::Location{}, "no PID segment: held as awaiting patient");
  }
  if (model.groups.empty())
    ctx.Error("required", hl7v2::Location{}, "no OBR segment: nothing to map");
  for (std::size_t g = 0; g < model.groups.size(); ++g) ClassifyRows(ctx, model.groups[g], model);
  return model;
}

}  // namespace fhirbridge::mappers::pcd01
