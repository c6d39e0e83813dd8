#pragma once

// Per-source mapping settings: configuration → the mappers' option structs.

#include <string>

#include "fhirbridge/config.h"
#include "fhirbridge/result.h"
#include "mappers/pcd01_mapper.h"
#include "mappers/phd_mapper.h"

namespace fhirbridge::app {

/// Builds the PCD-01 options of one configured source (`sources[i]`). Loads its time zone.
Result<mappers::Pcd01Options> Pcd01OptionsFor(const ConfigNode& source);

/// The PHD options of a source: its name, time zone, test-data and identifier settings, which
/// PHD shares with PCD-01.
mappers::PhdOptions PhdOptionsFor(const mappers::Pcd01Options& source);

/// Loads an IANA time zone for `assume_timezone` / --assume-timezone.
Result<std::shared_ptr<const TimeZone>> LoadZone(const std::string& name);

}  // namespace fhirbridge::app
