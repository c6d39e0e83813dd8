#pragma once

// The one place that knows which connectors, mappers and sinks exist (ARCHITECTURE.md,
// Interfaces: an explicit list, no static self-registration). Builds a Service from a
// configuration.

#include <memory>

#include "engine/service/service.h"
#include "engine/store/sqlite_store.h"
#include "fhirbridge/config.h"

namespace fhirbridge::app {

/// Opens the store (creating its folder) and builds every configured part. Every problem that
/// configuration checks could not see (a TLS file that does not load, a source type this build
/// lacks, a folder that cannot be created) is reported here, before anything listens.
Result<std::unique_ptr<service::Service>> BuildService(const Config& config);

/// Opens the configured store (creating its folder): the service and the commands that work on
/// the store (`deadletter`, `audit`) open it the same way.
Result<std::unique_ptr<store::SqliteStore>> OpenConfiguredStore(const Config& config);

/// Loads the configuration file and opens its store: what the commands that work on the store
/// do first. The status names the file or key at fault.
Result<std::unique_ptr<store::SqliteStore>> OpenStoreOfConfigFile(const std::string& path);

/// "cli:<user name>" for the audit trail of commands run by hand.
std::string CliActor();

}  // namespace fhirbridge::app
