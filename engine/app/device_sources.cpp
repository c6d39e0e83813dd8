#include "engine/app/device_sources.h"

#include <rapidjson/document.h>

#include <atomic>

#include "connectors/ieee11073/phd/tcp_server.h"
#include "connectors/ieee11073/phd/timed_capture.h"
#include "engine/app/mapping_options.h"
#include "mappers/phd_mapper.h"
#include "mappers/sdc_mapper.h"

namespace fhirbridge::app {

namespace {

// Route facts of a Bundle: the codes of its Observations and the identifiers of its Devices.
RouteFacts FactsOf(const std::string& bundle, std::string message_type) {
  RouteFacts facts;
  facts.message_type = std::move(message_type);
  rapidjson::Document doc;
  doc.Parse(bundle.c_str());
  if (doc.HasParseError() || !doc.HasMember("entry")) return facts;
  for (const auto& entry : doc["entry"].GetArray()) {
    const auto& r = entry["resource"];
    const std::string_view type = r["resourceType"].GetString();
    if (type == "Observation" && r.HasMember("code")) {
      for (const auto& c : r["code"]["coding"].GetArray())
        facts.codes.push_back(std::string(c["system"].GetString()) + "|" + c["code"].GetString());
    } else if (type == "Device" && r.HasMember("identifier")) {
      for (const auto& i : r["identifier"].GetArray())
        facts.devices.push_back(std::string(i["system"].GetString()) + "|" +
                                i["value"].GetString());
    }
  }
  return facts;
}

class PhdPipelineMapper final : public Mapper {
 public:
  PhdPipelineMapper(std::shared_ptr<const mappers::Terminology> terminology,
                    mappers::PhdOptions options)
      : terminology_(std::move(terminology)), mapper_(*terminology_, std::move(options)) {}

  // A stored phd message is one report's timed capture (docs/connector-phd.md): replayed, it
  // gives that one report, with the receive times the listener saw.
  MapOutput Map(std::string_view raw) const override {
    MapOutput out;
    if (!phd::IsTimedCapture(raw)) {
      out.issues.push_back(DataIssue::Error(
          "not-supported", "byte 0",
          "a stored phd message must be a timed APDU capture made by a phd-tcp source; a plain "
          "APDU stream keeps no receive times (use fhirbridge convert --format phd)"));
      return out;
    }
    phd::Replay replay = phd::ReplayTimedCapture(raw, mapper_.options().session);
    for (const Status& s : replay.problems)
      out.issues.push_back(DataIssue::Error("structure", "capture", s.message()));
    if (replay.reports.size() != 1 || !replay.problems.empty()) {
      out.issues.push_back(
          DataIssue::Error("structure", "capture",
                           "the capture replays to " + std::to_string(replay.reports.size()) +
                               " reports; a stored phd message holds exactly one"));
      return out;
    }
    mappers::Mapped mapped = mapper_.Map(replay.reports.front());
    for (DataIssue& i : mapped.issues) out.issues.push_back(std::move(i));
    if (!mapped.ok()) return out;
    out.result = MapOutput::Result::kMapped;
    out.facts = FactsOf(mapped.bundle, "PHD");
    out.bundle = std::move(mapped.bundle);
    out.lane = std::move(mapped.lane_key);
    out.patient = std::move(mapped.patient);
    out.resource_count = static_cast<std::int64_t>(mapped.resource_count);
    return out;
  }

 private:
  std::shared_ptr<const mappers::Terminology> terminology_;
  mappers::PhdMapper mapper_;
};

class SdcPipelineMapper final : public Mapper {
 public:
  SdcPipelineMapper(std::shared_ptr<const mappers::Terminology> terminology,
                    mappers::SdcOptions options)
      : terminology_(std::move(terminology)), mapper_(*terminology_, std::move(options)) {}
  MapOutput Map(std::string_view raw) const override { return mapper_.Map(raw); }

 private:
  std::shared_ptr<const mappers::Terminology> terminology_;
  mappers::SdcMapper mapper_;
};

class PhdTcpConnector final : public Connector {
 public:
  PhdTcpConnector(std::string name, phd::TcpServerOptions options)
      : name_(std::move(name)), options_(std::move(options)) {}

  const std::string& name() const override { return name_; }

  Status Start(Intake& intake) override {
    options_.capture_apdus = true;
    // Called before the session's RORS is written: the report is acknowledged only after commit.
    auto sink = [this, &intake](const phd::MeasurementReport& report,
                                const std::string& peer) -> Status {
      if (report.capture.empty()) {
        return Status::ResourceExhausted(
            "the connection's APDU context outgrew its bound; the report is not acknowledged");
      }
      Message m;
      m.source = name_;
      m.format = "phd";
      m.raw = report.capture;
      m.received_at_us = report.received_at_us;
      m.peer = peer;
      Result<IntakeReceipt> receipt = intake.Accept(std::move(m));
      return receipt.ok() ? Status::Ok() : receipt.status();
    };
    server_ = std::make_unique<phd::PhdTcpServer>(options_, std::move(sink));
    Status started = server_->Start();
    running_ = started.ok();
    return started;
  }
  void Stop() override {
    if (server_) server_->Stop();
    running_ = false;
  }
  std::uint16_t port() const override { return server_ ? server_->port() : 0; }
  bool Running() const override { return running_; }

 private:
  std::string name_;
  phd::TcpServerOptions options_;
  std::unique_ptr<phd::PhdTcpServer> server_;
  std::atomic<bool> running_{false};
};

}  // namespace

Result<std::shared_ptr<const Mapper>> DeviceMapperFor(
    const ConfigNode& source, const std::shared_ptr<const mappers::Terminology>& terminology) {
  Result<mappers::Pcd01Options> common = Pcd01OptionsFor(source);
  if (!common.ok()) return common.status();
  const std::string& format = source.GetString("format");
  if (format == "phd") {
    return std::shared_ptr<const Mapper>(
        std::make_shared<PhdPipelineMapper>(terminology, PhdOptionsFor(*common)));
  }
  if (format == "sdc") {
    mappers::SdcOptions options;
    options.source_name = common->source_name;
    options.status_for_valid = common->status_for_r;
    options.deliver_test_data = common->deliver_test_data;
    options.observation_identifier_system = common->observation_identifier_system;
    options.limits.max_bytes = common->limits.max_message_bytes;
    return std::shared_ptr<const Mapper>(
        std::make_shared<SdcPipelineMapper>(terminology, std::move(options)));
  }
  return Status::FailedPrecondition(source.path() + ".format: " + format +
                                    " is not an IEEE 11073 format");
}

Result<std::unique_ptr<Connector>> PhdTcpConnectorFor(const ConfigNode& source) {
  phd::TcpServerOptions options;
  const std::string& listen = source.GetString("listen");
  const std::size_t colon = listen.rfind(':');
  options.host = listen.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[')
    options.host = options.host.substr(1, options.host.size() - 2);
  options.port = static_cast<std::uint16_t>(std::stoi(listen.substr(colon + 1)));
  options.max_connections = static_cast<int>(source.GetInt("max_connections"));
  options.idle_timeout = std::chrono::seconds(source.GetInt("idle_timeout_s"));
  return std::unique_ptr<Connector>(
      std::make_unique<PhdTcpConnector>(source.GetString("name"), std::move(options)));
}

}  // namespace fhirbridge::app
