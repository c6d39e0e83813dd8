#pragma once

// The one place that knows which connectors, mappers and sinks exist (ARCHITECTURE.md,
// Interfaces: an explicit list, no static self-registration). Builds a Service from a
// configuration.

#include <memory>

#include "engine/service/service.h"
#include "fhirbridge/config.h"

namespace fhirbridge::app {

/// Opens the store (creating its folder) and builds every configured part. Every problem that
/// configuration checks could not see (a TLS file that does not load, a source type this build
/// lacks, a folder that cannot be created) is reported here, before anything listens.
Result<std::unique_ptr<service::Service>> BuildService(const Config& config);

}  // namespace fhirbridge::app
