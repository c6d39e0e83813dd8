#include "engine/app/json_source_options.h"

#include <fstream>
#include <sstream>

#include "engine/app/mapping_options.h"

namespace fhirbridge::app {

namespace {

// A mapper that keeps the terminology it refers to alive.
class OwningJsonMapper final {
 public:
  OwningJsonMapper(std::shared_ptr<const mappers::Terminology> terms, mappers::json::Mapping m,
                   mappers::json::JsonOptions o)
      : terms_(std::move(terms)), mapper_(*terms_, std::move(m), std::move(o)) {}
  const mappers::json::JsonMapper& mapper() const { return mapper_; }

 private:
  std::shared_ptr<const mappers::Terminology> terms_;
  mappers::json::JsonMapper mapper_;
};

Result<std::string> ReadSecret(const std::string& key, const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(key + ": cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.size() < 16)
    return Status::InvalidArgument(key + ": " + path + " holds no token of at least 16 characters");
  return token;
}

std::pair<std::string, std::uint16_t> SplitHostPort(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, static_cast<std::uint16_t>(std::stoi(listen.substr(colon + 1)))};
}

}  // namespace

Result<http::HttpSourceOptions> HttpSourceOptionsFor(const ConfigNode& source) {
  http::HttpSourceOptions o;
  o.name = source.GetString("name");
  o.format = source.GetString("format");
  std::tie(o.host, o.port) = SplitHostPort(source.GetString("listen"));
  o.max_connections = static_cast<int>(source.GetInt("max_connections"));
  o.max_body_bytes = static_cast<std::size_t>(source.Object("limits").GetInt("max_message_bytes"));
  const ConfigNode& h = source.Object("http");
  o.path = h.GetString("path");
  o.max_depth = static_cast<std::size_t>(h.GetInt("max_depth"));
  o.timeout = std::chrono::seconds(h.GetInt("timeout_s"));
  o.retry_after_seconds = static_cast<int>(h.GetInt("retry_after_s"));
  if (h.Has("token_file")) {
    Result<std::string> token = ReadSecret(h.path() + ".token_file", h.GetString("token_file"));
    if (!token.ok()) return token.status();
    o.bearer_token = std::move(token).value();
  }
  if (source.Has("tls")) {
    const ConfigNode& tls = source.Object("tls");
    if (tls.Has("cert")) o.tls.cert_file = tls.GetString("cert");
    if (tls.Has("key")) o.tls.key_file = tls.GetString("key");
    if (tls.Has("client_ca")) o.tls.client_ca_file = tls.GetString("client_ca");
  }
  if (o.format == "json" && source.Has("mapping")) {
    Result<mappers::Terminology> terms = mappers::Terminology::LoadBuiltin();
    if (!terms.ok()) return terms.status();
    Result<mappers::json::Mapping> mapping =
        mappers::json::LoadMappingFile(source.GetString("mapping"), *terms);
    if (!mapping.ok()) return mapping.status().WithContext(source.path() + ".mapping");
    o.control_id_pointer = mapping->control_id.text;
  }
  return o;
}

Result<std::shared_ptr<const mappers::json::JsonMapper>> JsonMapperFor(
    const ConfigNode& source, std::shared_ptr<const mappers::Terminology> terminology) {
  Result<mappers::json::Mapping> mapping =
      mappers::json::LoadMappingFile(source.GetString("mapping"), *terminology);
  if (!mapping.ok()) return mapping.status().WithContext(source.path() + ".mapping");
  mappers::json::JsonOptions options;
  options.source_name = source.GetString("name");
  options.observation_identifier_system = source.GetString("observation_identifier_system");
  if (source.Has("assume_timezone")) {
    Result<std::shared_ptr<const TimeZone>> zone = LoadZone(source.GetString("assume_timezone"));
    if (!zone.ok()) return zone.status().WithContext(source.path() + ".assume_timezone");
    options.assume_timezone = *zone;
  }
  auto owner = std::make_shared<const OwningJsonMapper>(std::move(terminology),
                                                        std::move(mapping).value(), options);
  // Aliasing constructor: the mapper shares the owner's lifetime (and its terminology's).
  return std::shared_ptr<const mappers::json::JsonMapper>(owner, &owner->mapper());
}

int ConvertJson(const std::string& config_path, const std::string& source, const std::string& zone,
                std::string_view input, std::ostream& out, std::ostream& err) {
  Result<Config> config = LoadConfigFile(config_path, DefaultConfigSchema());
  if (!config.ok()) {
    err << "convert: " << config.status().message() << "\n";
    return 2;
  }
  const ConfigNode* chosen = nullptr;
  for (const ConfigNode& s : config->root().Array("sources"))
    if (s.GetString("name") == source) chosen = &s;
  if (chosen == nullptr || chosen->GetString("format") != "json") {
    err << "convert: source \"" << source << "\" of " << config_path
        << " is not a format json source\n";
    return 2;
  }
  Result<mappers::Terminology> terms = mappers::Terminology::LoadBuiltin();
  if (!terms.ok()) {
    err << "convert: terminology tables: " << terms.status().message() << "\n";
    return 2;
  }
  Result<mappers::json::Mapping> mapping =
      mappers::json::LoadMappingFile(chosen->GetString("mapping"), *terms);
  if (!mapping.ok()) {
    err << "convert: " << chosen->path() << ".mapping: " << mapping.status().message() << "\n";
    return 2;
  }
  mappers::json::JsonOptions options;
  options.source_name = source;
  options.observation_identifier_system = chosen->GetString("observation_identifier_system");
  const std::string zone_name =
      !zone.empty() ? zone
                    : (chosen->Has("assume_timezone") ? chosen->GetString("assume_timezone") : "");
  if (!zone_name.empty()) {
    Result<std::shared_ptr<const TimeZone>> loaded = LoadZone(zone_name);
    if (!loaded.ok()) {
      err << "convert: " << loaded.status().message() << "\n";
      return 2;
    }
    options.assume_timezone = *loaded;
  }
  const mappers::json::JsonMapper mapper(*terms, std::move(mapping).value(), options);
  const mappers::json::JsonMapped mapped = mapper.MapDocument(input);
  const std::string context =
      mapped.control_id.empty() ? "document" : "document " + mapped.control_id;
  if (mapped.output.result != MapOutput::Result::kMapped) {
    out << RenderOperationOutcome(mapped.output.issues, context) << '\n';
    out.flush();
    return 1;
  }
  out << mapped.output.bundle << '\n';
  for (const DataIssue& issue : mapped.output.issues) {
    err << "convert: " << context << ": " << SeverityCode(issue.severity) << " at "
        << (issue.location.empty() ? std::string("document") : issue.location) << ": " << issue.text
        << "\n";
  }
  out.flush();
  return 0;
}

}  // namespace fhirbridge::app
