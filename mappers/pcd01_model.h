#pragma once

// The first half of PCD-01 mapping: reading a parsed ORU^R01 into patient, device and
// observation rows with their inherited times and devices. The second half (pcd01_resources)
// turns rows into FHIR resources.

#include <cstring>
#include <deque>
#include <forward_list>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "connectors/hl7v2/er7.h"
#include "fhirbridge/issue.h"
#include "mappers/fhir_values.h"
#include "mappers/hl7_time.h"
#include "mappers/pcd01_mapper.h"
#include "mappers/pcd01_text_table.h"
#include "mappers/terminology.h"

namespace fhirbridge::mappers::pcd01 {

/// A hash for the short texts (OBX-3 triplets, UCUM codes, identities) hashed for every row:
/// eight bytes per multiply, the last eight (overlapping) in one more, cheaper than std::hash
/// for texts of 10-100 bytes. Only for in-memory lookups: nothing written depends on its value.
struct ShortTextHash {
  std::size_t operator()(std::string_view s) const noexcept {
    const std::size_t n = s.size();
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    const auto mix = [&h](std::uint64_t word) {
      h = (h ^ word) * 0xff51afd7ed558ccdULL;
      h ^= h >> 29;
    };
    if (n >= 8) {
      std::uint64_t word;
      for (std::size_t i = 0; i + 8 < n; i += 8) {
        std::memcpy(&word, s.data() + i, 8);
        mix(word);
      }
      std::memcpy(&word, s.data() + n - 8, 8);
      mix(word);
    } else {
      std::uint64_t word = 0;
      for (std::size_t i = 0; i < n; ++i) word = (word << 8) | static_cast<unsigned char>(s[i]);
      mix(word);
    }
    return static_cast<std::size_t>(h ^ (h >> 32));
  }
};

/// A hash for the texts the fragment maps are keyed by, "<code>^<refid>^MDC": the first eight
/// bytes (the code) and the last eight (the end of the reference id) with the length tell them
/// apart, so longer texts are not read whole. Shorter texts: ShortTextHash.
struct TermTextHash {
  std::size_t operator()(std::string_view s) const noexcept {
    const std::size_t n = s.size();
    if (n < 16) return ShortTextHash{}(s);
    std::uint64_t first, last;
    std::memcpy(&first, s.data(), 8);
    std::memcpy(&last, s.data() + n - 8, 8);
    std::uint64_t h = (first * 0xff51afd7ed558ccdULL) ^ (last * 0xc4ceb9fe1a85ec53ULL) ^ n;
    h ^= h >> 29;
    h *= 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(h ^ (h >> 32));
  }
};

/// JSON that never changes for a mapper, built once (STYLE: the codings of an MDC code never
/// change, so they are serialised once). Built by pcd01_resources.cpp.
struct FragmentCache {
  struct Vital {
    std::string codings;         ///< MDC + LOINC (+ extra LOINC) coding objects, comma-separated
    std::string component_code;  ///< `"code":{...}` for a BP component (LOINC first, then MDC)
    std::string meta;            ///< `"profile":[...]`, the members of Observation.meta
    /// The constant text of an Observation entry around its variable parts (no security
    /// labels, no sender codings): from after the fullUrl's UUID to the identifier value,
    /// `","resource":{"resourceType":"Observation","meta":{..},"identifier":[{..,"value":"`;
    std::string resource_head;
    /// and from after the status to the subject, `,"category":[..],"code":{"coding":[..]},`.
    std::string code_block;
  };
  std::unordered_map<std::uint32_t, Vital> vital;
  /// `{"system":"urn:iso:std:iso:11073:10101","code":..,"display":<refid>}` for every term.
  std::unordered_map<std::uint32_t, std::string> mdc_coding;
  /// A known term as IHE PCD-01 senders write OBX-3, "<code>^<refid>^MDC" (the preferred
  /// reference id): the usual OBX-3, resolved by one lookup instead of parsing and searching.
  struct KnownTerm {
    std::uint32_t code = 0;
    std::string_view refid;
    const VitalSign* vital = nullptr;
    std::string key;  ///< the code as text: its part of Observation identifiers
    /// Its entries in `vital` (null when none) and `mdc_coding`, found once when built.
    const Vital* fragments = nullptr;
    const std::string* coding = nullptr;
  };
  TextTable<KnownTerm, TermTextHash> known_obx3;  ///< keys view obx3_texts
  std::deque<std::string> obx3_texts;
  /// A known MDC unit as senders write OBX-6, "<code>^<refid>^MDC" → its UCUM code (what the
  /// component-by-component resolution gives for it, found by one lookup) and unit_members.
  struct KnownUnit {
    std::string_view ucum;
    const std::string* members = nullptr;
  };
  TextTable<KnownUnit, TermTextHash> known_obx6;  ///< keys view obx3_texts
  std::string vital_category;                     ///< `"category":[...vital-signs...]`
  /// `"unit":..,"system":"http://unitsofmeasure.org","code":..` for every UCUM code the
  /// terminology knows (keys view the terminology's text).
  TextTable<std::string, ShortTextHash> unit_members;
  /// `"identifier":[{"system":"<observation system>","value":"` — the value and `"}]` follow.
  std::string observation_identifier_prefix;
  /// `"request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=<system>|` — the
  /// search-escaped value and `"}` follow.
  std::string observation_request_prefix;

