#pragma once

// The IEEE 11073 parts of `fhirbridge run`: the mappers of `phd` and `sdc` sources and the
// `phd-tcp` listener as a Connector. Kept apart from registry.cpp, which lists them.

#include <memory>

#include "fhirbridge/config.h"
#include "fhirbridge/connector.h"
#include "fhirbridge/mapper.h"
#include "fhirbridge/result.h"
#include "mappers/terminology.h"

namespace fhirbridge::app {

/// The mapper of a source of format `phd` (stored messages are timed APDU captures made by a
/// phd-tcp source, connectors/ieee11073/phd/timed_capture.h) or `sdc` (one BICEPS document).
Result<std::shared_ptr<const Mapper>> DeviceMapperFor(
    const ConfigNode& source, const std::shared_ptr<const mappers::Terminology>& terminology);

/// A `phd-tcp` source: the 20601 manager's TCP listener. Each confirmed scan report is committed
/// through Intake::Accept (as its timed capture) before the RORS that confirms it is sent.
Result<std::unique_ptr<Connector>> PhdTcpConnectorFor(const ConfigNode& source);

}  // namespace fhirbridge::app
