#include "fhirbridge/config.h"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fhirbridge {
namespace {

// Loads `json` against the real schema and returns the problem lines (empty when it is valid).
std::vector<std::string> ProblemsOf(std::string_view json) {
  Result<Config> config = LoadConfig(json, DefaultConfigSchema(), "config.json");
  std::vector<std::string> lines;
  if (config.ok()) return lines;
  BOOST_TEST(config.status().IsInvalidArgument());
  std::istringstream in(config.status().message());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool Contains(const std::vector<std::string>& lines, std::string_view wanted) {
  for (const std::string& line : lines) {
    if (line == wanted) return true;
  }
  return false;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// A config with one source, one destination and one route; `source_extra` goes inside the source.
std::string WithSource(std::string_view source_extra) {
  return R"({"sources": [{"name": "icu", "listen": "0.0.0.0:2575")" + std::string(source_extra) +
         R"(}], "destinations": [{"name": "out", "path": "var/out"}],
             "routes": [{"from": ["icu"], "to": ["out"]}]})";
}

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(schema_table_is_consistent) {
  const Status status = DefaultConfigSchema().SelfCheck();
  BOOST_TEST(status.ok(), status.ToString());
}

BOOST_AUTO_TEST_CASE(embedded_default_config_is_valid) {
  Result<Config> config = LoadConfig(EmbeddedDefaultConfig(), DefaultConfigSchema(), "(default)");
  BOOST_TEST_REQUIRE(config.ok(), config.status().ToString());
  const ConfigNode& root = config->root();
  BOOST_TEST(root.GetString("store.path") == "var/fhirbridge.db");
  BOOST_TEST(root.GetString("admin.listen") == "127.0.0.1:8080");
  BOOST_TEST(!root.Has("admin.token_file"));
  BOOST_TEST_REQUIRE(root.Array("sources").size() == 1u);
  const ConfigNode& source = root.Array("sources")[0];
  BOOST_TEST(source.GetString("type") == "mllp");
  BOOST_TEST(source.GetString("listen") == "127.0.0.1:2575");
  BOOST_TEST(source.GetString("format") == "hl7v2");
  BOOST_TEST_REQUIRE(root.Array("destinations").size() == 1u);
  BOOST_TEST(root.Array("destinations")[0].GetString("type") == "file");
  BOOST_TEST(root.Array("destinations")[0].GetString("path") == "var/outbox");
  BOOST_TEST_REQUIRE(root.Array("routes").size() == 1u);
  BOOST_TEST(root.Array("routes")[0].GetStringList("from") == std::vector<std::string>{"mllp"});
}

BOOST_AUTO_TEST_CASE(defaults_fill_what_the_file_leaves_out) {
  Result<Config> config = LoadConfig(WithSource(""), DefaultConfigSchema(), "config.json");
  BOOST_TEST_REQUIRE(config.ok(), config.status().ToString());
  const ConfigNode& root = config->root();
  BOOST_TEST(root.GetString("store.path") == "var/fhirbridge.db");
  const ConfigNode& source = root.Array("sources")[0];
  BOOST_TEST(source.path() == "sources[0]");
  BOOST_TEST(source.GetString("type") == "mllp");
  BOOST_TEST(source.GetString("unknown_assigning_authority") == "scope-to-sender");
  BOOST_TEST(source.GetString("status_for_R") == "preliminary");
  BOOST_TEST(source.GetBool("deliver_test_data") == false);
  BOOST_TEST(source.GetString("observation_identifier_system") == "urn:fhirbridge:observation");
  BOOST_TEST(source.GetInt("limits.max_message_bytes") == 4194304);
  BOOST_TEST(source.Object("limits").GetInt("max_segments") == 10000);
  BOOST_TEST(source.GetInt("limits.max_fields_per_segment") == 500);
  BOOST_TEST(source.GetInt("limits.max_repetitions") == 1000);
  BOOST_TEST(source.GetInt("max_connections") == 256);
  BOOST_TEST(source.GetInt("idle_timeout_s") == 300);
  BOOST_TEST(source.GetNumber("idle_timeout_s") == 300.0);
  BOOST_TEST(source.GetStringMap("identifier_systems").empty());
  BOOST_TEST(!source.Has("assume_timezone"));
  BOOST_TEST(source.GetString("assume_timezone").empty());
  BOOST_TEST(!source.Has("tls"));
  BOOST_TEST(!source.Has("tls.cert"));
  BOOST_TEST(source.Object("tls").path() == "sources[0].tls");
  BOOST_TEST(root.Array("destinations")[0].GetString("mode") == "transaction");
}

BOOST_AUTO_TEST_CASE(empty_object_is_a_valid_configuration) {
  Result<Config> config = LoadConfig("{}", DefaultConfigSchema(), "config.json");
  BOOST_TEST_REQUIRE(config.ok(), config.status().ToString());
  BOOST_TEST(config->root().Array("sources").empty());
  BOOST_TEST(config->origin() == "config.json");
}

BOOST_AUTO_TEST_CASE(values_given_are_read_with_their_types) {
  Result<Config> config = LoadConfig(WithSource(R"(,
      "assume_timezone": "America/New_York",
      "identifier_systems": {"ACME": "urn:oid:1.2.3", "": "https://example.org/mrn"},
      "code_systems": {"99MNDRY": "urn:oid:1.3.6.1.4.1.3592.2.1.1.0"},
      "deliver_test_data": true, "status_for_R": "final",
      "tls": {"cert": "/etc/fhirbridge/cert.pem", "key": "/etc/fhirbridge/key.pem"},
      "limits": {"max_segments": 20})"),
                                     DefaultConfigSchema(), "config.json");
  BOOST_TEST_REQUIRE(config.ok(), config.status().ToString());
  const ConfigNode& source = config->root().Array("sources")[0];
  BOOST_TEST(source.GetString("assume_timezone") == "America/New_York");
  const auto& systems = source.GetStringMap("identifier_systems");
  BOOST_TEST(systems.size() == 2u);
  BOOST_TEST(systems.at("ACME") == "urn:oid:1.2.3");
  BOOST_TEST(systems.at("") == "https://example.org/mrn");
  BOOST_TEST(source.GetStringMap("code_systems").count("99MNDRY") == 1u);
  BOOST_TEST(source.GetBool("deliver_test_data"));
  BOOST_TEST(source.GetString("status_for_R") == "final");
  BOOST_TEST(source.Has("tls"));
  BOOST_TEST(source.GetString("tls.key") == "/etc/fhirbridge/key.pem");
  BOOST_TEST(source.GetInt("limits.max_segments") == 20);
  BOOST_TEST(source.GetInt("limits.max_repetitions") == 1000);  // sibling keeps its default
}

BOOST_AUTO_TEST_CASE(null_means_the_default) {
  Result<Config> config =
      LoadConfig(R"({"store": {"path": null}})", DefaultConfigSchema(), "config.json");
  BOOST_TEST_REQUIRE(config.ok(), config.status().ToString());
  BOOST_TEST(config->root().GetString("store.path") == "var/fhirbridge.db");
}

BOOST_AUTO_TEST_CASE(json_syntax_error_has_line_and_column) {
  const auto problems = ProblemsOf("{\n  \"store\": {\"path\": \"x\",}\n}");
  BOOST_TEST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(problems[0].rfind("config.json:2:25: JSON syntax error: ", 0) == 0, problems[0]);
}

BOOST_AUTO_TEST_CASE(json_syntax_error_column_counts_characters_not_bytes) {
  const auto problems = ProblemsOf("{\"store\": {\"path\": \"Zürich\" x}}");
  BOOST_TEST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(problems[0].rfind("config.json:1:29: ", 0) == 0, problems[0]);
}

BOOST_AUTO_TEST_CASE(empty_file_and_non_object) {
  BOOST_TEST(ProblemsOf("")[0].rfind("config.json:1:1: JSON syntax error", 0) == 0);
  BOOST_TEST(
      Contains(ProblemsOf("[1]"), "config.json: (top level): expected an object, got an array"));
}

BOOST_AUTO_TEST_CASE(unknown_keys_suggest_close_names) {
  const auto problems = ProblemsOf(R"({"stor": {}, "admin": {"lisen": "127.0.0.1:1"},
      "sources": [{"name": "a", "listen": "127.0.0.1:2", "fromat": "hl7v2", "zzzzzz": 1}]})");
  BOOST_TEST(Contains(problems, "config.json: stor: unknown key (did you mean `store`?)"),
             Joined(problems));
  BOOST_TEST(Contains(problems, "config.json: admin.lisen: unknown key (did you mean `listen`?)"));
  BOOST_TEST(
      Contains(problems, "config.json: sources[0].fromat: unknown key (did you mean `format`?)"));
  BOOST_TEST(Contains(problems, "config.json: sources[0].zzzzzz: unknown key"));
  BOOST_TEST(problems.size() == 4u, Joined(problems));
}