  static FragmentCache Build(const Terminology& terms, const Pcd01Options& options);

  /// vital[code], or null.
  const Vital* FindVital(std::uint32_t code) const {
    auto it = vital.find(code);
    return it != vital.end() ? &it->second : nullptr;
  }
  /// mdc_coding[code], or null.
  const std::string* FindCoding(std::uint32_t code) const {
    auto it = mdc_coding.find(code);
    return it != mdc_coding.end() ? &it->second : nullptr;
  }
};

/// A time text of a message and what converting it gave.
struct TimeSeen {
  std::string_view raw;
  const FhirTime* time;    ///< null when the text was not usable
  std::string error_code;  ///< why not, re-reported at every place the same text appears
  std::string error;
};

/// Room for the converted times of one message, kept by each thread from one message to the
/// next (cleared, never shared between threads): a time's two strings are longer than
/// std::string's small buffer, and reused slots keep their room, so converting the times of a
/// message allocates nothing once the thread has mapped one like it.
struct TimeScratch {
  std::deque<FhirTime> slots;  ///< slots[0, used) hold this message's times (never shrinks)
  std::size_t used = 0;
  std::vector<TimeSeen> memo;  ///< by raw text: rows of one message share few distinct times

  /// This thread's scratch, emptied for a new message.
  static TimeScratch& ForNewMessage();
  /// A slot for one more time (stays at its address until the next ForNewMessage()).
  FhirTime& Next() {
    if (used == slots.size()) slots.emplace_back();
    return slots[used++];
  }
};

/// Per-message state: inputs, the issues found so far, and helpers to report them.
struct Context {
  const Terminology& terms;
  const Pcd01Options& opts;
  const FragmentCache& cache;
  const hl7v2::ParsedMessage& msg;
  DataIssues issues;
  std::string sender;  ///< MSH-3 as an identifier component (namespace id, else universal id)
  /// Times converted so far (TimeScratch::ForNewMessage()).
  TimeScratch& times;

  void Error(std::string code, const hl7v2::Location& loc, std::string text) {
    issues.push_back(DataIssue::Error(std::move(code), loc.ToString(), std::move(text)));
  }
  void Warning(std::string code, const hl7v2::Location& loc, std::string text) {
    issues.push_back(DataIssue::Warning(std::move(code), loc.ToString(), std::move(text)));
  }
  void Info(std::string code, const hl7v2::Location& loc, std::string text) {
    issues.push_back(DataIssue::Info(std::string(code), loc.ToString(), std::move(text)));
  }
  bool HasError() const;

  /// True when raw bytes of this message are their own text: no escape, and not Latin-1 (the
  /// parser validated ASCII/UTF-8), so nothing needs decoding.
  bool IsPlainText(std::string_view raw) const {
    return msg.charset() != hl7v2::Charset::kLatin1 &&
           raw.find(msg.delimiters().escape) == std::string_view::npos;
  }
  /// The decoded text of an element; a malformed escape is reported here and gives "".
  std::string Text(const hl7v2::Element& e);
  /// The same without copying when there is nothing to decode (no escape, not Latin-1): the
  /// raw bytes, else the text decoded into `scratch`.
  std::string_view TextView(const hl7v2::Element& e, std::string& scratch);
  /// The same for field n of `seg` given as its raw bytes.
  std::string_view TextView(const hl7v2::Segment& seg, std::size_t n, std::string_view raw,
                            std::string& scratch);
  /// Parses an HL7 DTM element into FHIR time; reports and returns null when invalid or when it
  /// needs a time zone that the source does not configure. The time lives as long as `this`.
  const FhirTime* Time(const hl7v2::Element& e);
  /// The same for field n of `seg` given as its raw bytes (Segment::RawFields): the Element is
  /// only built to report a problem.
  const FhirTime* Time(const hl7v2::Segment& seg, std::size_t n, std::string_view raw);
  /// Converts (or finds converted) the DTM text `dtm`; `where()` names the field for issues.
  template <typename Where>
  const FhirTime* TimeOf(std::string_view dtm, const Where& where);
  std::size_t last_time = 0;  ///< index into times.memo of the last hit: rows share times

