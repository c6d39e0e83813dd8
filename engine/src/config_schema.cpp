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
    if (type == "http" && !IsOneOf(format, {"json", "sdc"})) {
      ctx.ProblemAt(at + ".format",
                    "an http source takes JSON or SDC XML; format must be json or sdc");
    }
    if (format == "json" && !source.Has("mapping"))
      ctx.ProblemAt(at + ".mapping", "required when format is json (the mapping file)");
    if (format != "json" && source.Has("mapping"))
      ctx.ProblemAt(at + ".mapping", "only used when format is json");
    if (type != "http" && source.Has("http"))
      ctx.ProblemAt(at + ".http", "only used by a source of type http");
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

// http://host… where host is 127.0.0.0/8, localhost or [::1]: plain HTTP that never leaves the
// machine (ARCHITECTURE.md, Security: TLS on every client that leaves the host).
bool IsLoopbackHttp(std::string_view url) {
  if (url.substr(0, 7) != "http://") return false;
  std::string_view host = url.substr(7);
  host = host.substr(0, host.find_first_of("/?#"));
  if (host.substr(0, 5) == "[::1]") return host.size() == 5 || host[5] == ':';
  host = host.substr(0, host.find(':'));
  if (host == "localhost") return true;
  // 127.0.0.0/8 as a dotted address: "127.0.0.1.example.org" is a DNS name, not loopback.
  int dots = 0;
  for (char c : host) {
    if (c == '.') ++dots;
    if (c != '.' && (c < '0' || c > '9')) return false;
  }
  return dots == 3 && host.substr(0, 4) == "127.";
}

void CheckProxyUrl(ConfigCheckContext& ctx) {
  const std::string& value = ctx.parent().GetString(ctx.key());
  bool ok = false;
  for (std::string_view scheme : {"http://", "https://", "socks5://", "socks5h://"}) {
    ok = ok || (value.rfind(scheme, 0) == 0 && value.size() > scheme.size());
  }
  if (!ok || !LooksLikeUri(value)) {
    ctx.Problem(QuoteForMessage(value) + " is not a proxy URL (http://host:port, socks5://…)");
  }
}

void CheckFhirAuth(ConfigCheckContext& ctx, const ConfigNode& auth, const std::string& at) {
  if (!auth.Has("type")) {
    ctx.ProblemAt(at + ".type", "required when auth is given");
    return;
  }
  const std::string& type = auth.GetString("type");
  struct Use {
    const char* key;
    const char* type;
    bool required;
  };
  static constexpr Use kUses[] = {
      {"token_url", "smart-backend", false},
      {"client_id", "smart-backend", true},
      {"private_key_file", "smart-backend", true},
      {"kid", "smart-backend", true},
      {"token_file", "bearer", true},
      {"username", "basic", true},
      {"password_file", "basic", true},
  };
  for (const Use& use : kUses) {
    if (type == use.type && use.required && !auth.Has(use.key)) {
      ctx.ProblemAt(at + "." + use.key, "required when auth.type is " + type);
    }
    if (type != use.type && auth.Has(use.key)) {
      ctx.ProblemAt(at + "." + use.key, std::string("only used when auth.type is ") + use.type);
    }
  }
  if (type == "smart-backend" && auth.Has("token_url")) {
    const std::string& url = auth.GetString("token_url");
    if (url.rfind("https://", 0) != 0 && !IsLoopbackHttp(url)) {
      ctx.ProblemAt(at + ".token_url", "must be https:// (http:// only for a loopback host)");
    }
  }
}

