#pragma once

#include <cstdint>
#include <string>

namespace fhirbridge {

/// One unit of device data as a connector received it, before any mapping.
/// `raw` is the exact bytes received (PHI: it lives only in the store, never in logs).
struct Message {
  std::string source;               ///< configured source name, e.g. "icu"
  std::string format;               ///< "hl7v2", "phd", "sdc", "json"
  std::string raw;                  ///< the bytes as received, framing removed
  std::int64_t received_at_us = 0;  ///< receive time, microseconds since the Unix epoch, UTC
  std::string peer;                 ///< remote address or file name; empty when unknown
  std::string control_id;           ///< sender's message id (MSH-10) when the connector knows it
  std::string tls_identity;  ///< subject of the client certificate (mutual TLS); empty without
};

}  // namespace fhirbridge
