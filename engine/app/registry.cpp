#include "engine/app/registry.h"

#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/mllp/hl7v2_handler.h"
#include "connectors/mllp/server.h"
#include "engine/app/device_sources.h"
#include "engine/app/json_source_options.h"
#include "engine/app/mapping_options.h"
#include "engine/app/validating_mapper.h"
#include "engine/auth/auth_provider.h"
#include "engine/delivery/fhir_sink.h"
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
    out.patient = std::move(mapped.patient);
    out.resource_count = static_cast<std::int64_t>(mapped.resource_count);
    out.issues = std::move(mapped.issues);
    out.facts = std::move(mapped.facts);
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

// The source's mapper, and the same mapping without validation (SourceRoute::unvalidated).
struct SourceMappers {
  std::shared_ptr<const Mapper> validating;
  std::shared_ptr<const Mapper> plain;
};

Result<std::shared_ptr<const Mapper>> PlainMapperFor(
    const ConfigNode& source, const std::shared_ptr<const mappers::Terminology>& terminology) {
  const std::string& format = source.GetString("format");
  if (format == "hl7v2") {
    Result<mappers::Pcd01Options> options = Pcd01OptionsFor(source);
    if (!options.ok()) return options.status();
    options->route_facts = true;
    return std::shared_ptr<const Mapper>(
        std::make_shared<Pcd01PipelineMapper>(terminology, std::move(options).value()));
  }
  if (format == "json") {
    Result<std::shared_ptr<const mappers::json::JsonMapper>> json =
        JsonMapperFor(source, terminology);
    if (!json.ok()) return json.status();
    return std::shared_ptr<const Mapper>(std::move(json).value());
  }
  if (format == "phd" || format == "sdc") return DeviceMapperFor(source, terminology);
  return Status::FailedPrecondition(source.path() + ".format: " + format +
                                    " sources are not available in this build yet");
}