// Checks across the keys of one fhir destination.
void CheckFhirDestination(ConfigCheckContext& ctx, const ConfigNode& destination,
                          const std::string& at) {
  const bool https =
      destination.Has("base_url") && destination.GetString("base_url").rfind("https://", 0) == 0;
  if (destination.Has("base_url") && !https && !IsLoopbackHttp(destination.GetString("base_url"))) {
    ctx.ProblemAt(at + ".base_url",
                  "must be https:// (http:// only for a loopback host such as 127.0.0.1)");
  }
  if (destination.Has("tls")) {
    const ConfigNode& tls = destination.Object("tls");
    if (tls.Has("cert") != tls.Has("key")) {
      ctx.ProblemAt(at + (tls.Has("cert") ? ".tls.key" : ".tls.cert"),
                    "tls.cert and tls.key go together");
    }
    if (!https) ctx.ProblemAt(at + ".tls", "only used with an https:// base_url");
  }
  if (destination.GetInt("connect_timeout_ms") > destination.GetInt("timeout_ms")) {
    ctx.ProblemAt(at + ".connect_timeout_ms", "must not be longer than timeout_ms");
  }
  if (destination.Has("auth")) CheckFhirAuth(ctx, destination.Object("auth"), at + ".auth");
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
    if (type == "fhir") CheckFhirDestination(ctx, destination, at);
    if (type != "fhir") {
      for (const char* key : {"proxy", "prefer", "tls", "auth"}) {
        if (destination.Has(key)) {
          ctx.ProblemAt(at + "." + key, "only used by a destination of type fhir");
        }
      }
    }
  }
}

