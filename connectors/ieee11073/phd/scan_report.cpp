#include "connectors/ieee11073/phd/scan_report.h"

#include "connectors/ieee11073/phd/apdu.h"

namespace fhirbridge::phd {

namespace {

enum class Format { kFixed, kVar, kGrouped };

struct Shape {
  Format format;
  bool multi_person;
};

std::optional<Shape> ShapeOf(std::uint16_t event_type) {
  switch (event_type) {
    case event::kScanReportFixed:
    case event::kUnbufScanReportFixed:
    case event::kBufScanReportFixed:
      return Shape{Format::kFixed, false};
    case event::kScanReportMpFixed:
    case event::kUnbufScanReportMpFixed:
    case event::kBufScanReportMpFixed:
      return Shape{Format::kFixed, true};
    case event::kScanReportVar:
    case event::kUnbufScanReportVar:
    case event::kBufScanReportVar:
      return Shape{Format::kVar, false};
    case event::kScanReportMpVar:
    case event::kUnbufScanReportMpVar:
    case event::kBufScanReportMpVar:
      return Shape{Format::kVar, true};
    case event::kUnbufScanReportGrouped:
    case event::kBufScanReportGrouped:
      return Shape{Format::kGrouped, false};
    case event::kUnbufScanReportMpGrouped:
    case event::kBufScanReportMpGrouped:
      return Shape{Format::kGrouped, true};
    default:
      return std::nullopt;
  }
}

// Decodes the observations of one scan report into `out`.
class ReportDecoder {
 public:
  ReportDecoder(const Configuration& config, const DecodeLimits& limits, ScanReport& out)
      : config_(config), limits_(limits), out_(out) {}

  void Fixed(ApduReader& list, std::optional<std::uint16_t> person) {
    const std::size_t start = list.offset();
    const std::uint16_t handle = list.U16("obj-handle");
    ApduReader data = list.LengthPrefixed("handle " + std::to_string(handle) + " obs-val-data");
    const ConfigObject* obj = Object(list, handle, start);
    if (obj == nullptr) return;
    Measurement m = Start(*obj, start, person);
    ReadMapped(data, *obj, obj->value_map, m);
    data.ExpectEnd("the Attribute-Value-Map of handle " + std::to_string(handle));
    Finish(std::move(m));
  }

  void Var(ApduReader& list, std::optional<std::uint16_t> person) {
    const std::size_t start = list.offset();
    const std::uint16_t handle = list.U16("obj-handle");
    std::vector<AttributeValue> attributes = ReadAttributeList(list, "attributes", limits_);
    const ConfigObject* obj = Object(list, handle, start);
    if (obj == nullptr) return;
    Measurement m = Start(*obj, start, person);
    for (const AttributeValue& a : attributes) {
      ApduReader v(
          a.value, a.offset, list.error(),
          list.context() + "/handle " + std::to_string(handle) + "/attribute " + Hex16(a.id));
      Apply(v, a.id, *obj, m);
    }
    Finish(std::move(m));
  }

  // ObservationScanGrouped: the values of every handle in the scanner's map, back to back.
  void Grouped(ApduReader& data, const ConfigObject& scanner, std::optional<std::uint16_t> person) {
    for (const ConfigObject::HandleMap& entry : scanner.scan_handle_maps) {
      const std::size_t start = data.offset();
      const ConfigObject* obj = Object(data, entry.handle, start);
      if (obj == nullptr) return;
      Measurement m = Start(*obj, start, person);
      ReadMapped(data, *obj, entry.map, m);
      Finish(std::move(m));
      if (!data.ok()) return;
    }
    data.ExpectEnd("the scanner's handle-attr-val-map");
  }

