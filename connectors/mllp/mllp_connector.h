#pragma once

// The MLLP source as the engine sees it (fhirbridge::Connector): an MllpServer in front of an
// Hl7v2MllpHandler, both made by Start(intake).
//
//   MllpConnectorOptions options;
//   options.name = "icu";                        // the source name (Message::source)
//   options.server.host = "127.0.0.1";
//   options.server.port = 2575;
//   options.server.tls.cert_file = ...;           // optional, see MllpTlsOptions
//   options.hl7v2.accepted_types = {"ORU^R01"};
//   MllpConnector connector(options);
//   FHIRBRIDGE_RETURN_IF_ERROR(connector.Start(intake));
//   ...
//   connector.Stop();

#include <memory>
#include <optional>
#include <string>

#include "connectors/mllp/hl7v2_handler.h"
#include "connectors/mllp/server.h"
#include "fhirbridge/connector.h"

namespace fhirbridge::mllp {

struct MllpConnectorOptions {
  std::string name = "mllp";      ///< source name; also Hl7v2MllpHandlerOptions::source
  MllpServerOptions server;       ///< listener, limits, TLS
  Hl7v2MllpHandlerOptions hl7v2;  ///< accepted types, parse limits, ACK observer
};

class MllpConnector : public Connector {
 public:
  explicit MllpConnector(MllpConnectorOptions options);
  ~MllpConnector() override;

  const std::string& name() const override { return options_.name; }
  /// Makes the handler and the server and starts listening; see MllpServer::Start().
  Status Start(Intake& intake) override;
  void Stop() override;
  std::uint16_t port() const override;
  bool Running() const override;

  /// Zero before Start().
  MllpServerStats server_stats() const;
  Hl7v2MllpStats hl7v2_stats() const;

 private:
  MllpConnectorOptions options_;
  std::unique_ptr<Hl7v2MllpHandler> handler_;
  std::unique_ptr<MllpServer> server_;
};

}  // namespace fhirbridge::mllp