void AddStoreAndAdmin(ConfigSchema& s) {
  s.Add(ConfigKey::Object("store",
                          "The durable store of raw messages, outboxes, dead letters "
                          "and the audit log."));
  s.Add(ConfigKey::String("store.path", "SQLite database file; its folder is created at start-up.")
            .Default("var/fhirbridge.db"));
  s.Add(
      ConfigKey::Enum("store.sync", {"full", "normal"},
                      "full: every commit is on disk (fdatasync) before a message is acknowledged; "
                      "normal: commits survive a crash of fhirbridge but not of the machine "
                      "(SQLite synchronous=NORMAL). Keep full in production.")
          .Default("full"));
  s.Add(ConfigKey::Integer("store.wal_size_mb", 0, 4096,
                           "The WAL file is written out to this size at start-up and started "
                           "over at three quarters of it, so that commits overwrite its blocks "
                           "instead of growing the file (docs/store.md); 0 lets it grow.")
            .DefaultInt(64));
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

// The keys of http sources and of json mappings (docs/connector-http.md, docs/mapping-json.md).
void AddHttpSourceKeys(ConfigSchema& s) {
  s.Add(ConfigKey::String("sources[].mapping",
                          "Mapping file of a json source: where the vendor's documents hold "
                          "device, patient, time and measurements (docs/mapping-json.md); "
                          "required for format json."));
  s.Add(
      ConfigKey::Object("sources[].http", "Settings of an http source (docs/connector-http.md)."));
  s.Add(ConfigKey::String("sources[].http.path",
                          "The one path that takes POSTed documents; others answer 404.")
            .Default("/ingest"));
  s.Add(ConfigKey::SecretPath("sources[].http.token_file",
                              "File holding the bearer token senders must present "
                              "(Authorization: Bearer); without it no token is asked for."));
  s.Add(ConfigKey::Integer("sources[].http.max_depth", 1, 256,
                           "Deepest nesting of JSON arrays/objects or XML elements a body may "
                           "have; deeper bodies are answered 400.")
            .DefaultInt(64));
  s.Add(ConfigKey::Integer("sources[].http.timeout_s", 1, 3600,
                           "Seconds a request may take to arrive, and a kept-alive connection "
                           "may sit idle.")
            .DefaultInt(30));
  s.Add(ConfigKey::Integer("sources[].http.retry_after_s", 1, 3600,
                           "Retry-After of a 503 answer when the store cannot commit.")
            .DefaultInt(5));
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
  AddHttpSourceKeys(s);
}

// The keys of fhir destinations (docs/destination-fhir.md).
void AddFhirDestinationKeys(ConfigSchema& s) {
  s.Add(ConfigKey::Integer("destinations[].timeout_ms", 100, 600000,
                           "fhir: most milliseconds one request may take, connection included; "
                           "a timeout is retried (conditional creates make that safe).")
            .DefaultInt(30000));
  s.Add(ConfigKey::Integer("destinations[].gather_ms", 0, 1000,
                           "fhir: with two or more requests in flight and more waiting, the "
                           "delivery thread sleeps up to this long and then takes every answer "
                           "that came, instead of waking for each; never longer than the server "
                           "needs to answer half of those in flight, so it keeps the other half "
                           "to work on. Less CPU per message for fhirbridge, for up to this much "
                           "delay per answer (docs/destination-fhir.md). 0 takes each answer at "
                           "once.")
            .DefaultInt(40));
  s.Add(ConfigKey::Integer("destinations[].connect_timeout_ms", 100, 600000,
                           "fhir: most milliseconds to open a connection (TCP and TLS).")
            .DefaultInt(5000));
  s.Add(ConfigKey::Integer("destinations[].max_connections", 1, 256,
                           "fhir: requests in flight at once (one per lane; a lane's messages "
                           "go one after the other) over kept-alive connections. With "
                           "gather_ms, half of them keep the server busy while answers are "
                           "gathered.")
            .DefaultInt(16));
  s.Add(ConfigKey::String("destinations[].proxy",
                          "fhir: proxy URL (http://host:port or socks5://host:port), used for "
                          "every request; without it fhirbridge connects directly. The "
                          "http_proxy and no_proxy variables are ignored either way.")
            .Check(CheckProxyUrl));
  s.Add(ConfigKey::Enum("destinations[].prefer", {"minimal", "representation", "OperationOutcome"},
                        "fhir: sends `Prefer: return=<value>`; left out, no Prefer header."));
  s.Add(ConfigKey::Object("destinations[].tls",
                          "fhir: TLS settings for an https:// base_url (TLS 1.2 or later)."));
  s.Add(ConfigKey::SecretPath("destinations[].tls.ca_file",
                              "PEM file of CAs the server certificate must chain to; "
                              "left out, the system's CA store."));
  s.Add(ConfigKey::SecretPath("destinations[].tls.cert",
                              "PEM client certificate for mutual TLS (needs tls.key)."));
  s.Add(ConfigKey::SecretPath("destinations[].tls.key", "PEM private key of tls.cert."));
  s.Add(ConfigKey::Object("destinations[].auth",
                          "fhir: how requests authenticate; left out, no Authorization header."));
  s.Add(ConfigKey::Enum("destinations[].auth.type", {"smart-backend", "bearer", "basic"},
                        "smart-backend: SMART Backend Services (signed JWT, client "
                        "credentials); bearer: a token read from token_file; basic: username "
                        "and the password in password_file."));
  s.Add(ConfigKey::String("destinations[].auth.token_url",
                          "smart-backend: the token endpoint; left out, it is read from "
                          "<base_url>/.well-known/smart-configuration.")
            .Check(CheckHttpUrl));
  s.Add(ConfigKey::String("destinations[].auth.client_id",
                          "smart-backend: the client id the EHR registered for fhirbridge."));
  s.Add(ConfigKey::SecretPath("destinations[].auth.private_key_file",
                              "smart-backend: PEM private key signing the client assertion "
                              "(RSA of 2048+ bits for RS384, P-384 for ES384)."));
  s.Add(ConfigKey::Enum("destinations[].auth.alg", {"RS384", "ES384"},
                        "smart-backend: signature algorithm of the client assertion.")
            .Default("RS384"));
  s.Add(ConfigKey::String("destinations[].auth.kid",
                          "smart-backend: key id of the public key in the JWKS the EHR knows."));
  s.Add(ConfigKey::String("destinations[].auth.scope",
                          "smart-backend: scopes requested (SMART v2: c = create, s = search, "
                          "which conditional creates need).")
            .Default("system/Observation.cs system/Patient.cs system/Device.cs"));
  s.Add(ConfigKey::SecretPath("destinations[].auth.token_file",
                              "bearer: file holding the token; read again after a 401."));
  s.Add(ConfigKey::String("destinations[].auth.username", "basic: the user name."));
  s.Add(ConfigKey::SecretPath("destinations[].auth.password_file",
                              "basic: file holding the password."));
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
  AddFhirDestinationKeys(s);
  s.Add(ConfigKey::Object("destinations[].retry",
                          "Backoff between attempts of a message the destination could not take "
                          "now (429, 5xx, timeouts): exponential with ±20 % jitter, never shorter "
                          "than the server's Retry-After, without limit in count."));
  s.Add(ConfigKey::Integer("destinations[].retry.initial_ms", 10, 3600000,
                           "Wait after the first failed attempt, in milliseconds.")
            .DefaultInt(1000));
  s.Add(ConfigKey::Integer("destinations[].retry.max_ms", 10, 86400000,
                           "Longest wait between two attempts, in milliseconds.")
            .DefaultInt(300000));
  s.Add(ConfigKey::Object("destinations[].circuit",
                          "Circuit breaker: a destination that keeps failing is only probed now "
                          "and then, and shows in /readyz and /metrics."));
  s.Add(ConfigKey::Integer("destinations[].circuit.failures", 1, 1000,
                           "Delivery rounds in a row that all had to be retried before the "
                           "circuit opens.")
            .DefaultInt(5));
  s.Add(ConfigKey::Integer("destinations[].circuit.probe_interval_s", 1, 3600,
                           "While open, one message is tried this often, in seconds; a success "
                           "closes the circuit.")
            .DefaultInt(10));
  s.Add(ConfigKey::Integer("destinations[].alert_queue_age_s", 0, 31536000,
                           "Raise fhirbridge_queue_age_alert when the oldest waiting message of "
                           "this destination is older than this many seconds; 0 = never.")
            .DefaultInt(900));
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
  s.Add(ConfigKey::Object("routes[].when",
                          "Conditions on the mapped message; leave out to route every message of "
                          "the sources. Within a list any entry may match; all lists given must."));
  s.Add(ConfigKey::StringList("routes[].when.message_types",
                              "Message types, e.g. ORU^R01 (ORU: any ORU event), PHD, SDC, JSON.")
            .DefaultJson("[]"));
  s.Add(
      ConfigKey::StringList("routes[].when.codes",
                            "Observation codes as system|code (urn:iso:std:iso:11073:10101|150456, "
                            "http://loinc.org|8867-4) or a bare code of any system; the message "
                            "goes when any of its Observations carries one.")
          .DefaultJson("[]"));
  s.Add(ConfigKey::StringList("routes[].when.locations",
                              "Patient point of care from PV1-3: ICU matches ICU^BED12^...; "
                              "ICU^BED12 must match both components.")
            .DefaultJson("[]"));
  s.Add(ConfigKey::StringList("routes[].when.devices",
                              "Device identifiers as system|value or a bare value (e.g. the "
                              "EUI-64 0012345678ABCDEF).")
            .DefaultJson("[]"));
}

// audit.syslog: what forwarding needs once it is switched on.
void CheckSyslog(ConfigCheckContext& ctx) {
  const ConfigNode& syslog = ctx.parent().Object(ctx.key());
  const ConfigNode& tls = syslog.Object("tls");
  if (tls.Has("cert") != tls.Has("key")) {
    ctx.ProblemAt(tls.Has("cert") ? ".tls.key" : ".tls.cert",
                  "tls.cert and tls.key go together (the client certificate for mutual TLS)");
  }
  if (!syslog.GetBool("enabled")) return;
  if (!syslog.Has("address")) ctx.ProblemAt(".address", "required when enabled is true");
  if (!tls.Has("ca")) {
    ctx.ProblemAt(".tls.ca",
                  "required when enabled is true (the collector's certificate is checked)");
  }
}

// A syslog HOSTNAME and an AuditEvent observer id: RFC 5424 PRINTUSASCII, 1..255.
void CheckNodeName(ConfigCheckContext& ctx) {
  const std::string& name = ctx.parent().GetString(ctx.key());
  bool ok = !name.empty() && name.size() <= 255;
  for (char c : name) ok = ok && c >= 33 && c <= 126;
  if (!ok)
    ctx.Problem(QuoteForMessage(name) + ": use 1 to 255 printable ASCII characters, no spaces");
}

// The audit trail as others see it: AuditEvent export and IHE ATNA syslog forwarding
// (docs/audit.md). The chain's own keys are declared after these, under the same object.
void AddAuditExport(ConfigSchema& s) {
  s.Add(ConfigKey::Object("audit", "The audit trail: its export, ATNA forwarding and signing."));
  s.Add(ConfigKey::String("audit.node_name",
                          "This fhirbridge node as AuditEvents name it (source.observer) and as "
                          "syslog HOSTNAME.")
            .Default("fhirbridge")
            .Check(CheckNodeName));
  s.Add(ConfigKey::Object("audit.syslog",
                          "IHE ATNA forwarding: every audit entry as an RFC 5424 syslog message "
                          "over TLS (RFC 5425) to a collector, from a durable position.")
            .Check(CheckSyslog));
  s.Add(ConfigKey::Boolean("audit.syslog.enabled", "Forward audit entries to the collector.")
            .DefaultBool(false));
  s.Add(ConfigKey::String("audit.syslog.address",
                          "host:port of the collector's TLS syslog port (6514 by RFC 5425).")
            .Check(CheckListen));
  s.Add(ConfigKey::Object("audit.syslog.tls", "TLS towards the collector (always on)."));
  s.Add(ConfigKey::SecretPath("audit.syslog.tls.ca",
                              "PEM file of CAs the collector's certificate must chain to; its "
                              "name (or IP address) must match the address host."));
  s.Add(ConfigKey::SecretPath("audit.syslog.tls.cert",
                              "PEM client certificate chain of this node (mutual TLS, as ATNA "
                              "asks)."));
  s.Add(ConfigKey::SecretPath("audit.syslog.tls.key", "PEM private key of tls.cert."));
  s.Add(ConfigKey::String("audit.syslog.app_name", "RFC 5424 APP-NAME.").Default("fhirbridge"));
  s.Add(ConfigKey::Integer("audit.syslog.facility", 0, 23,
                           "RFC 5424 facility; 10 is security/authorization (authpriv). The "
                           "severity is 5 for a success, 4 or 3 for a failure.")
            .DefaultInt(10));
  s.Add(ConfigKey::Enum("audit.syslog.format", {"fhir-json"},
                        "MSG of each message: fhir-json is the FHIR R4 AuditEvent as one line "
                        "of JSON.")
            .Default("fhir-json"));
  s.Add(ConfigKey::String("audit.syslog.position_file",
                          "File keeping the id of the last entry the collector has; default: "
                          "store.path with .atna-position appended."));
}

// The chain's signing and the store's retention and encryption (docs/audit.md, docs/store.md).
void AddAuditChain(ConfigSchema& s) {
  s.Add(ConfigKey::Enum("audit.signing_alg", {"hmac-sha256", "ed25519", "ecdsa-p256"},
                        "How checkpoints and the chain head are signed: hmac-sha256 with a "
                        "secret file, or ed25519 / ecdsa-p256 with a PEM private key (verifiers "
                        "need only its public key: `audit verify --public-key FILE`).")
            .Default("hmac-sha256"));
  s.Add(ConfigKey::SecretPath("audit.signing_key_file",
                              "The signing key: for hmac-sha256 a file of at least 32 secret "
                              "bytes, else a PEM private key. Without it the chain is hashed "
                              "but not signed."));
  s.Add(ConfigKey::Integer("audit.checkpoint_every", 1, 100000000,
                           "A signed checkpoint at the first commit after this many entries.")
            .DefaultInt(1000));
  s.Add(ConfigKey::Integer("audit.checkpoint_interval_s", 1, 86400,
                           "... or after this many seconds with new entries.")
            .DefaultInt(300));
  s.Add(ConfigKey::Integer("store.retention_days", 0, 36500,
                           "Raw payloads and Bundles of finished messages (delivered, or "
                           "failed and discarded) received longer ago than this are purged; "
                           "0 keeps them. The audit chain records each purge.")
            .DefaultInt(0));
  s.Add(ConfigKey::SecretPath("store.encryption_key_file",
                              "Encrypts raw payloads and Bundles at rest (AES-256-GCM). The file "
                              "holds a 32-byte key: raw, 64 hex digits or base64. Off when "
                              "absent; once set, the store refuses to open without this key."));
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
  AddAuditExport(schema);
  AddAuditChain(schema);
  return schema;
}

}  // namespace

const ConfigSchema& DefaultConfigSchema() {
  static const ConfigSchema schema = BuildSchema();
  return schema;
}

std::string_view EmbeddedDefaultConfig() { return kEmbeddedDefaultConfig; }

}  // namespace fhirbridge
