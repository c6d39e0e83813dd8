#pragma once

// The first half of PCD-01 mapping: reading a parsed ORU^R01 into patient, device and
// observation rows with their inherited times and devices. The second half (pcd01_resources)
// turns rows into FHIR resources.

#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "connectors/hl7v2/er7.h"
#include "fhirbridge/issue.h"
#include "mappers/hl7_time.h"
#include "mappers/pcd01_mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::mappers::pcd01 {

/// A hash for the short texts (OBX-3 triplets, UCUM codes, identities) hashed for every row:
/// eight bytes per multiply, cheaper than std::hash for texts of 10-100 bytes.
struct ShortTextHash {
  std::size_t operator()(std::string_view s) const noexcept {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      h = (h ^ word) * 0xff51afd7ed558ccdULL;
      h ^= h >> 29;
    }
    for (; i < s.size(); ++i) h = (h ^ static_cast<unsigned char>(s[i])) * 0x100000001b3ULL;
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
  };
  std::unordered_map<std::string_view, KnownTerm, ShortTextHash>
      known_obx3;  ///< keys view obx3_texts
  std::deque<std::string> obx3_texts;
  std::string vital_category;  ///< `"category":[...vital-signs...]`
  /// `"unit":..,"system":"http://unitsofmeasure.org","code":..` for every UCUM code the
  /// terminology knows (keys view the terminology's text).
  std::unordered_map<std::string_view, std::string, ShortTextHash> unit_members;
  /// `"identifier":[{"system":"<observation system>","value":"` — the value and `"}]` follow.
  std::string observation_identifier_prefix;
  /// `"request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=<system>|` — the
  /// search-escaped value and `"}` follow.
  std::string observation_request_prefix;

  static FragmentCache Build(const Terminology& terms, const Pcd01Options& options);
};

/// Per-message state: inputs, the issues found so far, and helpers to report them.
struct Context {
  const Terminology& terms;
  const Pcd01Options& opts;
  const FragmentCache& cache;
  const hl7v2::ParsedMessage& msg;
  DataIssues issues;
  std::string sender;  ///< MSH-3 as an identifier component (namespace id, else universal id)
  /// Times converted so far, by their raw text: rows of one message share few distinct times.
  std::deque<FhirTime> times;
  struct TimeSeen {
    std::string_view raw;
    const FhirTime* time;    ///< null when the text was not usable
    std::string error_code;  ///< why not, re-reported at every place the same text appears
    std::string error;
  };
  std::vector<TimeSeen> time_memo;

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
  std::size_t last_time = 0;  ///< index into time_memo of the last hit: rows share times
};

/// Splits raw field bytes (Segment::RawFields) into the components of its first repetition,
/// as hl7v2::Element::RawComponents does: up to `max` into `out`; returns how many there are.
/// Unlike RawComponents it leaves `out` past that count as it was (Parts starts empty). One
/// vector compare per 16 bytes instead of a search per component.
std::size_t SplitComponents(std::string_view field, const hl7v2::Delimiters& d,
                            std::string_view* out, std::size_t max);

/// The components of a CWE/CX/EI field split once (`parts[1]` is component 1), for readers
/// that look at several of them.
struct Parts {
  static constexpr std::size_t kMax = 9;
  std::string_view c[kMax + 1];  ///< c[1..count] (at most kMax); the rest stay empty
  std::size_t count = 0;

  Parts() = default;
  explicit Parts(const hl7v2::Element& e) { count = e.RawComponents(c + 1, kMax); }
  /// From a field's raw bytes (Segment::RawFields).
  Parts(std::string_view field, const hl7v2::Delimiters& d) {
    count = SplitComponents(field, d, c + 1, kMax);
  }
  std::string_view operator[](std::size_t n) const { return n <= kMax ? c[n] : std::string_view(); }
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

/// A Device resource to create: one per distinct device identity in the message.
struct DeviceInfo {
  Identity id;
  std::optional<hl7v2::Segment> declared_by;  ///< the MDS/VMD row that named it, if any
  std::string uuid;
  std::string reference;  ///< `"device":{"reference":"urn:uuid:<uuid>"}`
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

  Row(const hl7v2::Segment& segment, const hl7v2::Delimiters& d);

  hl7v2::Segment obx;
  std::string_view fields[kFields];  ///< raw bytes of OBX-n (escapes not decoded)
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
  Parts unit;                         ///< OBX-6 split once
  /// OBX-6 as a UCUM code (the sender's, or its MDC unit's); empty when it is neither. Found
  /// once per row: the vital-sign check and the value both need it.
  std::string_view ucum;

  /// Field n of the OBX, raw (no Element built): for tests and comparisons.
  std::string_view f(std::size_t n) const { return n < kFields ? fields[n] : obx.field_raw(n); }
  /// True when field n holds a value (neither empty nor the HL7 null "").
  bool has(std::size_t n) const {
    const std::string_view v = f(n);
    return !v.empty() && v != "\"\"";
  }
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