  /// Terminology::ProfileUnit, remembering the last answer: a vital-sign row asks twice (the
  /// vital-sign check, then the value) with the same views.
  std::optional<std::string_view> ProfileUnit(const VitalSign& vital, std::string_view ucum);
  struct ProfileUnitSeen {
    const VitalSign* vital = nullptr;
    std::string_view ucum;
    std::optional<std::string_view> unit;
  };
  ProfileUnitSeen profile_unit_seen;

  /// Keeps `text` until the end of the message and returns a view of it, for views made while
  /// mapping (CodeInfo::key). A list: what it holds never moves, and it allocates nothing
  /// while empty (the usual message keeps nothing).
  std::string_view Keep(std::string text) { return kept_texts.emplace_front(std::move(text)); }
  std::forward_list<std::string> kept_texts;
};

/// The components of a CWE/CX/EI field split once (`parts[1]` is component 1), for readers
/// that look at several of them.
struct Parts {
  static constexpr std::size_t kMax = 9;
  std::size_t count = 0;  ///< components in the field (those past kMax are not kept)

  Parts() {}  // nothing to clear: only components 1..count are kept and read
  /// From a field's raw bytes (Segment::RawFields).
  Parts(std::string_view field, const hl7v2::Delimiters& d) { Split(field, d); }

  /// Splits raw field bytes into the components of their first repetition, as
  /// hl7v2::Element::RawComponents does. One vector compare per 16 bytes instead of a search
  /// per component.
  void Split(std::string_view field, const hl7v2::Delimiters& d);
  /// Sets components 1..n (n <= kMax) of a text whose split is known.
  void Assign(std::initializer_list<std::string_view> components) {
    count = 0;
    for (std::string_view c : components) Set(++count, c);
  }
  /// Component n; "" past the last (and for 0).
  std::string_view operator[](std::size_t n) const {
    std::string_view c;
    if (n >= 1 && n <= count && n <= kMax) std::memcpy(&c, bytes_ + (n - 1) * sizeof c, sizeof c);
    return c;
  }

 private:
  void Set(std::size_t n, std::string_view c) {
    std::memcpy(bytes_ + (n - 1) * sizeof c, &c, sizeof c);
  }
  // Bytes, not string_views: a Parts is made for every row, and clearing nine views cost more
  // than splitting the field (an unsigned char array may be left unwritten, and copied).
  alignas(std::string_view) unsigned char bytes_[kMax * sizeof(std::string_view)];
};

/// An identifier as FHIR needs it for conditional create.
struct Identity {
  std::string system;
  std::string value;
  std::string key;  ///< short form used inside Observation identifiers
};

struct PatientInfo {
  Identity id;
  std::string type_code;  ///< CX-5 (MR, PI, ...), may be empty
  std::optional<hl7v2::Segment> pid;
};

/// A Bundle entry's fullUrl UUID and a reference member to it, `"<key>":{"reference":
/// "urn:uuid:<uuid>"}`, kept in a fixed buffer: no allocation per resource.
class UuidReference {
 public:
  static constexpr std::size_t kMaxKey = 16;
  /// Sets the UUID to the deterministic UUID of `kind` and `text` (DeterministicUuid), and the
  /// member's name to `key` (at most kMaxKey bytes, needing no JSON escaping).
  void Set(std::string_view key, std::string_view kind, std::string_view text);
  std::string_view uuid() const { return {member_ + uuid_at_, kUuid}; }
  std::string_view member() const { return {member_, size_}; }