Result<SourceMappers> MapperFor(const ConfigNode& source,
                                const std::shared_ptr<const mappers::Terminology>& terminology,
                                const std::shared_ptr<const validator::Validator>& validator) {
  Result<std::shared_ptr<const Mapper>> plain = PlainMapperFor(source, terminology);
  if (!plain.ok()) return plain.status();
  const ValidationPolicy policy = source.GetString("validation") == "warn"
                                      ? ValidationPolicy::kWarn
                                      : ValidationPolicy::kEnforce;
  SourceMappers mappers;
  mappers.plain = std::move(plain).value();
  mappers.validating = std::make_shared<ValidatingMapper>(mappers.plain, validator, policy);
  return mappers;
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
  if (type == "phd-tcp") return PhdTcpConnectorFor(source);
  const std::string& name = source.GetString("name");
  if (type == "http") {
    Result<http::HttpSourceOptions> options = HttpSourceOptionsFor(source);
    if (!options.ok()) return options.status();
    return std::unique_ptr<Connector>(
        std::make_unique<http::HttpSource>(std::move(options).value()));
  }
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

Result<std::shared_ptr<auth::AuthProvider>> AuthFor(const ConfigNode& destination,
                                                    const http::HttpClientOptions& http) {
  if (!destination.Has("auth")) return std::shared_ptr<auth::AuthProvider>();
  const ConfigNode& a = destination.Object("auth");
  const std::string& type = a.GetString("type");
  if (type == "bearer") {
    Result<std::unique_ptr<auth::AuthProvider>> p =
        auth::MakeBearerFileAuth(a.GetString("token_file"));
    if (!p.ok()) return p.status();
    return std::shared_ptr<auth::AuthProvider>(std::move(p).value());
  }
  if (type == "basic") {
    Result<std::unique_ptr<auth::AuthProvider>> p =
        auth::MakeBasicAuth(a.GetString("username"), a.GetString("password_file"));
    if (!p.ok()) return p.status();
    return std::shared_ptr<auth::AuthProvider>(std::move(p).value());
  }
  auth::SmartBackendOptions smart;
  smart.base_url = destination.GetString("base_url");
  if (a.Has("token_url")) smart.token_url = a.GetString("token_url");
  smart.client_id = a.GetString("client_id");
  smart.private_key_file = a.GetString("private_key_file");
  smart.alg = a.GetString("alg");
  smart.kid = a.GetString("kid");
  smart.scope = a.GetString("scope");
  smart.http = http;
  smart.http.max_connections = 1;
  Result<std::unique_ptr<auth::SmartBackendAuth>> p = auth::SmartBackendAuth::Create(smart);
  if (!p.ok()) return p.status();
  return std::shared_ptr<auth::AuthProvider>(std::move(p).value());
}

Result<std::unique_ptr<delivery::FhirSink>> FhirSinkFor(const ConfigNode& destination) {
  delivery::FhirSinkOptions options;
  options.destination = destination.GetString("name");
  options.row.base_url = destination.GetString("base_url");
  const std::string& mode = destination.GetString("mode");
  options.row.mode = mode == "batch"    ? delivery::DeliveryMode::kBatch
                     : mode == "single" ? delivery::DeliveryMode::kSingle
                                        : delivery::DeliveryMode::kTransaction;
  if (destination.Has("prefer")) options.row.prefer = destination.GetString("prefer");
  options.http.total_timeout = std::chrono::milliseconds(destination.GetInt("timeout_ms"));
  options.http.connect_timeout =
      std::chrono::milliseconds(destination.GetInt("connect_timeout_ms"));
  options.http.max_connections = static_cast<std::size_t>(destination.GetInt("max_connections"));
  options.gather = std::chrono::milliseconds(destination.GetInt("gather_ms"));
  if (destination.Has("proxy")) options.http.proxy = destination.GetString("proxy");
  if (destination.Has("tls")) {
    const ConfigNode& tls = destination.Object("tls");
    if (tls.Has("ca_file")) options.http.ca_file = tls.GetString("ca_file");
    if (tls.Has("cert")) options.http.cert_file = tls.GetString("cert");
    if (tls.Has("key")) options.http.key_file = tls.GetString("key");
  }
  Result<std::shared_ptr<auth::AuthProvider>> auth = AuthFor(destination, options.http);
  if (!auth.ok()) return auth.status();
  options.auth = std::move(auth).value();
  return delivery::FhirSink::Create(std::move(options));
}

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
  if (type == "fhir") {
    Result<std::unique_ptr<delivery::FhirSink>> sink = FhirSinkFor(destination);
    if (!sink.ok()) return sink.status().WithContext(destination.path());
    return std::unique_ptr<Sink>(std::move(sink).value());
  }
  return Status::FailedPrecondition(destination.path() + ".type: " + type +
                                    " destinations are not available in this build yet");
}

service::DispatcherOptions DispatchOptionsFor(const ConfigNode& destination) {
  service::DispatcherOptions options;
  const ConfigNode& retry = destination.Object("retry");
  options.retry.initial_us = retry.GetInt("initial_ms") * 1000;
  options.retry.max_us = std::max(retry.GetInt("max_ms"), retry.GetInt("initial_ms")) * 1000;
  const ConfigNode& circuit = destination.Object("circuit");
  options.breaker.failures = static_cast<int>(circuit.GetInt("failures"));
  options.breaker.probe_interval_us = circuit.GetInt("probe_interval_s") * 1'000'000;
  options.alert_queue_age_us = destination.GetInt("alert_queue_age_s") * 1'000'000;
  return options;
}

