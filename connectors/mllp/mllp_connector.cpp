// MllpConnector: see mllp_connector.h.

#include "connectors/mllp/mllp_connector.h"

#include <utility>

namespace fhirbridge::mllp {

MllpConnector::MllpConnector(MllpConnectorOptions options) : options_(std::move(options)) {
  options_.hl7v2.source = options_.name;
}

MllpConnector::~MllpConnector() { Stop(); }

Status MllpConnector::Start(Intake& intake) {
  if (server_)
    return Status::FailedPrecondition("mllp source " + options_.name + ": started twice");
  handler_ = std::make_unique<Hl7v2MllpHandler>(options_.hl7v2, intake);
  server_ = std::make_unique<MllpServer>(options_.server, *handler_);
  return server_->Start().WithContext("source " + options_.name);
}

void MllpConnector::Stop() {
  if (server_) server_->Stop();  // the handler stays: stats() remain readable
}

std::uint16_t MllpConnector::port() const { return server_ ? server_->port() : 0; }

bool MllpConnector::Running() const { return server_ && server_->running(); }

MllpServerStats MllpConnector::server_stats() const {
  return server_ ? server_->stats() : MllpServerStats{};
}

Hl7v2MllpStats MllpConnector::hl7v2_stats() const {
  return handler_ ? handler_->stats() : Hl7v2MllpStats{};
}

}  // namespace fhirbridge::mllp