BOOST_AUTO_TEST_CASE(wrong_json_types) {
  const auto problems = ProblemsOf(R"({"store": {"path": 5}, "admin": [],
      "sources": [{"name": "a", "listen": "127.0.0.1:2", "deliver_test_data": "yes",
                   "max_connections": 2.5, "identifier_systems": {"X": 1},
                   "limits": {"max_segments": "10"}}, 7]})");
  BOOST_TEST(Contains(problems, "config.json: store.path: expected a string, got a number"),
             Joined(problems));
  BOOST_TEST(Contains(problems, "config.json: admin: expected an object, got an array"));
  BOOST_TEST(Contains(problems,
                      "config.json: sources[0].deliver_test_data: expected true or false, got a "
                      "string"));
  BOOST_TEST(Contains(
      problems, "config.json: sources[0].max_connections: expected an integer, got a number"));
  BOOST_TEST(Contains(problems,
                      "config.json: sources[0].identifier_systems[\"X\"]: expected a string, got a "
                      "number"));
  BOOST_TEST(Contains(problems,
                      "config.json: sources[0].limits.max_segments: expected an integer, got a "
                      "string"));
  BOOST_TEST(Contains(problems, "config.json: sources[1]: expected an object, got a number"));
}

BOOST_AUTO_TEST_CASE(out_of_range_numbers) {
  const auto problems = ProblemsOf(WithSource(R"(, "limits": {"max_message_bytes": 10,
      "max_segments": 99999999999999999999}, "max_connections": 0)"));
  BOOST_TEST(Contains(problems,
                      "config.json: sources[0].limits.max_message_bytes: 10 is out of range "
                      "1024..268435456"),
             Joined(problems));
  BOOST_TEST(
      Contains(problems, "config.json: sources[0].max_connections: 0 is out of range 1..65536"));
  // Beyond 64 bits RapidJSON reads a double: still reported, never wrapped around.
  BOOST_TEST(problems.size() == 3u, Joined(problems));
}