service::RouteCondition RouteConditionOf(const ConfigNode& route) {
  service::RouteCondition when;
  if (!route.Has("when")) return when;
  const ConfigNode& w = route.Object("when");
  when.message_types = w.GetStringList("message_types");
  when.codes = w.GetStringList("codes");
  when.locations = w.GetStringList("locations");
  when.devices = w.GetStringList("devices");
  return when;
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

// The audit chain's signing key and checkpoints, retention and payload encryption.
Status AuditStoreOptions(const ConfigNode& root, store::SqliteStoreOptions& options) {
  const ConfigNode& audit = root.Object("audit");
  if (audit.Has("signing_key_file")) {
    Result<std::unique_ptr<store::AuditKey>> key = store::AuditKey::FromFile(
        audit.GetString("signing_alg"), audit.GetString("signing_key_file"));
    if (!key.ok()) return key.status().WithContext("audit.signing_key_file");
    if (!(*key)->can_sign()) {
      return Status::InvalidArgument("audit.signing_key_file: a public key cannot sign");
    }
    options.audit_key = std::move(key).value();
  }
  options.audit_checkpoint_every = audit.GetInt("checkpoint_every");
  options.audit_checkpoint_interval = std::chrono::seconds(audit.GetInt("checkpoint_interval_s"));
  const ConfigNode& store = root.Object("store");
  options.retention_days = store.GetInt("retention_days");
  if (store.Has("encryption_key_file")) {
    Result<std::unique_ptr<store::PayloadCipher>> cipher =
        store::PayloadCipher::FromFile(store.GetString("encryption_key_file"));
    if (!cipher.ok()) return cipher.status().WithContext("store.encryption_key_file");
    options.cipher = std::move(cipher).value();
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<store::SqliteStore>> OpenConfiguredStore(const Config& config) {
  const ConfigNode& root = config.root();
  const std::string store_path = root.Object("store").GetString("path");
  const std::filesystem::path folder = std::filesystem::path(store_path).parent_path();
  std::error_code ec;
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  if (ec) {
    return Status::Unavailable("store.path: cannot create " + folder.string() + ": " +
                               ec.message());
  }
  store::SqliteStoreOptions store_options;
  store_options.path = store_path;
  store_options.full_sync = root.Object("store").GetString("sync") == "full";
  store_options.wal_size_bytes = root.Object("store").GetInt("wal_size_mb") << 20;
  FHIRBRIDGE_RETURN_IF_ERROR(AuditStoreOptions(root, store_options));
  Result<std::unique_ptr<store::SqliteStore>> store = store::SqliteStore::Open(store_options);
  if (!store.ok()) return store.status().WithContext("store.path " + store_path);
  return store;
}

Result<std::unique_ptr<store::SqliteStore>> OpenStoreOfConfigFile(const std::string& path) {
  Result<Config> config = LoadConfigFile(path, DefaultConfigSchema());
  if (!config.ok()) return config.status();
  return OpenConfiguredStore(*config);
}

std::string CliActor() {
  const passwd* user = getpwuid(geteuid());
  return "cli:" + std::string(user != nullptr && user->pw_name != nullptr
                                  ? user->pw_name
                                  : "uid-" + std::to_string(geteuid()));
}

Result<std::unique_ptr<service::Service>> BuildService(const Config& config) {
  const ConfigNode& root = config.root();
  service::ServiceParts parts;

  Result<std::unique_ptr<store::SqliteStore>> store = OpenConfiguredStore(config);
  if (!store.ok()) return store.status();
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
    parts.dispatch_for[destination.GetString("name")] = DispatchOptionsFor(destination);
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
    Result<SourceMappers> mappers = MapperFor(source, shared_terminology, validator);
    if (!mappers.ok()) return mappers.status();
    service::SourceRoute& route = parts.routes[name];
    route.mapper = std::move(mappers->validating);
    route.unvalidated = std::move(mappers->plain);
    for (const ConfigNode& r : root.Array("routes")) {
      const std::vector<std::string>& from = r.GetStringList("from");
      if (std::find(from.begin(), from.end(), name) == from.end()) continue;
      const service::RouteCondition when = RouteConditionOf(r);
      for (const std::string& to : r.GetStringList("to")) route.targets.push_back({to, when});
    }
  }
  parts.store = std::move(store).value();
  return std::make_unique<service::Service>(std::move(parts));
}

}  // namespace fhirbridge::app