 private:
  const ConfigObject* Object(ApduReader& r, std::uint16_t handle, std::size_t at) {
    if (!r.ok()) return nullptr;
    const ConfigObject* obj = config_.Find(handle);
    if (obj == nullptr || !obj->is_metric()) {
      r.FailAt(at, "handle " + std::to_string(handle) +
                       " is not a metric object of configuration " + Hex16(config_.id));
      return nullptr;
    }
    if (++observations_ > limits_.max_observations)
      r.FailLimit("observations in one report", observations_, limits_.max_observations);
    return r.ok() ? obj : nullptr;
  }

  static Measurement Start(const ConfigObject& obj, std::size_t at,
                           std::optional<std::uint16_t> person) {
    Measurement m;
    m.handle = obj.handle;
    m.type = obj.type;
    m.offset = at;
    m.person_id = person;
    return m;
  }

  void ReadMapped(ApduReader& data, const ConfigObject& obj, const std::vector<ValueMapEntry>& map,
                  Measurement& m) {
    for (const ValueMapEntry& e : map) {
      ApduReader v = data.Sub(
          e.length, "handle " + std::to_string(obj.handle) + "/attribute " + Hex16(e.attribute_id));
      Apply(v, e.attribute_id, obj, m);
      if (!data.ok()) return;
    }
  }

  void ReadCompound(ApduReader& v, const ConfigObject& obj, Measurement& m, int kind) {
    m.compound = true;
    m.values.clear();
    const std::size_t entry_bytes = kind == 0 ? 2 : kind == 1 ? 4 : 10;
    ReadCountedList(v, "compound", limits_.max_compound_values, entry_bytes,
                    [&](ApduReader& list, std::size_t i) {
                      NumericValue value;
                      value.unit = obj.unit;
                      value.code = i < obj.compound_ids.size() ? obj.compound_ids[i] : 0;
                      if (kind == 0) {
                        value.number = DecodeSFloat(list.U16("SFLOAT"));
                      } else if (kind == 1) {
                        value.number = DecodeFloat(list.U32("FLOAT"));
                      } else {
                        value.code = (obj.type & 0xFFFF0000u) | list.U16("metric-id");
                        list.U16("state");
                        value.unit = list.U16("unit-code");
                        value.number = DecodeFloat(list.U32("FLOAT"));
                      }
                      m.values.push_back(value);
                    });
    if (v.ok() && kind != 2 && m.values.size() != obj.compound_ids.size()) {
      v.Fail("compound holds " + std::to_string(m.values.size()) +
             " values, MDC_ATTR_ID_PHYSIO_LIST of handle " + std::to_string(obj.handle) +
             " names " + std::to_string(obj.compound_ids.size()));
    }
  }

  void Apply(ApduReader& v, std::uint16_t id, const ConfigObject& obj, Measurement& m) {
    switch (id) {
      case attr::kNuValObsBasic:
        m.values = {{obj.type, DecodeSFloat(v.U16("SFLOAT")), obj.unit}};
        break;
      case attr::kNuValObsSimp:
        m.values = {{obj.type, DecodeFloat(v.U32("FLOAT")), obj.unit}};
        break;
      case attr::kNuValObs: {
        NumericValue value;
        value.code = (obj.type & 0xFFFF0000u) | v.U16("metric-id");
        m.status = v.U16("state");
        value.unit = v.U16("unit-code");
        value.number = DecodeFloat(v.U32("FLOAT"));
        m.values = {value};
        break;
      }
      case attr::kNuCmpdValObsBasic:
        ReadCompound(v, obj, m, 0);
        break;
      case attr::kNuCmpdValObsSimp:
        ReadCompound(v, obj, m, 1);
        break;
      case attr::kNuCmpdValObs:
        ReadCompound(v, obj, m, 2);
        break;
      case attr::kTimeStampAbs:
        m.time = ReadAbsoluteTime(v, "Absolute-Time-Stamp");
        break;
      case attr::kMsmtStat:
        m.status = v.U16("MeasurementStatus");
        break;
      case attr::kUnitCode:
        unit_override_ = v.U16("unit-code");
        break;
      default:
        v.Bytes(v.remaining(), "attribute value");  // not needed for the measurement
        return;
    }
    v.ExpectEnd("attribute " + Hex16(id));
  }

