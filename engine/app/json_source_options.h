#pragma once

// Configuration → the HTTP source and the vendor-JSON mapper of one configured source
// (sources[i] with type http and/or format json). registry.cpp lists them; this builds them.

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "connectors/http/http_source.h"
#include "fhirbridge/config.h"
#include "fhirbridge/mapper.h"
#include "fhirbridge/result.h"
#include "mappers/json_mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::app {

/// The options of an http source: listen address, path, limits, TLS, the bearer token (read
/// from http.token_file), and for format json the control-id pointer of its mapping file.
Result<http::HttpSourceOptions> HttpSourceOptionsFor(const ConfigNode& source);

/// The JSON mapper of a format json source: its mapping file (sources[i].mapping) loaded and
/// checked, with the source's name, time zone and identifier system. Errors name the key path.
Result<std::shared_ptr<const mappers::json::JsonMapper>> JsonMapperFor(
    const ConfigNode& source, std::shared_ptr<const mappers::Terminology> terminology);

/// `fhirbridge convert --format json`: maps `input` (one document) with the mapping of source
/// `source` of the configuration file; prints the Bundle (warnings on `err`) or an
/// OperationOutcome on `out`. `zone` (--assume-timezone) overrides the source's. Returns the
/// exit status: 0 mapped, 1 not mapped, 2 unusable configuration.
int ConvertJson(const std::string& config_path, const std::string& source, const std::string& zone,
                std::string_view input, std::ostream& out, std::ostream& err);

}  // namespace fhirbridge::app