BOOST_AUTO_TEST_CASE(enum_values) {
  const auto problems = ProblemsOf(WithSource(R"(, "format": "hl7v3", "type": "ftp")"));
  BOOST_TEST(Contains(problems,
                      "config.json: sources[0].format: \"hl7v3\" is not one of hl7v2, phd, sdc, "
                      "json (did you mean `hl7v2`?)"),
             Joined(problems));
  BOOST_TEST(Contains(problems,
                      "config.json: sources[0].type: \"ftp\" is not one of mllp, file, http, "
                      "phd-tcp"));
}

BOOST_AUTO_TEST_CASE(missing_required_keys) {
  const auto problems = ProblemsOf(R"({"sources": [{"listen": "127.0.0.1:1"}],
      "destinations": [{"path": "x"}], "routes": [{}]})");
  BOOST_TEST(Contains(problems, "config.json: sources[0].name: missing required key"),
             Joined(problems));
  BOOST_TEST(Contains(problems, "config.json: destinations[0].name: missing required key"));
  BOOST_TEST(Contains(problems, "config.json: routes[0].from: missing required key"));
  BOOST_TEST(Contains(problems, "config.json: routes[0].to: missing required key"));
}

BOOST_AUTO_TEST_CASE(duplicate_names_and_keys) {
  const auto problems = ProblemsOf(R"({"sources": [
      {"name": "icu", "listen": "127.0.0.1:1"}, {"name": "er", "listen": "127.0.0.1:2"},
      {"name": "icu", "listen": "127.0.0.1:3"}],
      "destinations": [{"name": "d", "path": "a"}, {"name": "d", "path": "b"}],
      "store": {"path": "a", "path": "b"}})");
  BOOST_TEST(
      Contains(problems, "config.json: sources[2].name: \"icu\" is also the name of sources[0]"),
      Joined(problems));
  BOOST_TEST(Contains(
      problems, "config.json: destinations[1].name: \"d\" is also the name of destinations[0]"));
  BOOST_TEST(Contains(problems,
                      "config.json: store.path: key given twice (the later one would silently "
                      "win)"));
  BOOST_TEST(problems.size() == 3u, Joined(problems));
}

