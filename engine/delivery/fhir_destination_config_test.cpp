// The configuration keys of fhir destinations and their cross-key checks
// (engine/src/config_schema.cpp, docs/destination-fhir.md).

#include <boost/test/unit_test.hpp>

#include "fhirbridge/config.h"

namespace fhirbridge {
namespace {

// Problems of a configuration with one fhir destination whose other keys are `keys`.
std::string Problems(const std::string& keys) {
  const std::string json = R"({"destinations": [{"name": "ehr", "type": "fhir")" +
                           (keys.empty() ? "" : ", " + keys) + "}]}";
  Result<Config> config = LoadConfig(json, DefaultConfigSchema(), "t.json");
  return config.ok() ? "" : config.status().message();
}

BOOST_AUTO_TEST_SUITE(fhir_destination_config)

BOOST_AUTO_TEST_CASE(a_complete_destination_is_accepted_with_defaults) {
  const std::string json =
      R"({"destinations": [{"name": "ehr", "type": "fhir", "base_url": "https://ehr.example/fhir",
          "prefer": "minimal", "proxy": "http://proxy:3128",
          "tls": {"ca_file": "/x/ca.pem", "cert": "/x/c.pem", "key": "/x/k.pem"},
          "auth": {"type": "smart-backend", "client_id": "c", "kid": "k",
                   "private_key_file": "/x/key.pem"}}]})";
  Result<Config> config = LoadConfig(json, DefaultConfigSchema(), "t.json");
  BOOST_REQUIRE_MESSAGE(config.ok(), config.status().message());
  const ConfigNode& d = config->root().Array("destinations")[0];
  BOOST_TEST(d.GetInt("timeout_ms") == 30000);
  BOOST_TEST(d.GetInt("connect_timeout_ms") == 5000);
  BOOST_TEST(d.GetInt("max_connections") == 16);
  BOOST_TEST(d.GetInt("gather_ms") == 40);
  BOOST_TEST(d.Object("auth").GetString("alg") == "RS384");
  BOOST_TEST(d.Object("auth").GetString("scope").find("system/Observation.c") == 0u);
}

BOOST_AUTO_TEST_CASE(plain_http_only_on_loopback) {
  BOOST_TEST(Problems(R"("base_url": "http://127.0.0.1:8080/fhir")") == "");
  BOOST_TEST(Problems(R"("base_url": "http://localhost/fhir")") == "");
  BOOST_TEST(Problems(R"("base_url": "http://[::1]:9/fhir")") == "");
  BOOST_TEST(Problems(R"("base_url": "http://ehr.example/fhir")")
                 .find("destinations[0].base_url: must be https://") != std::string::npos);
  BOOST_TEST(
      Problems(R"("base_url": "http://127.0.0.1.evil.example/fhir")").find("must be https://") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(auth_keys_depend_on_the_type) {
  const std::string base = R"("base_url": "https://e/fhir", )";
  const std::string smart = Problems(base + R"("auth": {"type": "smart-backend"})");
  BOOST_TEST(
      smart.find("destinations[0].auth.client_id: required when auth.type is smart-backend") !=
      std::string::npos);
  BOOST_TEST(smart.find("destinations[0].auth.private_key_file: required") != std::string::npos);
  BOOST_TEST(smart.find("destinations[0].auth.kid: required") != std::string::npos);
  BOOST_TEST(Problems(base + R"("auth": {"type": "bearer"})").find("auth.token_file: required") !=
             std::string::npos);
  const std::string basic = Problems(base + R"("auth": {"type": "basic", "token_file": "/t"})");
  BOOST_TEST(basic.find("auth.username: required") != std::string::npos);
  BOOST_TEST(basic.find("auth.token_file: only used when auth.type is bearer") !=
             std::string::npos);
  BOOST_TEST(Problems(base + R"("auth": {"token_file": "/t"})").find("auth.type: required") !=
             std::string::npos);
  BOOST_TEST(Problems(base + R"("auth": {"type": "smart-backend", "client_id": "c", "kid": "k",
      "private_key_file": "/k", "token_url": "http://idp.example/token"})")
                 .find("auth.token_url: must be https://") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(tls_and_timeouts_are_checked_together) {
  BOOST_TEST(Problems(R"("base_url": "https://e", "tls": {"cert": "/c"})")
                 .find("destinations[0].tls.key: tls.cert and tls.key go together") !=
             std::string::npos);
  BOOST_TEST(Problems(R"("base_url": "http://127.0.0.1", "tls": {"ca_file": "/c"})")
                 .find("destinations[0].tls: only used with an https:// base_url") !=
             std::string::npos);
  BOOST_TEST(Problems(R"("base_url": "https://e", "timeout_ms": 1000, "connect_timeout_ms": 2000)")
                 .find("connect_timeout_ms: must not be longer than timeout_ms") !=
             std::string::npos);
  BOOST_TEST(
      Problems(R"("base_url": "https://e", "proxy": "proxy:3128")").find("is not a proxy URL") !=
      std::string::npos);
  BOOST_TEST(Problems(R"("base_url": "https://e", "max_connections": 0)") != "");
}

BOOST_AUTO_TEST_CASE(fhir_keys_on_a_file_destination_are_refused) {
  const std::string json =
      R"({"destinations": [{"name": "f", "type": "file", "path": "/tmp/x", "prefer": "minimal",
          "auth": {"type": "bearer", "token_file": "/t"}}]})";
  Result<Config> config = LoadConfig(json, DefaultConfigSchema(), "t.json");
  BOOST_REQUIRE(!config.ok());
  BOOST_TEST(config.status().message().find("destinations[0].prefer: only used by a destination of "
                                            "type fhir") != std::string::npos);
  BOOST_TEST(config.status().message().find("destinations[0].auth: only used") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge
