#pragma once

// The declarative mapping of one vendor JSON feed (docs/mapping-json.md): where, by JSON Pointer
// (RFC 6901), a document holds the device id, the patient id, the time and each measurement's
// value, unit and code; which MDC (and LOINC) code each vendor code is; which UCUM unit each
// vendor unit is. Loaded and checked once per source at start-up; immutable afterwards.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include "fhirbridge/result.h"
#include "fhirbridge/timezone.h"
#include "mappers/terminology.h"

namespace fhirbridge::mappers::json {

/// An RFC 6901 JSON Pointer with its text (for issues) and its parsed form.
struct Pointer {
  std::string text;  ///< "/egvs", "" = the whole value
  rapidjson::Pointer parsed;

  bool empty() const { return text.empty(); }
  /// The value at this pointer inside `root`, or null when a step does not exist.
  const rapidjson::Value* Find(const rapidjson::Value& root) const;
};

/// How a time value is written.
enum class TimeFormat {
  kIso8601,  ///< "2024-03-01T08:15:00Z", "…+01:00", or local "2024-03-01T08:15:00"
  kEpochSeconds,
  kEpochMilliseconds,
};

/// Where a time is and how to read it.
struct TimeSpec {
  Pointer pointer;
  TimeFormat format = TimeFormat::kIso8601;
  /// The zone the vendor documents for times without an offset (e.g. "UTC" for a systemTime);
  /// null = the source's assume_timezone.
  std::shared_ptr<const TimeZone> zone;
};

/// A vendor code's meaning.
struct CodeEntry {
  std::uint32_t mdc = 0;
  std::string mdc_display;  ///< the MDC reference id (from the terminology, or the mapping)
  std::string loinc;        ///< explicit LOINC from the mapping; vital signs get theirs anyway
  std::string loinc_display;
  const VitalSign* vital = nullptr;  ///< the R4 vital sign of `mdc`, when it is one
};

/// One value of a blood-pressure style panel: its vendor code and where its number is.
struct ComponentSpec {
  std::string code;  ///< vendor code (a key of JsonMapping::codes)
  Pointer value;     ///< inside the item
  Pointer unit;      ///< inside the item; empty: the group's unit
};

/// A list of measurements: an array in the document and, per item, where the parts are.
struct MeasurementGroup {
  std::string name;  ///< label for issues, e.g. "egvs"
  Pointer items;     ///< the array, from the document root
  TimeSpec time;     ///< inside the item; empty pointer: the document's time
  Pointer code;      ///< inside the item; empty: `fixed_code`
  std::string fixed_code;
  Pointer value;  ///< inside the item (empty for panels)
  Pointer unit;   ///< inside the item; empty: `fixed_unit`
  std::string fixed_unit;
  std::vector<ComponentSpec> components;  ///< non-empty: one panel Observation per item
  std::string status = "final";           ///< Observation.status of every item
};

/// Bounds on one document (every decoder of outside input has limits).
struct Limits {
  std::size_t max_document_bytes = 4 * 1024 * 1024;
  std::size_t max_depth = 32;     ///< nesting of arrays and objects
  std::size_t max_items = 10000;  ///< measurements in one document, all groups together
  double max_abs_value = 1e15;    ///< larger magnitudes are refused (FHIR decimal precision)
};

struct Mapping {
  std::string name;                   ///< label, e.g. "acme-cgm"
  std::string message_type = "JSON";  ///< RouteFacts::message_type
  Pointer control_id;                 ///< the sender's document id; empty: none
  struct {
    Pointer id;
    std::string system;
    Pointer manufacturer;
    Pointer model;
    std::uint32_t type_mdc = 0;  ///< MDC code of the device type (Device.type), 0 = none
  } device;
  struct {
    Pointer id;
    std::string system;
  } patient;
  TimeSpec document_time;  ///< for groups whose items carry no time; may be empty
  std::vector<MeasurementGroup> groups;
  std::map<std::string, CodeEntry, std::less<>> codes;    ///< vendor code → meaning
  std::map<std::string, std::string, std::less<>> units;  ///< vendor unit → UCUM code
  bool ignore_unknown_codes = false;  ///< true: skip items with an unmapped code (a warning)
  Limits limits;
};

/// Parses and checks a mapping file. Every problem is reported with its key path
/// ("measurements[1].value: not a JSON Pointer (must start with '/')"), one per line, in one
/// InvalidArgument. Units are checked with the UCUM library, MDC codes against `terms`.
Result<Mapping> LoadMapping(std::string_view text, const Terminology& terms);

/// Reads the file at `path` and loads it; NotFound when it cannot be read.
Result<Mapping> LoadMappingFile(const std::string& path, const Terminology& terms);

}  // namespace fhirbridge::mappers::json