BOOST_AUTO_TEST_CASE(names_are_tokens) {
  const auto problems = ProblemsOf(R"({"sources": [{"name": "ICU 1", "listen": "127.0.0.1:1"}]})");
  BOOST_TEST(Contains(problems,
                      "config.json: sources[0].name: \"ICU 1\" is not a valid name: use 1 to 64 "
                      "characters of a-z, 0-9, _ and -"),
             Joined(problems));
}

BOOST_AUTO_TEST_CASE(listen_addresses) {
  for (const char* good : {"127.0.0.1:0", "0.0.0.0:65535", "[::1]:2575", "localhost:2575"}) {
    const auto problems = ProblemsOf(std::string(R"({"admin": {"listen": ")") + good + "\"}}");
    BOOST_TEST(problems.empty(), good << ": " << Joined(problems));
  }
  const auto problems = ProblemsOf(R"({"sources": [{"name": "icu", "listen": "0.0.0.0:99999"}]})");
  BOOST_TEST(
      Contains(problems,
               "config.json: sources[0].listen: \"0.0.0.0:99999\": the port must be a number "
               "0..65535"),
      Joined(problems));
  BOOST_TEST(Contains(ProblemsOf(R"({"admin": {"listen": "8080"}})"),
                      "config.json: admin.listen: \"8080\": expected host:port, e.g. "
                      "127.0.0.1:2575 or [::1]:2575"));
  BOOST_TEST(Contains(ProblemsOf(R"({"admin": {"listen": "::1:8080"}})"),
                      "config.json: admin.listen: \"::1:8080\": write an IPv6 address in "
                      "brackets, e.g. [::1]:2575"));
}

BOOST_AUTO_TEST_CASE(two_listeners_on_one_address) {
  const auto problems = ProblemsOf(R"({"sources": [
      {"name": "a", "listen": "127.0.0.1:2575"}, {"name": "b", "listen": "127.0.0.1:8080"}]})");
  BOOST_TEST(Contains(problems,
                      "config.json: sources[1].listen: \"127.0.0.1:8080\" is already the address "
                      "of admin.listen"),
             Joined(problems));
}

BOOST_AUTO_TEST_CASE(time_zone_must_exist) {
  const auto problems = ProblemsOf(WithSource(R"(, "assume_timezone": "Amerca/New_York")"));
  BOOST_TEST_REQUIRE(problems.size() == 1u, Joined(problems));
  BOOST_TEST(problems[0] ==
             "config.json: sources[0].assume_timezone: no time zone named \"Amerca/New_York\"");
  BOOST_TEST(ProblemsOf(WithSource(R"(, "assume_timezone": "../../etc/passwd")")).size() == 1u);
}

BOOST_AUTO_TEST_CASE(routes_name_declared_sources_and_destinations) {
  const auto problems = ProblemsOf(R"({"sources": [{"name": "icu", "listen": "127.0.0.1:1"}],
      "destinations": [{"name": "ehr", "type": "fhir", "base_url": "https://ehr.example/fhir"}],
      "routes": [{"from": ["icu", "icuu"], "to": ["ehr", "lab"]}, {"from": [], "to": ["ehr"]}]})");
  BOOST_TEST(Contains(problems,
                      "config.json: routes[0].from[1]: no source named \"icuu\" (did you mean "
                      "`icu`?)"),
             Joined(problems));
  BOOST_TEST(Contains(problems, "config.json: routes[0].to[1]: no destination named \"lab\""));
  BOOST_TEST(Contains(problems, "config.json: routes[1].from: names no source; give at least one"));
  BOOST_TEST(problems.size() == 3u, Joined(problems));
}

