// SMART Backend Services, bearer and basic authentication against the real test FHIR server
// (its token endpoint verifies the client assertion with npm jose against the registered JWKS).

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "conformance/testing/fhir_server_process.h"
#include "engine/auth/auth_provider.h"
#include "engine/auth/es384.h"
#include "engine/auth/secret_file.h"
#include "engine/delivery/fhir_sink.h"
#include "engine/testing/temp_dir.h"

namespace fhirbridge::auth {
namespace {

using Kind = DeliveryOutcome::Kind;
using testing::FhirServerProcess;

std::string BnParam(EVP_PKEY* key, const char* name, std::size_t pad = 0) {
  BIGNUM* bn = nullptr;
  BOOST_REQUIRE(EVP_PKEY_get_bn_param(key, name, &bn) == 1);
  std::vector<unsigned char> bytes(std::max<std::size_t>(pad, BN_num_bytes(bn)));
  BN_bn2binpad(bn, bytes.data(), static_cast<int>(bytes.size()));
  BN_free(bn);
  return Base64Url(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// A fresh key pair: the private key as a PEM file in a temporary folder, the public key as a JWK.
struct TestKey {
  std::string pem_file;
  std::string jwk;  ///< JSON object
};

// Key and token files of this test binary; the folder goes when the binary exits.
const testing::TempDir& ScratchDir() {
  static const testing::TempDir dir("fhirbridge-auth-test");
  return dir;
}

TestKey MakeKey(const std::string& alg, const std::string& kid) {
  EVP_PKEY* key = alg == "RS384" ? EVP_RSA_gen(2048) : EVP_EC_gen("P-384");
  BOOST_REQUIRE(key != nullptr);
  static int counter = 0;
  TestKey out;
  out.pem_file = ScratchDir() / (kid + "-" + std::to_string(++counter) + ".pem");
  BIO* bio = BIO_new_file(out.pem_file.c_str(), "w");
  BOOST_REQUIRE(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  BIO_free(bio);
  if (alg == "RS384") {
    out.jwk = R"({"kty":"RSA","alg":"RS384","kid":")" + kid + R"(","n":")" +
              BnParam(key, OSSL_PKEY_PARAM_RSA_N) + R"(","e":")" +
              BnParam(key, OSSL_PKEY_PARAM_RSA_E) + R"("})";
  } else {
    out.jwk = R"({"kty":"EC","crv":"P-384","alg":"ES384","kid":")" + kid + R"(","x":")" +
              BnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, 48) + R"(","y":")" +
              BnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, 48) + R"("})";
  }
  EVP_PKEY_free(key);
  return out;
}

void Register(const FhirServerProcess& server, const std::string& client_id, const TestKey& key) {
  auto answer = server.Post(
      "/$clients", R"({"client_id":")" + client_id + R"(","jwks":{"keys":[)" + key.jwk + "]}}");
  BOOST_REQUIRE(answer.ok());
  BOOST_REQUIRE_MESSAGE(answer->status == 201, answer->body);
}

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ScratchDir() / name;
  std::ofstream(path) << text << "\n";
  return path;
}

std::unique_ptr<SmartBackendAuth> MakeSmart(const FhirServerProcess& server, const TestKey& key,
                                            const std::string& alg, const std::string& kid,
                                            const std::string& token_url = "") {
  SmartBackendOptions options;
  options.base_url = server.base_url();
  options.token_url = token_url;
  options.client_id = "fhirbridge-test";
  options.private_key_file = key.pem_file;
  options.alg = alg;
  options.kid = kid;
  auto auth = SmartBackendAuth::Create(options);
  BOOST_REQUIRE_MESSAGE(auth.ok(), auth.status().ToString());
  return std::move(auth).value();
}

std::unique_ptr<delivery::FhirSink> SinkWith(const FhirServerProcess& server,
                                             std::shared_ptr<AuthProvider> auth) {
  delivery::FhirSinkOptions options;
  options.destination = "test";
  options.row.base_url = server.base_url();
  options.auth = std::move(auth);
  auto sink = delivery::FhirSink::Create(options);
  BOOST_REQUIRE(sink.ok());
  return std::move(sink).value();
}

