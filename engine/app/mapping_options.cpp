#include "engine/app/mapping_options.h"

namespace fhirbridge::app {

Result<std::shared_ptr<const TimeZone>> LoadZone(const std::string& name) {
  Result<std::shared_ptr<const TimeZone>> zone = TimeZone::Load(name);
  if (!zone.ok()) return zone.status().WithContext("time zone \"" + name + "\"");
  return zone;
}

mappers::PhdOptions PhdOptionsFor(const mappers::Pcd01Options& source) {
  mappers::PhdOptions options;
  options.source_name = source.source_name;
  options.assume_timezone = source.assume_timezone;
  options.deliver_test_data = source.deliver_test_data;
  options.observation_identifier_system = source.observation_identifier_system;
  return options;
}

Result<mappers::Pcd01Options> Pcd01OptionsFor(const ConfigNode& source) {
  mappers::Pcd01Options options;
  options.source_name = source.GetString("name");
  if (source.Has("assume_timezone")) {
    Result<std::shared_ptr<const TimeZone>> zone = LoadZone(source.GetString("assume_timezone"));
    if (!zone.ok()) return zone.status().WithContext(source.path() + ".assume_timezone");
    options.assume_timezone = *zone;
  }
  options.identifier_systems = source.GetStringMap("identifier_systems");
  options.unknown_assigning_authority =
      source.GetString("unknown_assigning_authority") == "hold"
          ? mappers::Pcd01Options::UnknownAuthority::kHold
          : mappers::Pcd01Options::UnknownAuthority::kScopeToSender;
  options.code_systems = source.GetStringMap("code_systems");
  options.status_for_r = source.GetString("status_for_R");
  options.deliver_test_data = source.GetBool("deliver_test_data");
  options.observation_identifier_system = source.GetString("observation_identifier_system");
  const ConfigNode& limits = source.Object("limits");
  options.limits.max_message_bytes = static_cast<std::size_t>(limits.GetInt("max_message_bytes"));
  options.limits.max_segments = static_cast<std::size_t>(limits.GetInt("max_segments"));
  options.limits.max_fields_per_segment =
      static_cast<std::size_t>(limits.GetInt("max_fields_per_segment"));
  options.limits.max_repetitions = static_cast<std::size_t>(limits.GetInt("max_repetitions"));
  return options;
}

}  // namespace fhirbridge::app
