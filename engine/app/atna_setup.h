#pragma once

// `fhirbridge run` and ATNA forwarding (config `audit.syslog`, docs/audit.md): the forwarder is
// built from the configuration with the service's store and metrics, started after the service
// and stopped before it (the store must outlive it).

#include <memory>

#include "engine/audit/atna_forwarder.h"
#include "engine/service/metrics.h"
#include "fhirbridge/config.h"
#include "fhirbridge/store.h"

namespace fhirbridge::app {

/// The forwarder when `audit.syslog.enabled` is true, else null. Its backlog, position and
/// connection state are added to `metrics`. A TLS file that does not load or an unreadable
/// position file is an error here, before anything starts.
Result<std::unique_ptr<audit::AtnaForwarder>> BuildAtnaForwarder(const Config& config,
                                                                 MessageStore& store,
                                                                 service::Metrics& metrics);

}  // namespace fhirbridge::app