BOOST_AUTO_TEST_CASE(conditional_requirements) {
  const auto problems = ProblemsOf(R"({
      "sources": [{"name": "a"}, {"name": "b", "type": "file", "listen": "127.0.0.1:1"},
                  {"name": "c", "type": "phd-tcp", "listen": "127.0.0.1:2"}],
      "destinations": [{"name": "f"}, {"name": "e", "type": "fhir", "path": "x"}]})");
  BOOST_TEST(Contains(problems, "config.json: sources[0].listen: required when type is mllp"),
             Joined(problems));
  BOOST_TEST(
      Contains(problems, "config.json: sources[1].listen: not used by a source of type file"));
  BOOST_TEST(Contains(problems, "config.json: sources[1].path: required when type is file"));
  BOOST_TEST(Contains(problems,
                      "config.json: sources[2].format: a phd-tcp source carries IEEE 11073-20601 "
                      "APDUs; format must be phd"));
  BOOST_TEST(Contains(problems, "config.json: destinations[0].path: required when type is file"));
  BOOST_TEST(
      Contains(problems, "config.json: destinations[1].base_url: required when type is fhir"));
  BOOST_TEST(Contains(
      problems, "config.json: destinations[1].path: only used by a destination of type file"));
}

BOOST_AUTO_TEST_CASE(uris_are_checked) {
  const auto problems = ProblemsOf(WithSource(R"(, "identifier_systems": {"ACME": "acme hospital"},
      "observation_identifier_system": "fhirbridge")"));
  BOOST_TEST(Contains(problems,
                      "config.json: sources[0].identifier_systems[\"ACME\"]: \"acme hospital\" is "
                      "not a URI (e.g. urn:oid:1.2.3 or https://example.org/id)"),
             Joined(problems));
  BOOST_TEST(
      Contains(problems,
               "config.json: sources[0].observation_identifier_system: \"fhirbridge\" is not "
               "a URI (e.g. urn:oid:1.2.3 or https://example.org/id)"));
}

BOOST_AUTO_TEST_CASE(secrets_are_never_quoted) {
  const std::string secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC";
  const auto problems = ProblemsOf(
      WithSource(R"(, "tls": {"cert": "/etc/c.pem", "key": "-----BEGIN PRIVATE KEY-----\n)" +
                 secret + R"(\n-----END PRIVATE KEY-----", "client_ca": 12345678})"));
  const std::string all = Joined(problems);
  BOOST_TEST(all.find(secret) == std::string::npos, all);
  BOOST_TEST(all.find("12345678") == std::string::npos, all);
  BOOST_TEST(Contains(problems,
                      "config.json: sources[0].tls.key: looks like the secret itself; give the "
                      "path of a file that holds it"),
             all);
  BOOST_TEST(Contains(problems,
                      "config.json: sources[0].tls.client_ca: expected a string (the path of a "
                      "file), got a number"));
}

BOOST_AUTO_TEST_CASE(tls_cert_and_key_go_together) {
  const auto problems = ProblemsOf(WithSource(R"(, "tls": {"cert": "/etc/c.pem"})"));
  BOOST_TEST(Contains(problems, "config.json: sources[0].tls.key: required when tls.cert is given"),
             Joined(problems));
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once) {
  const auto problems = ProblemsOf(R"({"stor": {}, "admin": {"listen": "x"},
      "sources": [{"name": "a", "listen": "127.0.0.1:1", "assume_timezone": "Mars/Olympus",
                   "format": "xml"}],
      "routes": [{"from": ["b"], "to": []}]})");
  BOOST_TEST(problems.size() == 6u, Joined(problems));
  for (const std::string& line : problems) {
    BOOST_TEST(line.rfind("config.json: ", 0) == 0, line);
  }
}