std::vector<OutboxItem> Rows(int first, int count) {
  std::vector<OutboxItem> rows;
  for (int i = first; i < first + count; ++i) {
    OutboxItem row;
    row.id = i;
    row.lane = "lane" + std::to_string(i % 3);
    row.payload =
        R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Device","identifier":[{"system":"urn:t","value":"d)" +
        std::to_string(i) +
        R"("}]},"request":{"method":"POST","url":"Device","ifNoneExist":"identifier=urn:t|d)" +
        std::to_string(i) + R"("}}]})";
    rows.push_back(std::move(row));
  }
  return rows;
}

int TokensIssued(const FhirServerProcess& server) {
  rapidjson::Document doc;
  doc.Parse(server.Get("/$tokens")->body.c_str());
  return doc.IsObject() && doc.HasMember("issued") ? doc["issued"].GetInt() : -1;
}

std::string Decode(std::string_view part) {
  std::string b64(part);
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4) b64 += '=';
  std::string out(b64.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  // EVP_DecodeBlock counts the padding as bytes; unpadded base64url of k chars is 3k/4 bytes.
  out.resize(std::min<std::size_t>(static_cast<std::size_t>(n), part.size() * 3 / 4));
  return out;
}

BOOST_AUTO_TEST_SUITE(smart_backend_auth)

BOOST_AUTO_TEST_CASE(the_client_assertion_has_the_claims_smart_requires) {
  const TestKey key = MakeKey("RS384", "k1");
  auto server = FhirServerProcess::Start({"--smart"});
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  auto auth = MakeSmart(**server, key, "RS384", "k1");
  auto a = auth->ClientAssertion("https://ehr.example/token");
  auto b = auth->ClientAssertion("https://ehr.example/token");
  BOOST_REQUIRE(a.ok() && b.ok());
  const std::string& jwt = *a;
  const std::size_t dot1 = jwt.find('.');
  const std::size_t dot2 = jwt.find('.', dot1 + 1);
  rapidjson::Document header, claims, other;
  header.Parse(Decode(std::string_view(jwt).substr(0, dot1)).c_str());
  claims.Parse(Decode(std::string_view(jwt).substr(dot1 + 1, dot2 - dot1 - 1)).c_str());
  BOOST_REQUIRE(header.IsObject() && claims.IsObject());
  BOOST_TEST(std::string(header["alg"].GetString()) == "RS384");
  BOOST_TEST(std::string(header["kid"].GetString()) == "k1");
  BOOST_TEST(std::string(header["typ"].GetString()) == "JWT");
  BOOST_TEST(std::string(claims["iss"].GetString()) == "fhirbridge-test");
  BOOST_TEST(std::string(claims["sub"].GetString()) == "fhirbridge-test");
  BOOST_TEST(std::string(claims["aud"].GetString()) == "https://ehr.example/token");
  const std::int64_t exp = claims["exp"].GetInt64();
  const std::int64_t iat = claims["iat"].GetInt64();
  BOOST_TEST(exp - iat <= 300);
  BOOST_TEST(exp > iat);
  BOOST_TEST(std::string(claims["jti"].GetString()).size() == 32u);
  const std::string& jwt2 = *b;
  other.Parse(Decode(std::string_view(jwt2).substr(jwt2.find('.') + 1,
                                                   jwt2.rfind('.') - jwt2.find('.') - 1))
                  .c_str());
  BOOST_REQUIRE(other.IsObject());
  BOOST_TEST(std::string(other["jti"].GetString()) != std::string(claims["jti"].GetString()));
}

BOOST_AUTO_TEST_CASE(token_is_fetched_once_cached_and_refreshed_after_a_401) {
  auto server = FhirServerProcess::Start({"--smart"});
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  const TestKey key = MakeKey("RS384", "rsa-1");
  Register(**server, "fhirbridge-test", key);
  std::shared_ptr<SmartBackendAuth> auth = MakeSmart(**server, key, "RS384", "rsa-1");
  auto sink = SinkWith(**server, auth);
  for (int round = 0; round < 5; ++round) {
    const SinkResult result = sink->Deliver(Rows(round * 6 + 1, 6));
    for (const auto& o : result.outcomes) BOOST_TEST((o.kind == Kind::kDelivered), o.reason);
  }
  BOOST_TEST(auth->token_requests() == 1);  // discovery once, one token for 30 deliveries
  BOOST_TEST(TokensIssued(**server) == 1);
  BOOST_TEST((*server)->Post("/$revoke-tokens", "{}")->status == 200);
  const SinkResult after = sink->Deliver(Rows(100, 3));
  for (const auto& o : after.outcomes) BOOST_TEST((o.kind == Kind::kDelivered), o.reason);
  BOOST_TEST(auth->token_requests() == 2);
  BOOST_TEST(TokensIssued(**server) == 2);
}