 private:
  static constexpr std::size_t kUuid = kUuidLength;
  static constexpr std::string_view kMiddle = R"(":{"reference":"urn:uuid:)";
  char member_[1 + kMaxKey + kMiddle.size() + kUuid + 2];
  std::size_t uuid_at_ = 0;
  std::size_t size_ = 0;
};

/// A Device resource to create: one per distinct device identity in the message.
struct DeviceInfo {
  Identity id;
  std::optional<hl7v2::Segment> declared_by;  ///< the MDS/VMD row that named it, if any
  /// Its fullUrl and `"device":{"reference":"urn:uuid:<uuid>"}` (set when written).
  UuidReference reference;
};

enum class RowKind {
  kDevice,     ///< MDS / VMD / channel row: describes the device tree
  kContainer,  ///< no value and no type: groups its children (e.g. a BP compound row)
  kMetric,     ///< a measurement → an Observation (or a component of one)
  kFacet,      ///< an attribute of the waveform row above it (sample rate, data range)
};

struct Row {
  /// OBX-0 .. OBX-20: every field the PCD-01 rules read, looked up once per row.
  static constexpr std::size_t kFields = 21;

  /// Reads the row's fields; OBX-3 is split (and looked up in `cache.known_obx3`) once.
  Row(const hl7v2::Segment& segment, const hl7v2::Delimiters& d, const FragmentCache& cache);

  hl7v2::Segment obx;
  /// The row's equipment identifier is field `equipment_field` of `equipment`: OBX-18, or PRT-10
  /// of a PRT EQUIP participation after the OBX (HL7 v2.7+); 0 = none.
  hl7v2::Segment equipment;
  std::size_t equipment_field = 0;
  RowKind kind = RowKind::kMetric;
  std::string_view sub_id;  ///< OBX-4 as sent
  int device = -1;          ///< index into Model::devices, -1 = no device identity
  int parent = -1;          ///< index of the nearest ancestor row in the same group, -1 = none
  const FhirTime* time = nullptr;     ///< effective time after inheritance (owned by the Context)
  std::vector<hl7v2::Segment> notes;  ///< NTE segments that follow the row
  Parts code;                         ///< OBX-3 split once (read by several rules)
  /// OBX-3 when it is exactly a known term's usual text (FragmentCache::known_obx3), else null.
  const FragmentCache::KnownTerm* known = nullptr;
  /// OBX-6 as a UCUM code (the sender's, or its MDC unit's); empty when it is neither. Found
  /// once per row: the vital-sign check and the value both need it.
  std::string_view ucum;
  /// FragmentCache::unit_members of `ucum` when OBX-6 is a known unit's usual text, else null.
  const std::string* ucum_members = nullptr;

  /// Field n of the OBX, raw (no Element built): for tests and comparisons.
  std::string_view f(std::size_t n) const {
    if (n >= kFields) return obx.field_raw(n);
    std::string_view field;
    std::memcpy(&field, fields_ + n * sizeof field, sizeof field);
    return field;
  }
  /// True when field n holds a value (neither empty nor the HL7 null "").
  bool has(std::size_t n) const {
    const std::string_view v = f(n);
    return !v.empty() && v != "\"\"";
  }

 private:
  /// The raw bytes of OBX-0 .. OBX-20 (escapes not decoded), as views that Segment::RawFields
  /// writes here. Bytes rather than views, like Parts: zeroing 21 views for every row only to
  /// overwrite them cost more than reading them.
  alignas(std::string_view) unsigned char fields_[kFields * sizeof(std::string_view)];
};

/// One OBR and the OBX rows under it.
struct Group {
  hl7v2::Segment obr;
  const FhirTime* start = nullptr;  ///< OBR-7
  const FhirTime* end = nullptr;    ///< OBR-8
  std::vector<Row> rows;
};

struct Model {
  std::optional<PatientInfo> patient;
  std::vector<DeviceInfo> devices;
  std::vector<Group> groups;
};

/// An MDC context-free code (or unit code) written as at most 9 digits, else nullopt.
std::optional<std::uint32_t> ParseMdcCode(std::string_view s);

/// Reads the message. Problems go to ctx.issues; the model holds what could be read.
Model ReadModel(Context& ctx);

/// Parses a device identifier (EI: OBX-18, MSH-3 style HD) into an identity, or nullopt when
/// the element is empty.
std::optional<Identity> DeviceIdentity(Context& ctx, const hl7v2::Element& ei);

}  // namespace fhirbridge::mappers::pcd01