BOOST_AUTO_TEST_CASE(load_config_file) {
  const Result<Config> missing =
      LoadConfigFile("/nonexistent/fhirbridge.json", DefaultConfigSchema());
  BOOST_TEST(missing.status().IsNotFound());
  const std::string path = "config_test_tmp.json";
  {
    std::ofstream out(path);
    out << "{\"store\": {\"path\": 1}}";
  }
  const Result<Config> loaded = LoadConfigFile(path, DefaultConfigSchema());
  std::remove(path.c_str());
  BOOST_TEST(loaded.status().message() ==
             "config_test_tmp.json: store.path: expected a string, got a number");
}

BOOST_AUTO_TEST_CASE(did_you_mean) {
  const std::vector<std::string> names = {"listen", "format", "name", "assume_timezone"};
  BOOST_TEST(DidYouMean("fromat", names) == " (did you mean `format`?)");
  BOOST_TEST(DidYouMean("Name", names) == " (did you mean `name`?)");
  BOOST_TEST(DidYouMean("assume_timzone", names) == " (did you mean `assume_timezone`?)");
  BOOST_TEST(DidYouMean("password", names).empty());
  BOOST_TEST(DidYouMean("x", names).empty());
}

BOOST_AUTO_TEST_CASE(quote_for_message) {
  BOOST_TEST(QuoteForMessage("a\"b\\c\n") == R"("a\"b\\c\u000a")");
  const std::string long_value(200, 'x');
  BOOST_TEST(QuoteForMessage(long_value) == "\"" + std::string(80, 'x') + "...\"");
}

BOOST_AUTO_TEST_CASE(schema_self_check_catches_table_bugs) {
  ConfigSchema schema;
  schema.Add(ConfigKey::String("a.b", "Parent a is not declared."));
  schema.Add(ConfigKey::Integer("n", 10, 1, "Bounds the wrong way round.").DefaultInt(5));
  schema.Add(ConfigKey::Enum("e", {"x", "y"}, "Default not allowed.").Default("z"));
  schema.Add(ConfigKey::String("s", "no full stop"));
  const Status status = schema.SelfCheck();
  BOOST_TEST((status.code() == Status::Code::kInternal));
  BOOST_TEST(
      status.message().find("a.b: its parent is not declared as object") != std::string::npos,
      status.message());
  BOOST_TEST(status.message().find("n: min > max") != std::string::npos);
  BOOST_TEST(status.message().find("e (default): \"z\" is not one of x, y") != std::string::npos);
  BOOST_TEST(status.message().find("s: help must be a sentence") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(docs_match_the_schema) {
  const std::string path = std::string(FHIRBRIDGE_SOURCE_DIR) + "/docs/configuration.md";
  const std::string generated = DefaultConfigSchema().Markdown();
  if (std::getenv("FHIRBRIDGE_UPDATE_DOCS") != nullptr) {
    std::ofstream(path, std::ios::binary) << generated;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream checked_in;
  checked_in << in.rdbuf();
  BOOST_TEST(checked_in.str() == generated,
             "docs/configuration.md differs from the schema in engine/src/config_schema.cpp; "
             "regenerate it with `fhirbridge config-docs > docs/configuration.md` (or run "
             "engine_test with FHIRBRIDGE_UPDATE_DOCS=1) and commit the result");
}

BOOST_AUTO_TEST_CASE(markdown_has_a_row_per_key) {
  const std::string md = DefaultConfigSchema().Markdown();
  BOOST_TEST(md.rfind("# Configuration\n\n", 0) == 0);
  BOOST_TEST(md.find("## `sources[]`") != std::string::npos);
  BOOST_TEST(md.find("| `store.path` | string | `\"var/fhirbridge.db\"` |") != std::string::npos);
  BOOST_TEST(md.find("| `sources[].name` | string | **required** |") != std::string::npos);
  BOOST_TEST(md.find("| `sources[].limits.max_message_bytes` | integer, 1024 to 268435456 | "
                     "`4194304` |") != std::string::npos);
  BOOST_TEST(md.find("| `sources[].tls.key` | secret file path | — |") != std::string::npos);
  for (const ConfigKey& key : DefaultConfigSchema().keys()) {
    const bool section = key.parent_path().empty();
    BOOST_TEST((section || md.find("| `" + key.path() + "` |") != std::string::npos), key.path());
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge
