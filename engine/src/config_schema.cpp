// The one table of every configuration key of fhirbridge, with the checks that the type alone
// cannot express. docs/configuration.md is generated from this file (ConfigSchema::Markdown);
// adding a key here documents it.

#include <set>

#include "fhirbridge/config.h"
#include "fhirbridge/timezone.h"

namespace fhirbridge {

namespace {

// ARCHITECTURE.md, Configuration: what `run` does without --config.
constexpr std::string_view kEmbeddedDefaultConfig = R"json({
  "store": {"path": "var/fhirbridge.db"},
  "admin": {"listen": "127.0.0.1:8080"},
  "sources": [
    {"name": "mllp", "type": "mllp", "listen": "127.0.0.1:2575", "format": "hl7v2"}
  ],
  "destinations": [
    {"name": "outbox", "type": "file", "path": "var/outbox"}
  ],
  "routes": [
    {"from": ["mllp"], "to": ["outbox"]}
  ]
}
)json";

bool IsOneOf(std::string_view value, std::initializer_list<std::string_view> options) {
  for (std::string_view option : options) {
    if (value == option) return true;
  }
  return false;
}

// Names end up in paths, log fields and audit rows: keep them to a safe token.
void CheckName(ConfigCheckContext& ctx) {
  const std::string& name = ctx.parent().GetString(ctx.key());
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  }
  if (!ok) {
    ctx.Problem(QuoteForMessage(name) +
                " is not a valid name: use 1 to 64 characters of a-z, 0-9, _ and -");
  }
}

// "" when `value` is host:port with port 0..65535 (IPv6 hosts in brackets), else the problem.
std::string ListenProblem(std::string_view value) {
  const std::string usage = "expected host:port, e.g. 127.0.0.1:2575 or [::1]:2575";
  const std::size_t colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return usage;
  const std::string_view host = value.substr(0, colon);
  const std::string_view port = value.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return usage;
    for (char c : host.substr(1, host.size() - 2)) {
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                      c == ':' || c == '.';
      if (!ok) return usage;
    }
  } else {
    for (char c : host) {
      if (c == ':') return "write an IPv6 address in brackets, e.g. [::1]:2575";
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-';
      if (!ok) return usage;
    }
  }
  if (port.empty() || port.size() > 5) return "the port must be a number 0..65535";
  long number = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return "the port must be a number 0..65535";
    number = number * 10 + (c - '0');
  }
  if (number > 65535) return "the port must be a number 0..65535";
  return "";
}

void CheckListen(ConfigCheckContext& ctx) {
  const std::string& value = ctx.parent().GetString(ctx.key());
  const std::string problem = ListenProblem(value);
  if (!problem.empty()) ctx.Problem(QuoteForMessage(value) + ": " + problem);
}

void CheckTimeZone(ConfigCheckContext& ctx) {
  const std::string& name = ctx.parent().GetString(ctx.key());
  auto zone = TimeZone::Load(name);
  if (zone.ok()) return;
  const Status status = zone.status();
  if (status.IsNotFound() || status.IsInvalidArgument()) {
    ctx.Problem("no time zone named " + QuoteForMessage(name));
  } else {
    ctx.Problem("cannot load time zone " + QuoteForMessage(name) + ": " + status.message());
  }
}

// RFC 3986 scheme ":" then something, no spaces: enough to catch a host name or a typo where a
// system URI (urn:oid:…, http://…) belongs.
bool LooksLikeUri(std::string_view value) {
  const std::size_t colon = value.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    const char c = value[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool ok =
        alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return false;
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) <= ' ') return false;
  }
  return true;
}

void CheckUri(ConfigCheckContext& ctx) {
  const std::string& value = ctx.parent().GetString(ctx.key());
  if (!LooksLikeUri(value)) {
    ctx.Problem(QuoteForMessage(value) +
                " is not a URI (e.g. urn:oid:1.2.3 or https://example.org/id)");
  }
}

void CheckUriValues(ConfigCheckContext& ctx) {
  for (const auto& [name, value] : ctx.parent().GetStringMap(ctx.key())) {
    if (!LooksLikeUri(value)) {
      ctx.ProblemAt(
          "[" + QuoteForMessage(name) + "]",
          QuoteForMessage(value) + " is not a URI (e.g. urn:oid:1.2.3 or https://example.org/id)");
    }
  }
}

void CheckHttpUrl(ConfigCheckContext& ctx) {
  const std::string& value = ctx.parent().GetString(ctx.key());
  const std::string_view v = value;
  const bool ok = (v.substr(0, 8) == "https://" && v.size() > 8) ||
                  (v.substr(0, 7) == "http://" && v.size() > 7);
  if (!ok || !LooksLikeUri(value)) {
    ctx.Problem(QuoteForMessage(value) + " is not an http:// or https:// URL");
  }
}

// routes[].from / routes[].to: every entry names a declared source / destination.
ConfigValidator CheckReferences(std::string array, std::string what) {
  return [array = std::move(array), what = std::move(what)](ConfigCheckContext& ctx) {
    std::vector<std::string> names;
    for (const ConfigNode& node : ctx.root().Array(array)) names.push_back(node.GetString("name"));
    const std::vector<std::string>& refs = ctx.parent().GetStringList(ctx.key());
    if (refs.empty()) ctx.Problem("names no " + what + "; give at least one");
    for (std::size_t i = 0; i < refs.size(); ++i) {
      bool found = false;
      for (const std::string& n : names) found = found || n == refs[i];
      if (!found) {
        ctx.ProblemAt(
            "[" + std::to_string(i) + "]",
            "no " + what + " named " + QuoteForMessage(refs[i]) + DidYouMean(refs[i], names));
      }
    }
  };
}

// Checks across the keys of each source, which no single key's type can express.
void CheckSources(ConfigCheckContext& ctx) {
  const std::vector<ConfigNode>& sources = ctx.parent().Array(ctx.key());
  std::map<std::string, std::string, std::less<>> listeners;  // address → who has it
  listeners.emplace(ctx.root().GetString("admin.listen"), "admin.listen");
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const ConfigNode& source = sources[i];
    const std::string at = "[" + std::to_string(i) + "]";
    // A type or format that failed its own check is already reported; don't pile on.
    if (!source.Has("type") || !source.Has("format")) continue;
    const std::string& type = source.GetString("type");
    const std::string& format = source.GetString("format");
    const bool network = IsOneOf(type, {"mllp", "http", "phd-tcp"});
    if (network && !source.Has("listen")) {
      ctx.ProblemAt(at + ".listen", "required when type is " + type);
    }
    if (!network && source.Has("listen")) {
      ctx.ProblemAt(at + ".listen", "not used by a source of type " + type);
    }
    if (type == "file" && !source.Has("path"))
      ctx.ProblemAt(at + ".path", "required when type is file");
    if (type != "file" && source.Has("path")) {
      ctx.ProblemAt(at + ".path", "only used by a source of type file");
    }
    if (type == "mllp" && IsOneOf(format, {"phd", "sdc", "json"})) {
      ctx.ProblemAt(at + ".format", "an mllp source carries HL7 v2; format must be hl7v2");
    }
    if (type == "phd-tcp" && IsOneOf(format, {"hl7v2", "sdc", "json"})) {
      ctx.ProblemAt(at + ".format",
                    "a phd-tcp source carries IEEE 11073-20601 APDUs; format must be phd");
    }
    if (network && source.Has("listen")) {
      const std::string& address = source.GetString("listen");
      const bool ephemeral = address.size() > 2 && address.substr(address.size() - 2) == ":0";
      auto [it, inserted] = listeners.emplace(address, source.path() + ".listen");
      if (!inserted && !ephemeral) {
        ctx.ProblemAt(at + ".listen",
                      QuoteForMessage(address) + " is already the address of " + it->second);
      }
    }
  }
}

void CheckTls(ConfigCheckContext& ctx) {
  const ConfigNode& tls = ctx.parent().Object(ctx.key());
  if (tls.Has("cert") && !tls.Has("key")) ctx.ProblemAt(".key", "required when tls.cert is given");
  if (tls.Has("key") && !tls.Has("cert")) ctx.ProblemAt(".cert", "required when tls.key is given");
  if (tls.Has("client_ca") && !tls.Has("cert")) {
    ctx.ProblemAt(".cert",
                  "required when tls.client_ca is given (mutual TLS needs a server "
                  "certificate)");
  }
}

void CheckDestinations(ConfigCheckContext& ctx) {
  const std::vector<ConfigNode>& destinations = ctx.parent().Array(ctx.key());
  for (std::size_t i = 0; i < destinations.size(); ++i) {
    const ConfigNode& destination = destinations[i];
    const std::string at = "[" + std::to_string(i) + "]";
    if (!destination.Has("type")) continue;
    const std::string& type = destination.GetString("type");
    if (type == "file" && !destination.Has("path")) {
      ctx.ProblemAt(at + ".path", "required when type is file");
    }
    if (type == "fhir" && !destination.Has("base_url")) {
      ctx.ProblemAt(at + ".base_url", "required when type is fhir");
    }
    if (type != "file" && destination.Has("path")) {
      ctx.ProblemAt(at + ".path", "only used by a destination of type file");
    }
    if (type != "fhir" && destination.Has("base_url")) {
      ctx.ProblemAt(at + ".base_url", "only used by a destination of type fhir");
    }
  }
}

void AddStoreAndAdmin(ConfigSchema& s) {
  s.Add(ConfigKey::Object("store",
                          "The durable store of raw messages, outboxes, dead letters "
                          "and the audit log."));
  s.Add(ConfigKey::String("store.path", "SQLite database file; its folder is created at start-up.")
            .Default("var/fhirbridge.db"));
  s.Add(ConfigKey::Enum("store.sync", {"full", "normal"},
                        "full: every commit is on disk (fsync) before a message is acknowledged; "
                        "normal: commits survive a crash of fhirbridge but not of the machine "
                        "(SQLite synchronous=NORMAL). Keep full in production.")
            .Default("full"));
  s.Add(ConfigKey::Object("admin", "The admin HTTP API (health, metrics, dead letters)."));
  s.Add(ConfigKey::String("admin.listen",
                          "host:port the admin API binds to; keep it on loopback unless "
                          "a client certificate or token protects it.")
            .Default("127.0.0.1:8080")
            .Check(CheckListen));
  s.Add(ConfigKey::SecretPath("admin.token_file",
                              "File holding the bearer token that admin API requests must "
                              "present (a path, never the token itself)."));
}

void AddSources(ConfigSchema& s) {
  s.Add(ConfigKey::ObjectArray("sources",
                               "Where device data comes in: one element per listener "
                               "or watched folder.")
            .Check(CheckSources));
  s.Add(ConfigKey::String("sources[].name",
                          "Name used in routes, logs and audit records "
                          "(a-z, 0-9, _ and -).")
            .Required()
            .UniqueInArray()
            .Check(CheckName));
  s.Add(ConfigKey::Enum("sources[].type", {"mllp", "file", "http", "phd-tcp"},
                        "Transport: MLLP over TCP, a watched folder, HTTP POST, or IEEE "
                        "11073-20601 over TCP.")
            .Default("mllp"));
  s.Add(ConfigKey::String("sources[].listen",
                          "host:port to listen on; required for mllp, http "
                          "and phd-tcp sources.")
            .Check(CheckListen));
  s.Add(ConfigKey::String("sources[].path",
                          "Folder watched for dropped files; required for file sources."));
  s.Add(ConfigKey::Enum("sources[].format", {"hl7v2", "phd", "sdc", "json"},
                        "Wire format of the messages this source receives.")
            .Default("hl7v2"));
  s.Add(ConfigKey::String("sources[].assume_timezone",
                          "IANA time zone (e.g. Europe/Berlin) for times the sender gives "
                          "without an offset; without it such a message goes to dead-letter.")
            .Check(CheckTimeZone));
  s.Add(ConfigKey::Object("sources[].tls", "TLS for this listener; leave out for plain TCP.")
            .Check(CheckTls));
  s.Add(ConfigKey::SecretPath("sources[].tls.cert", "PEM file with the server certificate chain."));
  s.Add(ConfigKey::SecretPath("sources[].tls.key", "PEM file with the server's private key."));
  s.Add(ConfigKey::SecretPath("sources[].tls.client_ca",
                              "PEM file of CAs that client certificates must chain to; "
                              "setting it turns on mutual TLS."));
  s.Add(ConfigKey::StringMap("sources[].identifier_systems",
                             "Assigning-authority name as sent in PID-3 (CX-4 HD-1) → identifier "
                             "system URI; the key \"\" is for PID-3 with no assigning authority.")
            .DefaultJson("{}")
            .Check(CheckUriValues));
  s.Add(ConfigKey::Enum("sources[].unknown_assigning_authority", {"scope-to-sender", "hold"},
                        "For a patient identifier whose authority is neither an ISO OID nor in "
                        "identifier_systems: scope-to-sender gives it a system under the "
                        "sender (with a warning); hold keeps the message as awaiting patient.")
            .Default("scope-to-sender"));
  s.Add(ConfigKey::StringMap("sources[].code_systems",
                             "HL7 coding-system name (e.g. 99MNDRY, MDIL) → FHIR system URI for "
                             "codes that are kept as sent.")
            .DefaultJson("{}")
            .Check(CheckUriValues));
  s.Add(ConfigKey::Enum("sources[].status_for_R", {"preliminary", "final"},
                        "Observation.status for OBX-11 R (results not yet verified).")
            .Default("preliminary"));
  s.Add(ConfigKey::Boolean("sources[].deliver_test_data",
                           "Deliver observations flagged DEMO/TEST in OBX-8 instead of "
                           "dropping them with a data issue.")
            .DefaultBool(false));
  s.Add(ConfigKey::String("sources[].observation_identifier_system",
                          "System URI of the deterministic Observation.identifier used for "
                          "conditional create.")
            .Default("urn:fhirbridge:observation")
            .Check(CheckUri));
  s.Add(ConfigKey::Enum("sources[].validation", {"enforce", "warn"},
                        "What a resource that fails FHIR R4 or its profiles does: enforce sends "
                        "the message to dead-letter with the OperationOutcome; warn delivers it "
                        "and keeps the issues with it.")
            .Default("enforce"));
  s.Add(ConfigKey::Object("sources[].limits",
                          "Limits on one incoming message; a message over "
                          "a limit is refused (AR)."));
  s.Add(ConfigKey::Integer("sources[].limits.max_message_bytes", 1024, 268435456,
                           "Largest message (frame) in bytes.")
            .DefaultInt(4194304));
  s.Add(ConfigKey::Integer("sources[].limits.max_segments", 1, 1000000,
                           "Most segments in one message.")
            .DefaultInt(10000));
  s.Add(ConfigKey::Integer("sources[].limits.max_fields_per_segment", 1, 100000,
                           "Most fields in one segment.")
            .DefaultInt(500));
  s.Add(ConfigKey::Integer("sources[].limits.max_repetitions", 1, 100000,
                           "Most repetitions of one field.")
            .DefaultInt(1000));
  s.Add(ConfigKey::Integer("sources[].max_connections", 1, 65536,
                           "Most simultaneous connections to a network source; more wait.")
            .DefaultInt(256));
  s.Add(ConfigKey::Integer("sources[].idle_timeout_s", 1, 86400,
                           "Seconds without data after which a connection is closed.")
            .DefaultInt(300));
}

void AddDestinationsAndRoutes(ConfigSchema& s) {
  s.Add(ConfigKey::ObjectArray("destinations", "Where FHIR Bundles are delivered.")
            .Check(CheckDestinations));
  s.Add(ConfigKey::String("destinations[].name",
                          "Name used in routes, logs and audit records "
                          "(a-z, 0-9, _ and -).")
            .Required()
            .UniqueInArray()
            .Check(CheckName));
  s.Add(ConfigKey::Enum("destinations[].type", {"file", "fhir"},
                        "file writes NDJSON Bundles to a folder; fhir posts them to a FHIR "
                        "server.")
            .Default("file"));
  s.Add(ConfigKey::String("destinations[].path",
                          "Folder the NDJSON files are written to; required for file "
                          "destinations."));
  s.Add(ConfigKey::String("destinations[].base_url",
                          "Base URL of the FHIR server; required for fhir destinations.")
            .Check(CheckHttpUrl));
  s.Add(ConfigKey::Enum("destinations[].mode", {"transaction", "batch", "single"},
                        "How a fhir destination sends a message's resources: one transaction "
                        "Bundle, one batch Bundle, or one request per resource.")
            .Default("transaction"));
  s.Add(ConfigKey::ObjectArray("routes",
                               "Which sources feed which destinations: a message goes "
                               "to every destination of every route naming its "
                               "source."));
  s.Add(ConfigKey::StringList("routes[].from",
                              "Names of the sources this route takes messages "
                              "from.")
            .Required()
            .Check(CheckReferences("sources", "source")));
  s.Add(ConfigKey::StringList("routes[].to", "Names of the destinations this route delivers to.")
            .Required()
            .Check(CheckReferences("destinations", "destination")));
}

ConfigSchema BuildSchema() {
  std::string intro =
      "fhirbridge reads one JSON file: `fhirbridge run --config FILE`; `fhirbridge check-config "
      "FILE` lists every problem in one without starting anything. This page is generated from "
      "the declaration of every key in `engine/src/config_schema.cpp` (`fhirbridge config-docs > "
      "docs/configuration.md`); do not edit it by hand.\n\n"
      "Key paths are dotted; `sources[]` stands for each element of the `sources` array. A key "
      "that is left out or set to `null` takes its default (— means none). Unknown keys are "
      "errors, so a misspelt key never goes unnoticed. Secrets (TLS private keys, tokens) are "
      "never written into this file: a *secret file path* names a file that holds the secret.\n\n"
      "Without `--config`, `run` uses this configuration:\n\n```json\n";
  intro += kEmbeddedDefaultConfig;
  intro += "```";
  ConfigSchema schema(std::move(intro));
  AddStoreAndAdmin(schema);
  AddSources(schema);
  AddDestinationsAndRoutes(schema);
  return schema;
}

}  // namespace

const ConfigSchema& DefaultConfigSchema() {
  static const ConfigSchema schema = BuildSchema();
  return schema;
}

std::string_view EmbeddedDefaultConfig() { return kEmbeddedDefaultConfig; }

}  // namespace fhirbridge
