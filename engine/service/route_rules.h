#pragma once

// Which destinations a mapped message goes to. A route names sources and destinations and may
// carry conditions on what the message holds (message type, observation codes, the patient's
// point of care, the device); a message goes to every destination of every route whose sources
// include its source and whose conditions all hold (issue 4, Routes).

#include <string>
#include <string_view>
#include <vector>

#include "fhirbridge/mapper.h"

namespace fhirbridge::service {

/// The conditions of one route; an empty list is no condition. Within a list any entry may
/// match; across lists all must.
struct RouteCondition {
  /// Message types as the mapper reports them ("ORU^R01", "PHD", "SDC", "JSON"); "ORU" matches
  /// every ORU trigger event.
  std::vector<std::string> message_types;
  /// "system|code" or a bare code (any system): matches when any Observation carries it.
  std::vector<std::string> codes;
  /// Point of care: "ICU" matches a location whose first component is ICU ("ICU^BED12^…"); a
  /// value with components ("ICU^BED12") must equal that many leading components.
  std::vector<std::string> locations;
  /// "system|value" or a bare value: matches when the message names that device.
  std::vector<std::string> devices;

  bool empty() const {
    return message_types.empty() && codes.empty() && locations.empty() && devices.empty();
  }
  bool Matches(const RouteFacts& facts) const;
};

struct RouteTarget {
  std::string destination;
  RouteCondition when;
};

/// The distinct destinations among `targets` whose conditions hold, in configuration order.
std::vector<std::string> SelectDestinations(const std::vector<RouteTarget>& targets,
                                            const RouteFacts& facts);

}  // namespace fhirbridge::service