// Poco 1.11 writes about one ES384 signature in 140 with 95 bytes: 600 signatures meet a short r
// or s with a probability of 99%, and every one must be 96 bytes and verify.
BOOST_AUTO_TEST_CASE(es384_signatures_are_96_bytes_and_verify) {
  const TestKey key = MakeKey("ES384", "sig");
  std::ifstream in(key.pem_file);
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<EvpKey> signer = ReadEs384Key(pem);
  BOOST_REQUIRE(signer.ok());
  for (int i = 0; i < 600; ++i) {
    const std::string input = "header.payload-" + std::to_string(i);
    Result<std::string> b64 = SignEs384(signer->get(), input);
    BOOST_REQUIRE(b64.ok());
    BOOST_REQUIRE_EQUAL(b64->size(), 128u);  // 96 bytes, unpadded base64url
    std::string std64 = *b64;
    for (char& c : std64) c = c == '-' ? '+' : c == '_' ? '/' : c;
    unsigned char raw[99];
    BOOST_REQUIRE_EQUAL(EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(std64.data()),
                                        static_cast<int>(std64.size())),
                        96);
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(raw, 48, nullptr), BN_bin2bn(raw + 48, 48, nullptr));
    unsigned char* der = nullptr;
    const int der_size = i2d_ECDSA_SIG(sig, &der);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    BOOST_REQUIRE(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha384(), nullptr, signer->get()) == 1);
    BOOST_CHECK_EQUAL(
        EVP_DigestVerify(ctx, der, static_cast<std::size_t>(der_size),
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()),
        1);
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
  }
  BOOST_CHECK(!ReadEs384Key("not a key").ok());
}

BOOST_AUTO_TEST_CASE(es384_keys_work_too_with_a_configured_token_url) {
  auto server = FhirServerProcess::Start({"--smart"});
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  const TestKey key = MakeKey("ES384", "ec-1");
  Register(**server, "fhirbridge-test", key);
  std::shared_ptr<SmartBackendAuth> auth =
      MakeSmart(**server, key, "ES384", "ec-1", (*server)->base_url() + "/auth/token");
  auto sink = SinkWith(**server, auth);
  // Several tokens: an ES384 signature whose r or s is short must still be 96 bytes.
  for (int round = 0; round < 8; ++round) {
    const SinkResult result = sink->Deliver(Rows(round * 2 + 1, 2));
    for (const auto& o : result.outcomes) BOOST_TEST((o.kind == Kind::kDelivered), o.reason);
    BOOST_TEST((*server)->Post("/$revoke-tokens", "{}")->status == 200);
  }
  BOOST_TEST(auth->token_requests() == 8);
}

BOOST_AUTO_TEST_CASE(a_key_the_server_does_not_know_is_a_permanent_clear_error) {
  auto server = FhirServerProcess::Start({"--smart"});
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  Register(**server, "fhirbridge-test", MakeKey("RS384", "rsa-1"));
  const TestKey other = MakeKey("RS384", "rsa-1");  // same kid, another key
  auto sink = SinkWith(**server, MakeSmart(**server, other, "RS384", "rsa-1"));
  const SinkResult result = sink->Deliver(Rows(1, 2));
  BOOST_TEST((result.outcomes[0].kind == Kind::kPermanent));
  BOOST_TEST(result.outcomes[0].reason == "token endpoint: HTTP 401 invalid_client");
  BOOST_TEST(result.outcomes[0].outcome.find("\"security\"") != std::string::npos);
  BOOST_TEST((result.outcomes[1].kind == Kind::kPermanent));  // another lane, the same answer
}

BOOST_AUTO_TEST_CASE(an_unreachable_token_endpoint_is_retried) {
  auto server = FhirServerProcess::Start({"--smart"});
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  const TestKey key = MakeKey("RS384", "rsa-1");
  std::uint16_t closed = 0;
  {
    auto gone = FhirServerProcess::Start();
    BOOST_REQUIRE(gone.ok());
    closed = (*gone)->port();
  }
  auto sink = SinkWith(**server, MakeSmart(**server, key, "RS384", "rsa-1",
                                           "http://127.0.0.1:" + std::to_string(closed) + "/t"));
  const SinkResult result = sink->Deliver(Rows(1, 1));
  BOOST_TEST((result.outcomes[0].kind == Kind::kRetry));
  BOOST_TEST(result.outcomes[0].reason == "token endpoint: connection refused");
}

BOOST_AUTO_TEST_CASE(refuses_a_key_of_the_wrong_kind) {
  const TestKey ec = MakeKey("ES384", "ec");
  SmartBackendOptions options;
  options.client_id = "c";
  options.kid = "k";
  options.private_key_file = ec.pem_file;
  options.alg = "RS384";
  BOOST_TEST(SmartBackendAuth::Create(options).status().IsInvalidArgument());
  options.private_key_file = WriteFile("not-a-key.pem", "hello");
  options.alg = "ES384";
  BOOST_TEST(SmartBackendAuth::Create(options).status().IsInvalidArgument());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(static_auth)

BOOST_AUTO_TEST_CASE(bearer_token_from_a_file) {
  auto server = FhirServerProcess::Start({"--bearer", "s3cret-token-value"});
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  auto good = MakeBearerFileAuth(WriteFile("token", "  s3cret-token-value \n"));
  BOOST_REQUIRE(good.ok());
  const SinkResult ok = SinkWith(**server, std::move(good).value())->Deliver(Rows(1, 2));
  for (const auto& o : ok.outcomes) BOOST_TEST((o.kind == Kind::kDelivered), o.reason);
  // A wrong token: 401, the file is read again (still wrong), 401 again → permanent.
  auto bad = MakeBearerFileAuth(WriteFile("bad-token", "nope"));
  BOOST_REQUIRE(bad.ok());
  const SinkResult refused = SinkWith(**server, std::move(bad).value())->Deliver(Rows(5, 1));
  BOOST_TEST((refused.outcomes[0].kind == Kind::kPermanent));
  BOOST_TEST(refused.outcomes[0].http_status == 401);
}

BOOST_AUTO_TEST_CASE(a_rotated_token_file_is_picked_up_after_a_401) {
  auto server = FhirServerProcess::Start({"--bearer", "new-token"});
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  const std::string path = WriteFile("rotating", "old-token");
  auto auth = MakeBearerFileAuth(path);
  BOOST_REQUIRE(auth.ok());
  WriteFile("rotating", "new-token");  // rotated after fhirbridge read it
  const SinkResult result = SinkWith(**server, std::move(auth).value())->Deliver(Rows(1, 1));
  BOOST_TEST((result.outcomes[0].kind == Kind::kDelivered), result.outcomes[0].reason);
}

BOOST_AUTO_TEST_CASE(basic_user_and_password_file) {
  auto server = FhirServerProcess::Start({"--basic", "fhirbridge:pa ss:word"});
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  auto good = MakeBasicAuth("fhirbridge", WriteFile("password", "pa ss:word"));
  BOOST_REQUIRE(good.ok());
  const SinkResult ok = SinkWith(**server, std::move(good).value())->Deliver(Rows(1, 1));
  BOOST_TEST((ok.outcomes[0].kind == Kind::kDelivered), ok.outcomes[0].reason);
  auto bad = MakeBasicAuth("fhirbridge", WriteFile("wrong", "other"));
  BOOST_REQUIRE(bad.ok());
  const SinkResult refused = SinkWith(**server, std::move(bad).value())->Deliver(Rows(2, 1));
  BOOST_TEST((refused.outcomes[0].kind == Kind::kPermanent));
  BOOST_TEST(refused.outcomes[0].http_status == 401);
  BOOST_TEST(MakeBasicAuth("a:b", WriteFile("p2", "x")).status().IsInvalidArgument());
}

BOOST_AUTO_TEST_CASE(secret_files_have_limits) {
  BOOST_TEST(ReadSecretFile("/nonexistent/file", "auth.token_file").status().IsNotFound());
  BOOST_TEST(ReadSecretFile(WriteFile("empty", "  "), "x").status().IsInvalidArgument());
  BOOST_TEST(ReadSecretFile(WriteFile("big", std::string(kMaxSecretBytes + 1, 'a')), "x")
                 .status()
                 .IsInvalidArgument());
  BOOST_TEST(*ReadSecretFile(WriteFile("fine", "\n tok \n"), "x") == "tok");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::auth
