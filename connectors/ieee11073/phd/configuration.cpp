#include "connectors/ieee11073/phd/configuration.h"

#include <algorithm>

#include "connectors/ieee11073/phd/apdu.h"

namespace fhirbridge::phd {

namespace {

constexpr std::size_t kConfigObjectMinBytes = 8;  // class, handle, attribute count and length
constexpr std::size_t kValueMapEntryBytes = 4;

std::vector<ValueMapEntry> ReadValueMap(ApduReader& r, const DecodeLimits& limits) {
  std::vector<ValueMapEntry> map;
  ReadCountedList(r, "attribute-value-map", limits.max_value_map_entries, kValueMapEntryBytes,
                  [&](ApduReader& list, std::size_t) {
                    ValueMapEntry e;
                    e.attribute_id = list.U16("attribute-id");
                    e.length = list.U16("attribute-len");
                    const std::uint16_t fixed = FixedAttributeLength(e.attribute_id);
                    if (list.ok() && fixed != 0 && e.length != fixed) {
                      list.Fail("attribute " + Hex16(e.attribute_id) + " has length " +
                                std::to_string(e.length) + " in the map, its encoding has " +
                                std::to_string(fixed));
                    }
                    map.push_back(e);
                  });
  return map;
}

std::vector<ConfigObject::HandleMap> ReadScanHandleMaps(ApduReader& r, const DecodeLimits& limits) {
  std::vector<ConfigObject::HandleMap> maps;
  ReadCountedList(r, "handle-attr-val-map", limits.max_config_objects, 2 + 4,
                  [&](ApduReader& list, std::size_t) {
                    ConfigObject::HandleMap m;
                    m.handle = list.U16("obj-handle");
                    m.map = ReadValueMap(list, limits);
                    maps.push_back(std::move(m));
                  });
  return maps;
}

// Reads what the manager needs from one attribute of a configuration object.
void ApplyConfigAttribute(ApduReader& v, std::uint16_t id, ConfigObject& obj,
                          const DecodeLimits& limits) {
  switch (id) {
    case attr::kIdType: {
      const std::uint16_t partition = v.U16("partition");
      const std::uint16_t code = v.U16("code");
      obj.type = (static_cast<std::uint32_t>(partition) << 16) | code;
      break;
    }
    case attr::kUnitCode:
      obj.unit = v.U16("unit-code");
      break;
    case attr::kMetricSpecSmall:
      obj.metric_spec_small = v.U16("metric-spec-small");
      break;
    case attr::kAttributeValMap:
      obj.value_map = ReadValueMap(v, limits);
      break;
    case attr::kScanHandleAttrValMap:
      obj.scan_handle_maps = ReadScanHandleMaps(v, limits);
      break;
    case attr::kIdPhysioList:
      ReadCountedList(v, "metric-id-list", limits.max_compound_values, 2,
                      [&](ApduReader& list, std::size_t) {
                        // OID-Type in the partition of the object's TYPE (20601 A.11.1).
                        obj.compound_ids.push_back(list.U16("metric-id"));
                      });
      break;
    default:
      v.Bytes(v.remaining(), "attribute value");  // not needed to read reports
      return;
  }
  v.ExpectEnd("attribute " + Hex16(id));
}

ConfigObject ReadConfigObject(ApduReader& r, std::size_t index, const DecodeLimits& limits) {
  ConfigObject obj;
  const std::size_t start = r.offset();
  obj.obj_class = r.U16("obj-class");
  obj.handle = r.U16("obj-handle");
  ApduReader self = r.Sub(0, "config object " + std::to_string(index + 1) + " (handle " +
                                 std::to_string(obj.handle) + ")");
  std::vector<AttributeValue> attributes = ReadAttributeList(r, "attributes", limits);
  for (const AttributeValue& a : attributes) {
    ApduReader v(a.value, a.offset, r.error(), self.context() + "/attribute " + Hex16(a.id));
    ApplyConfigAttribute(v, a.id, obj, limits);
  }
  if (!r.ok()) return obj;
  if (obj.handle == 0) self.FailAt(start, "handle 0 is the MDS and cannot be a config object");
  if (obj.is_metric() && obj.type == 0) self.FailAt(start, "metric object has no MDC_ATTR_ID_TYPE");
  // The partition of compound ids is the partition of the TYPE.
  for (std::uint32_t& id : obj.compound_ids) id |= obj.type & 0xFFFF0000u;
  return obj;
}

}  // namespace

const ConfigObject* Configuration::Find(std::uint16_t handle) const {
  for (const ConfigObject& o : objects)
    if (o.handle == handle) return &o;
  return nullptr;
}

std::uint16_t FixedAttributeLength(std::uint16_t attribute_id) {
  switch (attribute_id) {
    case attr::kNuValObsBasic:
    case attr::kMsmtStat:
    case attr::kUnitCode:
      return 2;
    case attr::kNuValObsSimp:
    case attr::kTimeStampRel:
    case attr::kIdType:
      return 4;
    case attr::kTimeStampAbs:
    case attr::kTimeAbs:
      return 8;
    case attr::kNuValObs:
      return 10;  // metric-id, state, unit-code, FLOAT
    default:
      return 0;
  }
}

Result<Configuration> DecodeConfigReport(std::span<const std::uint8_t> info,
                                         std::size_t base_offset, const DecodeLimits& limits) {
  DecodeError error;
  ApduReader r(info, base_offset, &error, "ConfigReport");
  Configuration config;
  config.id = r.U16("config-report-id");
  ReadCountedList(r, "config-obj-list", limits.max_config_objects, kConfigObjectMinBytes,
                  [&](ApduReader& list, std::size_t i) {
                    const std::size_t start = list.offset();
                    ConfigObject obj = ReadConfigObject(list, i, limits);
                    if (!list.ok()) return;
                    if (config.Find(obj.handle) != nullptr) {
                      list.FailAt(start, "config object " + std::to_string(i + 1) +
                                             " repeats handle " + std::to_string(obj.handle));
                      return;
                    }
                    config.objects.push_back(std::move(obj));
                  });
  r.ExpectEnd("ConfigReport");
  if (!r.ok()) return error.ToStatus();
  return config;
}

}  // namespace fhirbridge::phd
