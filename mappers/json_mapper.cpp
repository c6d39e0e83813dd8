#include "mappers/json_mapper.h"

#include <charconv>
#include <cmath>
#include <map>
#include <utility>

#include "connectors/http/body_check.h"
#include "mappers/fhir_values.h"
#include "mappers/json_resources.h"
#include "mappers/json_time.h"

namespace fhirbridge::mappers::json {

namespace {

constexpr std::size_t kMaxIdLength = 256;

// What mapping one document collects: the issues, and whether one of them is an error.
struct Collector {
  DataIssues issues;
  bool failed = false;
  void Error(std::string code, std::string where, std::string text) {
    issues.push_back(DataIssue::Error(std::move(code), std::move(where), std::move(text)));
    failed = true;
  }
};

std::string Concat(std::string_view base, std::string_view pointer) {
  std::string s(base);
  s += pointer;
  return s;
}

// A string or an integer as identifier text (ids, codes); nullopt for anything else.
std::optional<std::string> IdText(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  return std::nullopt;
}

// A required identifier (device or patient id) at `pointer` of the document.
std::string ReadId(const rapidjson::Value& doc, const Pointer& pointer, const char* what,
                   Collector& c) {
  const rapidjson::Value* v = pointer.Find(doc);
  if (v == nullptr) {
    c.Error("required", pointer.text, std::string(what) + " not found");
    return {};
  }
  std::optional<std::string> text = IdText(*v);
  if (!text || text->empty() || text->size() > kMaxIdLength) {
    c.Error("value", pointer.text,
            std::string(what) + " must be a non-empty string or integer of at most " +
                std::to_string(kMaxIdLength) + " characters");
    return {};
  }
  return *text;
}

// An optional string (manufacturer, model); a warning when present but not a string.
std::string ReadOptionalText(const rapidjson::Value& doc, const Pointer& pointer, Collector& c) {
  if (pointer.empty()) return {};
  const rapidjson::Value* v = pointer.Find(doc);
  if (v == nullptr || v->IsNull()) return {};
  if (!v->IsString() || v->GetStringLength() > kMaxIdLength) {
    c.issues.push_back(
        DataIssue::Warning("value", pointer.text, "expected a short string; left out"));
    return {};
  }
  return std::string(v->GetString(), v->GetStringLength());
}

// The FHIR decimal of a JSON number, shortest round-trip form without an exponent.
std::string Decimal(const rapidjson::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  char buf[400];
  const auto r = std::to_chars(buf, buf + sizeof buf, v.GetDouble(), std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

class DocumentReader {
 public:
  DocumentReader(const Terminology& terms, const Mapping& m, const JsonOptions& o,
                 const rapidjson::Value& doc, Collector& c)
      : terms_(terms), m_(m), o_(o), doc_(doc), c_(c) {}

  std::vector<PlannedObservation> Plan() {
    std::size_t count = 0;
    for (const MeasurementGroup& g : m_.groups) {
      const rapidjson::Value* items = g.items.Find(doc_);
      if (items == nullptr) {
        c_.Error("required", g.items.text, "measurement list " + Label(g) + " not found");
        continue;
      }
      if (!items->IsArray()) {
        c_.Error("structure", g.items.text, "expected an array of measurements");
        continue;
      }
      for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
        if (++count > m_.limits.max_items) {
          c_.Error("too-costly", g.items.text,
                   "more than " + std::to_string(m_.limits.max_items) +
                       " measurements in one document (limits.max_items)");
          return {};
        }
        const std::string base = g.items.text + "/" + std::to_string(i);
        if (!(*items)[i].IsObject() && !(*items)[i].IsArray()) {
          c_.Error("structure", base, "expected an object");
          continue;
        }
        PlanItem(g, (*items)[i], base);
      }
    }
    return std::move(plans_);
  }

 private:
  static std::string Label(const MeasurementGroup& g) {
    return g.name.empty() ? std::string("(unnamed)") : g.name;
  }

  const CodeEntry* ReadCode(const MeasurementGroup& g, const rapidjson::Value& item,
                            const std::string& base, bool& skip) {
    std::string code = g.fixed_code;
    if (code.empty()) {
      const rapidjson::Value* v = g.code.Find(item);
      std::optional<std::string> text = v ? IdText(*v) : std::nullopt;
      if (!text) {
        c_.Error(v ? "value" : "required", Concat(base, g.code.text),
                 v ? "the code must be a string or an integer" : "code not found");
        return nullptr;
      }
      code = std::move(*text);
    }
    const auto it = m_.codes.find(code);
    if (it != m_.codes.end()) return &it->second;
    const std::string where = g.fixed_code.empty() ? Concat(base, g.code.text) : base;
    // The code is the vendor's term, not PHI: naming it tells the operator what to add.
    const std::string text =
        "vendor code \"" + code.substr(0, 64) + "\" is not in the mapping's codes";
    if (m_.ignore_unknown_codes) {
      c_.issues.push_back(DataIssue::Warning("code-invalid", where, text + "; item left out"));
      skip = true;
    } else {
      c_.Error("code-invalid", where, text);
    }
    return nullptr;
  }

  // The UCUM code of the unit at `unit` (or the fixed one); "" when the group has none.
  std::string ReadUnit(const MeasurementGroup& g, const Pointer& unit, const rapidjson::Value& item,
                       const std::string& base) {
    std::string vendor = g.fixed_unit;
    if (!unit.empty()) {
      const rapidjson::Value* v = unit.Find(item);
      if (v == nullptr || !v->IsString()) {
        c_.Error(v ? "value" : "required", Concat(base, unit.text),
                 v ? "the unit must be a string" : "unit not found");
        return {};
      }
      vendor.assign(v->GetString(), v->GetStringLength());
    }
    if (vendor.empty() && unit.empty()) return {};
    const auto it = m_.units.find(vendor);
    if (it == m_.units.end()) {
      c_.Error("code-invalid", unit.empty() ? base : Concat(base, unit.text),
               "unit \"" + vendor.substr(0, 32) + "\" is not in the mapping's units");
      return {};
    }
    return it->second;
  }

  // MAPPING.md: a missing value is never guessed: null → dataAbsentReason, with a warning.
  bool ReadValue(const Pointer& pointer, const rapidjson::Value& item, const std::string& base,
                 PlannedValue& out) {
    const std::string where = Concat(base, pointer.text);
    const rapidjson::Value* v = pointer.Find(item);
    if (v == nullptr) {
      c_.Error("required", where, "value not found");
      return false;
    }
    if (v->IsNull()) {
      out.absent_reason = "unknown";
      c_.issues.push_back(DataIssue::Warning("value", where, "value is null: dataAbsentReason"));
      return true;
    }
    if (!v->IsNumber()) {
      c_.Error("value", where, "the value must be a JSON number");
      return false;
    }
    const double d = v->GetDouble();
    if (!std::isfinite(d) || std::fabs(d) > m_.limits.max_abs_value) {
      c_.Error("value", where, "the value is out of range (limits.max_abs_value)");
      return false;
    }
    out.decimal = Decimal(*v);
    return true;
  }

  std::optional<FhirTime> ReadItemTime(const MeasurementGroup& g, const rapidjson::Value& item,
                                       const std::string& base) {
    const bool own = !g.time.pointer.empty();
    const TimeSpec& spec = own ? g.time : m_.document_time;
    const rapidjson::Value& scope = own ? item : doc_;
    const std::string where = own ? Concat(base, spec.pointer.text) : spec.pointer.text;
    const rapidjson::Value* v = spec.pointer.Find(scope);
    if (v == nullptr) {
      c_.Error("required", where, "time not found");
      return std::nullopt;
    }
    DataIssues time_issues;
    Result<FhirTime> t = ReadTime(*v, spec, o_.assume_timezone.get(), &time_issues);
    for (DataIssue& i : time_issues) {
      i.location = where;
      c_.issues.push_back(std::move(i));
    }
    if (!t.ok()) {
      c_.Error("value", where, t.status().message());
      return std::nullopt;
    }
    return std::move(t).value();
  }

  // The value's unit spelled as the vital sign's profile wants it, or nullopt when it does not
  // fit the profile (then the Observation is not claimed as a vital sign).
  std::optional<std::string> ProfileUnit(const VitalSign& vital, const PlannedValue& v) {
    if (v.decimal.empty()) return v.ucum;
    if (v.ucum.empty()) return std::nullopt;
    auto unit = terms_.ProfileUnit(vital, v.ucum);
    if (!unit) return std::nullopt;
    return std::string(*unit);
  }

  // The vital sign a planned Observation is, adjusting units to the profile's spelling.
  const VitalSign* VitalOf(PlannedObservation& p) {
    const VitalSign* vital = p.code->vital;
    if (vital == nullptr || vital->loinc.empty()) return nullptr;
    if (p.components.empty()) {
      if (vital->role != VitalSign::Role::kSingle) return nullptr;
      auto unit = ProfileUnit(*vital, p.value);
      if (!unit) return nullptr;
      p.value.ucum = *unit;
      return vital;
    }
    if (vital->role != VitalSign::Role::kPanel) return nullptr;
    std::vector<std::string> units;
    for (const PlannedValue& c : p.components) {
      if (c.code->vital == nullptr) return nullptr;
      auto unit = ProfileUnit(*c.code->vital, c);
      if (!unit) return nullptr;
      units.push_back(*unit);
    }
    for (std::size_t i = 0; i < units.size(); ++i) p.components[i].ucum = units[i];
    return vital;
  }

  void PlanItem(const MeasurementGroup& g, const rapidjson::Value& item, const std::string& base) {
    const std::size_t errors_before = c_.issues.size();
    bool skip = false;
    PlannedObservation p;
    p.code = ReadCode(g, item, base, skip);
    if (skip || p.code == nullptr) return;  // the rest of an unknown item would only add noise
    p.status = g.status;
    std::optional<FhirTime> time = ReadItemTime(g, item, base);
    if (g.components.empty()) {
      p.value.code = p.code;
      p.value.ucum = ReadUnit(g, g.unit, item, base);
      ReadValue(g.value, item, base, p.value);
    } else {
      for (const ComponentSpec& spec : g.components) {
        PlannedValue v;
        v.code = &m_.codes.at(spec.code);
        v.ucum = ReadUnit(g, spec.unit.empty() ? g.unit : spec.unit, item, base);
        ReadValue(spec.value, item, base, v);
        p.components.push_back(std::move(v));
      }
    }
    bool item_failed = false;
    for (std::size_t i = errors_before; i < c_.issues.size(); ++i)
      item_failed |= c_.issues[i].severity == DataIssue::Severity::kError;
    if (item_failed || !time) return;
    p.time = std::move(*time);
    p.vital = VitalOf(p);
    if (p.code->vital != nullptr && p.vital == nullptr) {
      c_.issues.push_back(DataIssue::Warning(
          "value", base,
          "the unit does not fit the R4 vital-signs profile of MDC " + std::to_string(p.code->mdc) +
              ": mapped without the vital-sign LOINC code"));
    }
    plans_.push_back(std::move(p));
  }

  const Terminology& terms_;
  const Mapping& m_;
  const JsonOptions& o_;
  const rapidjson::Value& doc_;
  Collector& c_;
  std::vector<PlannedObservation> plans_;
};

// MAPPING.md, Observation identifier: source, device, MDC code, time in UTC, and a facet when
// one document repeats a code at one time.
void AssignIdentities(std::vector<PlannedObservation>& plans, const JsonOptions& o,
                      const std::string& device_id) {
  std::map<std::string, int> seen;
  for (PlannedObservation& p : plans) {
    std::string id;
    AppendIdentifierComponent(id, o.source_name);
    id += '/';
    AppendIdentifierComponent(id, device_id);
    id += '/';
    id += std::to_string(p.code->mdc);
    id += '/';
    id += p.time.utc_key;
    const int n = ++seen[id];
    if (n > 1) id += "/" + std::to_string(n);
    p.identity = std::move(id);
  }
}

void FillFacts(RouteFacts& facts, const Mapping& m, const DeviceFacts& device,
               const std::vector<PlannedObservation>& plans) {
  facts.message_type = m.message_type;
  facts.devices.push_back(device.system + "|" + device.id);
  auto add = [&facts](std::string code) {
    for (const std::string& c : facts.codes)
      if (c == code) return;
    facts.codes.push_back(std::move(code));
  };
  for (const PlannedObservation& p : plans) {
    add(std::string(kMdcSystem) + "|" + std::to_string(p.code->mdc));
    if (p.vital != nullptr)
      add(std::string(kLoincSystem) + "|" + std::string(p.vital->loinc));
    else if (!p.code->loinc.empty())
      add(std::string(kLoincSystem) + "|" + p.code->loinc);
  }
}

}  // namespace

struct JsonMapper::Impl {
  const Terminology& terms;
  Mapping mapping;
  JsonOptions options;
};

JsonMapper::JsonMapper(const Terminology& terminology, Mapping mapping, JsonOptions options)
    : impl_(std::make_unique<Impl>(Impl{terminology, std::move(mapping), std::move(options)})) {}
JsonMapper::~JsonMapper() = default;

const Mapping& JsonMapper::mapping() const { return impl_->mapping; }

JsonMapped JsonMapper::MapDocument(std::string_view raw) const {
  const Mapping& m = impl_->mapping;
  const JsonOptions& o = impl_->options;
  JsonMapped result;
  MapOutput& out = result.output;
  out.result = MapOutput::Result::kFailed;
  out.facts.message_type = m.message_type;
  if (raw.size() > m.limits.max_document_bytes) {
    out.issues.push_back(DataIssue::Error(
        "too-long", "byte " + std::to_string(m.limits.max_document_bytes),
        "the document is larger than " + std::to_string(m.limits.max_document_bytes) + " bytes"));
    return result;
  }
  rapidjson::Document doc;
  http::BodyProblem problem;
  if (!http::ParseJsonBody(raw, m.limits.max_depth, doc, problem)) {
    out.issues.push_back(DataIssue::Error("structure", problem.location, problem.text));
    return result;
  }
  if (!m.control_id.empty()) result.control_id = http::PointerText(doc, m.control_id.text);
  Collector c;
  DeviceFacts device;
  device.system = m.device.system;
  device.id = ReadId(doc, m.device.id, "device id", c);
  device.manufacturer = ReadOptionalText(doc, m.device.manufacturer, c);
  device.model = ReadOptionalText(doc, m.device.model, c);
  device.type_mdc = m.device.type_mdc;
  if (const MdcTerm* t = impl_->terms.FindCode(device.type_mdc)) device.type_display = t->refid;
  const std::string patient_id = ReadId(doc, m.patient.id, "patient id", c);
  std::vector<PlannedObservation> plans = DocumentReader(impl_->terms, m, o, doc, c).Plan();
  out.issues = std::move(c.issues);
  if (c.failed) return result;
  if (plans.empty()) {
    out.issues.push_back(
        DataIssue::Error("required", "", "the document holds no measurement to map"));
    return result;
  }
  AssignIdentities(plans, o, device.id);
  const std::string patient_key = m.patient.system + "|" + patient_id;
  const WriteContext ctx{
      o.observation_identifier_system,
      R"("subject":{"reference":"urn:uuid:)" + DeterministicUuid("Patient", patient_key) + "\"}",
      R"("device":{"reference":"urn:uuid:)" +
          DeterministicUuid("Device", device.system + "|" + device.id) + "\"}"};
  JsonWriter w(out.bundle);
  BeginBundle(w, "transaction");
  WritePatientEntry(w, m.patient.system, patient_id);
  WriteDeviceEntry(w, device);
  for (const PlannedObservation& p : plans) WriteObservationEntry(w, ctx, p);
  EndBundle(w);
  out.result = MapOutput::Result::kMapped;
  out.lane = HashHex64(patient_key);
  out.resource_count = static_cast<std::int64_t>(plans.size() + 2);
  FillFacts(out.facts, m, device, plans);
  return result;
}

}  // namespace fhirbridge::mappers::json
