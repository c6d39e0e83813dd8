#include "engine/app/registry.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/mllp/hl7v2_handler.h"
#include "connectors/mllp/server.h"
#include "engine/app/mapping_options.h"
#include "engine/app/validating_mapper.h"
#include "engine/service/file_sink.h"
#include "engine/store/sqlite_store.h"
#include "mappers/pcd01_mapper.h"
#include "mappers/terminology.h"

namespace fhirbridge::app {

namespace {

// ---- mappers: format → Mapper ----

class Pcd01PipelineMapper final : public Mapper {
 public:
  Pcd01PipelineMapper(std::shared_ptr<const mappers::Terminology> terminology,
                      mappers::Pcd01Options options)
      : terminology_(std::move(terminology)), mapper_(*terminology_, std::move(options)) {}

  MapOutput Map(std::string_view raw) const override {
    mappers::Mapped mapped = mapper_.Map(raw);
    MapOutput out;
    out.lane = std::move(mapped.lane_key);
    out.resource_count = static_cast<std::int64_t>(mapped.resource_count);
    out.issues = std::move(mapped.issues);
    if (mapped.awaiting_patient) {
      out.result = MapOutput::Result::kHeld;
    } else if (mapped.ok()) {
      out.result = MapOutput::Result::kMapped;
      out.bundle = std::move(mapped.bundle);
    } else {
      out.result = MapOutput::Result::kFailed;
    }
    return out;
  }

 private:
  std::shared_ptr<const mappers::Terminology> terminology_;
  mappers::Pcd01Mapper mapper_;
};

Result<std::shared_ptr<const Mapper>> MapperFor(
    const ConfigNode& source, const std::shared_ptr<const mappers::Terminology>& terminology,
    const std::shared_ptr<const validator::Validator>& validator) {
  const std::string& format = source.GetString("format");
  if (format == "hl7v2") {
    Result<mappers::Pcd01Options> options = Pcd01OptionsFor(source);
    if (!options.ok()) return options.status();
    auto pcd01 = std::make_shared<Pcd01PipelineMapper>(terminology, std::move(options).value());
    const ValidationPolicy policy = source.GetString("validation") == "warn"
                                        ? ValidationPolicy::kWarn
                                        : ValidationPolicy::kEnforce;
    return std::shared_ptr<const Mapper>(
        std::make_shared<ValidatingMapper>(std::move(pcd01), validator, policy));
  }
  return Status::FailedPrecondition(source.path() + ".format: " + format +
                                    " sources are not available in this build yet");
}

// ---- connectors: source type → Connector ----

class MllpConnector final : public Connector {
 public:
  MllpConnector(std::string name, mllp::MllpServerOptions server_options,
                mllp::Hl7v2MllpHandlerOptions handler_options)
      : name_(std::move(name)),
        server_options_(std::move(server_options)),
        handler_options_(std::move(handler_options)) {}

  const std::string& name() const override { return name_; }

  Status Start(Intake& intake) override {
    handler_ = std::make_unique<mllp::Hl7v2MllpHandler>(handler_options_, intake);
    server_ = std::make_unique<mllp::MllpServer>(server_options_, *handler_);
    return server_->Start();
  }

  void Stop() override {
    if (server_) server_->Stop();
  }
  std::uint16_t port() const override { return server_ ? server_->port() : 0; }
  bool Running() const override { return server_ && server_->running(); }

 private:
  std::string name_;
  mllp::MllpServerOptions server_options_;
  mllp::Hl7v2MllpHandlerOptions handler_options_;
  std::unique_ptr<mllp::Hl7v2MllpHandler> handler_;
  std::unique_ptr<mllp::MllpServer> server_;
};

// "host:port" as checked by the configuration schema; IPv6 hosts come in brackets.
std::pair<std::string, std::uint16_t> SplitListen(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, static_cast<std::uint16_t>(std::stoi(listen.substr(colon + 1)))};
}

Result<std::unique_ptr<Connector>> ConnectorFor(const ConfigNode& source) {
  const std::string& type = source.GetString("type");
  const std::string& name = source.GetString("name");
  if (type != "mllp") {
    return Status::FailedPrecondition(source.path() + ".type: " + type +
                                      " sources are not available in this build yet");
  }
  mllp::MllpServerOptions server;
  std::tie(server.host, server.port) = SplitListen(source.GetString("listen"));
  server.max_connections = static_cast<int>(source.GetInt("max_connections"));
  server.idle_timeout = std::chrono::seconds(source.GetInt("idle_timeout_s"));
  const ConfigNode& limits = source.Object("limits");
  server.limits.max_frame_bytes = static_cast<std::size_t>(limits.GetInt("max_message_bytes"));
  if (source.Has("tls")) {
    const ConfigNode& tls = source.Object("tls");
    if (tls.Has("cert")) server.tls.cert_file = tls.GetString("cert");
    if (tls.Has("key")) server.tls.key_file = tls.GetString("key");
    if (tls.Has("client_ca")) server.tls.client_ca_file = tls.GetString("client_ca");
  }
  mllp::Hl7v2MllpHandlerOptions handler;
  handler.source = name;
  Result<mappers::Pcd01Options> mapping = Pcd01OptionsFor(source);
  if (!mapping.ok()) return mapping.status();
  handler.limits = mapping->limits;
  return std::unique_ptr<Connector>(
      std::make_unique<MllpConnector>(name, std::move(server), std::move(handler)));
}

// ---- sinks: destination type → Sink ----

Result<std::unique_ptr<Sink>> SinkFor(const ConfigNode& destination, MessageStore& store) {
  const std::string& type = destination.GetString("type");
  const std::string& name = destination.GetString("name");
  if (type == "file") {
    Result<std::string> committed = store.SinkState(name, service::FileSink::kCheckpointKey);
    if (!committed.ok()) return committed.status();
    Result<std::unique_ptr<service::FileSink>> sink =
        service::FileSink::Open(destination.GetString("path"), name, *committed);
    if (!sink.ok()) return sink.status().WithContext(destination.path());
    return std::unique_ptr<Sink>(std::move(sink).value());
  }
  return Status::FailedPrecondition(destination.path() + ".type: " + type +
                                    " destinations are not available in this build yet");
}

Result<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("admin.token_file: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.size() < 16) {
    return Status::InvalidArgument("admin.token_file: " + path +
                                   " holds no token of at least 16 characters");
  }
  return token;
}

}  // namespace

Result<std::unique_ptr<service::Service>> BuildService(const Config& config) {
  const ConfigNode& root = config.root();
  service::ServiceParts parts;

  const std::string store_path = root.Object("store").GetString("path");
  const std::filesystem::path folder = std::filesystem::path(store_path).parent_path();
  std::error_code ec;
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  if (ec)
    return Status::Unavailable("store.path: cannot create " + folder.string() + ": " +
                               ec.message());
  store::SqliteStoreOptions store_options;
  store_options.path = store_path;
  store_options.full_sync = root.Object("store").GetString("sync") == "full";
  Result<std::unique_ptr<store::SqliteStore>> store = store::SqliteStore::Open(store_options);
  if (!store.ok()) return store.status().WithContext("store.path " + store_path);
  store::SqliteStore* raw_store = store->get();
  parts.close_store = [raw_store] { raw_store->Close(); };

  const ConfigNode& admin = root.Object("admin");
  std::tie(parts.admin.host, parts.admin.port) = SplitListen(admin.GetString("listen"));
  if (admin.Has("token_file")) {
    Result<std::string> token = ReadToken(admin.GetString("token_file"));
    if (!token.ok()) return token.status();
    parts.admin.token = std::move(token).value();
  }

  for (const ConfigNode& destination : root.Array("destinations")) {
    Result<std::unique_ptr<Sink>> sink = SinkFor(destination, **store);
    if (!sink.ok()) return sink.status();
    parts.sinks.emplace(destination.GetString("name"), std::move(sink).value());
  }

  Result<mappers::Terminology> terminology = mappers::Terminology::LoadBuiltin();
  if (!terminology.ok()) return terminology.status().WithContext("terminology tables");
  auto shared_terminology =
      std::make_shared<const mappers::Terminology>(std::move(terminology).value());
  // One validator for every source: R4 and the profiles compiled once, shared by the workers.
  Result<std::unique_ptr<validator::Definitions>> definitions = validator::Definitions::Embedded();
  if (!definitions.ok()) return definitions.status().WithContext("FHIR definitions");
  Result<std::unique_ptr<validator::Validator>> created =
      validator::Validator::Create(std::move(definitions).value());
  if (!created.ok()) return created.status().WithContext("FHIR validator");
  std::shared_ptr<const validator::Validator> validator = std::move(created).value();
  for (const ConfigNode& source : root.Array("sources")) {
    const std::string& name = source.GetString("name");
    Result<std::unique_ptr<Connector>> connector = ConnectorFor(source);
    if (!connector.ok()) return connector.status();
    parts.connectors.push_back(std::move(connector).value());
    Result<std::shared_ptr<const Mapper>> mapper = MapperFor(source, shared_terminology, validator);
    if (!mapper.ok()) return mapper.status();
    service::SourceRoute& route = parts.routes[name];
    route.mapper = std::move(mapper).value();
    for (const ConfigNode& r : root.Array("routes")) {
      const std::vector<std::string>& from = r.GetStringList("from");
      if (std::find(from.begin(), from.end(), name) == from.end()) continue;
      for (const std::string& to : r.GetStringList("to")) {
        if (std::find(route.destinations.begin(), route.destinations.end(), to) ==
            route.destinations.end()) {
          route.destinations.push_back(to);
        }
      }
    }
  }
  parts.store = std::move(store).value();
  return std::make_unique<service::Service>(std::move(parts));
}

}  // namespace fhirbridge::app
