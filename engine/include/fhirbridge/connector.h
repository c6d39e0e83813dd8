#pragma once

// A source of device data: a listener or a watched folder. It hands every message to the Intake
// and acknowledges only after Intake::Accept returned (ARCHITECTURE.md, Interfaces). The list of
// connector types is in engine/app/registry.cpp.

#include <cstdint>
#include <string>

#include "fhirbridge/intake.h"
#include "fhirbridge/status.h"

namespace fhirbridge {

class Connector {
 public:
  virtual ~Connector() = default;
  /// The configured source name.
  virtual const std::string& name() const = 0;
  /// Binds and starts taking input. `intake` outlives the connector's running time.
  virtual Status Start(Intake& intake) = 0;
  /// Stops accepting, lets messages in flight finish (bounded), closes connections.
  virtual void Stop() = 0;
  /// The bound TCP port (useful with port 0), 0 for connectors without one.
  virtual std::uint16_t port() const = 0;
  /// For /readyz: true while the connector takes input.
  virtual bool Running() const = 0;
};

}  // namespace fhirbridge