  void Finish(Measurement m) {
    if (unit_override_) {
      for (NumericValue& v : m.values) v.unit = *unit_override_;
      unit_override_.reset();
    }
    out_.measurements.push_back(std::move(m));
  }

  const Configuration& config_;
  const DecodeLimits& limits_;
  ScanReport& out_;
  std::size_t observations_ = 0;
  std::optional<std::uint16_t> unit_override_;
};

constexpr std::size_t kFixedMinBytes = 4;  // obj-handle, obs-val-data length
constexpr std::size_t kVarMinBytes = 6;    // obj-handle, attribute count and length

void ReadPersonBlock(ApduReader& r, Shape shape, std::optional<std::uint16_t> person,
                     ReportDecoder& decoder, const ConfigObject* scanner,
                     const DecodeLimits& limits) {
  switch (shape.format) {
    case Format::kFixed:
      ReadCountedList(r, "obs-scan-fixed", limits.max_observations, kFixedMinBytes,
                      [&](ApduReader& list, std::size_t) { decoder.Fixed(list, person); });
      break;
    case Format::kVar:
      ReadCountedList(r, "obs-scan-var", limits.max_observations, kVarMinBytes,
                      [&](ApduReader& list, std::size_t) { decoder.Var(list, person); });
      break;
    case Format::kGrouped: {
      ApduReader data = r.LengthPrefixed("obs-scan-grouped");
      if (r.ok()) decoder.Grouped(data, *scanner, person);
      break;
    }
  }
}

}  // namespace

bool IsScanReport(std::uint16_t event_type) { return ShapeOf(event_type).has_value(); }

Result<ScanReport> DecodeScanReport(std::uint16_t event_type, std::uint16_t obj_handle,
                                    std::span<const std::uint8_t> info, std::size_t base_offset,
                                    const Configuration& config, const DecodeLimits& limits) {
  const std::optional<Shape> shape = ShapeOf(event_type);
  if (!shape) {
    return Status::InvalidArgument("byte " + std::to_string(base_offset) + ": event type " +
                                   Hex16(event_type) + " is not a scan report");
  }
  DecodeError error;
  ApduReader r(info, base_offset, &error, "ScanReport " + Hex16(event_type));
  ScanReport out;
  out.event_type = event_type;
  out.data_req_id = r.U16("data-req-id");
  out.scan_report_no = r.U16("scan-report-no");
  const ConfigObject* scanner = nullptr;
  if (shape->format == Format::kGrouped) {
    scanner = config.Find(obj_handle);
    if (scanner == nullptr || scanner->scan_handle_maps.empty()) {
      r.FailAt(base_offset, "grouped report from handle " + std::to_string(obj_handle) +
                                ", which is not a scanner with a handle-attr-val-map");
      return error.ToStatus();
    }
  }
  ReportDecoder decoder(config, limits, out);
  if (shape->multi_person) {
    const std::size_t min_block = shape->format == Format::kGrouped ? 4 : 6;
    ReadCountedList(r, "scan-per", limits.max_persons, min_block,
                    [&](ApduReader& list, std::size_t) {
                      const std::uint16_t person = list.U16("person-id");
                      ReadPersonBlock(list, *shape, person, decoder, scanner, limits);
                    });
  } else if (shape->format == Format::kGrouped) {
    ReadCountedList(r, "obs-scan-grouped-list", limits.max_observations, 2,
                    [&](ApduReader& list, std::size_t) {
                      ApduReader data = list.LengthPrefixed("obs-scan-grouped");
                      if (list.ok()) decoder.Grouped(data, *scanner, std::nullopt);
                    });
  } else {
    ReadPersonBlock(r, *shape, std::nullopt, decoder, scanner, limits);
  }
  r.ExpectEnd("the scan report");
  if (!r.ok()) return error.ToStatus();
  return out;
}

}  // namespace fhirbridge::phd
