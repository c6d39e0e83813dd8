#include "engine/store/audit_chain.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "engine/store/audit_verify.h"
#include "engine/store/sqlite_store.h"
#include "engine/testing/temp_dir.h"

namespace fhirbridge::store {
namespace {

// PEM private and public key of a fresh key pair ("ED25519" or "EC" P-256).
std::pair<std::string, std::string> KeyPair(const char* type) {
  EVP_PKEY* key = std::string_view(type) == "EC"
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  BOOST_REQUIRE(key != nullptr);
  auto pem = [&](bool private_key) {
    BIO* bio = BIO_new(BIO_s_mem());
    BOOST_REQUIRE(
        private_key ? PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1
                    : PEM_write_bio_PUBKEY(bio, key) == 1);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(length));
    BIO_free(bio);
    return text;
  };
  std::pair<std::string, std::string> out{pem(true), pem(false)};
  EVP_PKEY_free(key);
  return out;
}

std::unique_ptr<AuditKey> Key(std::string_view alg, std::string bytes) {
  Result<std::unique_ptr<AuditKey>> key = AuditKey::FromBytes(alg, std::move(bytes));
  BOOST_REQUIRE_MESSAGE(key.ok(), key.status().ToString());
  return std::move(key).value();
}

AuditRecord Entry() {
  AuditRecord r;
  r.id = 7;
  r.at_us = 1'700'000'000'000'000;
  r.event = "message.received";
  r.actor = "source:icu";
  r.peer = "127.0.0.1:4000";
  r.source = "icu";
  r.message_id = 3;
  r.control_id = "MSG1";
  r.patient = "urn:oid:1.2|MRN1";
  r.detail = "{\"ack\":\"AA\"}";
  r.prev_hash = std::string(64, 'a');
  return r;
}

// FIPS 180-2 appendix B vectors, on several threads at once (each keeps its own context).
// Boost.Test's assertions are not thread-safe: threads collect, the test thread checks.
BOOST_AUTO_TEST_CASE(sha256_matches_the_published_vectors_on_every_thread) {
  struct Vector {
    std::string input;
    std::string hex;
  };
  const std::vector<Vector> vectors = {
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(1000000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"}};
  constexpr int kThreads = 4;
  std::vector<std::vector<std::string>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round)
        for (const Vector& v : vectors) got[t].push_back(HexOf(Sha256(v.input)));
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) {
    BOOST_REQUIRE(got[t].size() == 20 * vectors.size());
    for (std::size_t k = 0; k < got[t].size(); ++k)
      BOOST_TEST(got[t][k] == vectors[k % vectors.size()].hex);
  }
}

BOOST_AUTO_TEST_CASE(entry_hash_covers_every_field_and_is_unambiguous) {
  const std::string base = AuditEntryHash(Entry());
  BOOST_TEST(base.size() == 64u);
  BOOST_TEST(AuditEntryHash(Entry()) == base);
  const std::vector<void (*)(AuditRecord&)> edits = {
      [](AuditRecord& r) { r.id = 8; },
      [](AuditRecord& r) { r.at_us += 1; },
      [](AuditRecord& r) { r.event = "message.rejected"; },
      [](AuditRecord& r) { r.outcome = "failure"; },
      [](AuditRecord& r) { r.actor = "source:ward"; },
      [](AuditRecord& r) { r.peer = "127.0.0.1:4001"; },
      [](AuditRecord& r) { r.tls_identity = "CN=x"; },
      [](AuditRecord& r) { r.source = "ward"; },
      [](AuditRecord& r) { r.message_id = 4; },
      [](AuditRecord& r) { r.control_id = "MSG2"; },
      [](AuditRecord& r) { r.patient = "urn:oid:1.2|MRN2"; },
      [](AuditRecord& r) { r.detail = "{}"; },
      [](AuditRecord& r) { r.prev_hash = std::string(64, 'b'); },
  };
  for (auto edit : edits) {
    AuditRecord r = Entry();
    edit(r);
    BOOST_TEST(AuditEntryHash(r) != base);
  }
  // Moving bytes from one field to the next changes the hash (length prefixes).
  AuditRecord a = Entry();
  a.actor = "ab";
  a.peer = "c";
  AuditRecord b = Entry();
  b.actor = "a";
  b.peer = "bc";
  BOOST_TEST(AuditEntryHash(a) != AuditEntryHash(b));
}

void CheckSignatures(std::string_view alg, std::unique_ptr<AuditKey> signer,
                     std::unique_ptr<AuditKey> verifier, std::unique_ptr<AuditKey> other) {
  AuditSeal seal{3, 42, std::string(64, 'c'), 1'700'000'000'000'000, "", "", ""};
  BOOST_REQUIRE(signer->Sign(seal, "checkpoint").ok());
  BOOST_TEST(seal.alg == std::string(alg));
  BOOST_TEST(seal.key_id == signer->key_id());
  BOOST_TEST(verifier->key_id() == signer->key_id());
  BOOST_TEST(verifier->Verify(seal, "checkpoint"));
  BOOST_TEST(!verifier->Verify(seal, "head"));  // a checkpoint is no head
  BOOST_TEST(!other->Verify(seal, "checkpoint"));
  AuditSeal moved = seal;
  moved.entry_id = 43;
  BOOST_TEST(!verifier->Verify(moved, "checkpoint"));
  AuditSeal rehashed = seal;
  rehashed.entry_hash[0] = 'd';
  BOOST_TEST(!verifier->Verify(rehashed, "checkpoint"));
  AuditSeal flipped = seal;
  flipped.signature[10] = flipped.signature[10] == '0' ? '1' : '0';
  BOOST_TEST(!verifier->Verify(flipped, "checkpoint"));
}

BOOST_AUTO_TEST_CASE(hmac_sha256_signs_and_refuses_a_wrong_secret) {
  const std::string secret(40, 's');
  CheckSignatures("hmac-sha256", Key("hmac-sha256", secret), Key("hmac-sha256", secret + "\n"),
                  Key("hmac-sha256", std::string(40, 't')));
  BOOST_TEST(!AuditKey::FromBytes("hmac-sha256", "short").ok());
}

BOOST_AUTO_TEST_CASE(ed25519_signs_and_the_public_key_alone_verifies) {
  const auto [private_pem, public_pem] = KeyPair("ED25519");
  const auto other = KeyPair("ED25519");
  auto verifier = Key("ed25519", public_pem);
  BOOST_TEST(!verifier->can_sign());
  AuditSeal seal;
  BOOST_TEST(!verifier->Sign(seal, "head").ok());
  CheckSignatures("ed25519", Key("ed25519", private_pem), std::move(verifier),
                  Key("ed25519", other.second));
}

BOOST_AUTO_TEST_CASE(ecdsa_p256_signs_and_the_public_key_alone_verifies) {
  const auto [private_pem, public_pem] = KeyPair("EC");
  const auto other = KeyPair("EC");
  CheckSignatures("ecdsa-p256", Key("ecdsa-p256", private_pem), Key("ecdsa-p256", public_pem),
                  Key("ecdsa-p256", other.first));
}

BOOST_AUTO_TEST_CASE(a_key_of_the_wrong_kind_is_refused) {
  const auto ed = KeyPair("ED25519");
  const auto ec = KeyPair("EC");
  BOOST_TEST(!AuditKey::FromBytes("ecdsa-p256", ed.first).ok());
  BOOST_TEST(!AuditKey::FromBytes("ed25519", ec.first).ok());
  BOOST_TEST(!AuditKey::FromBytes("ed25519", "not a key").ok());
  BOOST_TEST(!AuditKey::FromBytes("rsa", ec.first).ok());
}

// ---- the chain in a store ----

struct ChainStore {
  testing::TempDir temp{"fhirbridge-chain"};
  const std::filesystem::path& dir = temp.dir;
  std::shared_ptr<const AuditKey> key = Key("ed25519", KeyPair("ED25519").first);
  std::string path() const { return (dir / "store.db").string(); }
  std::unique_ptr<SqliteStore> Open(std::int64_t checkpoint_every = 5) {
    SqliteStoreOptions options;
    options.path = path();
    options.audit_key = key;
    options.audit_checkpoint_every = checkpoint_every;
    auto store = SqliteStore::Open(options);
    BOOST_REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::move(store).value();
  }
  AuditVerifyReport Verify() const {
    Result<AuditVerifyReport> report = VerifyAuditChain(path(), key.get());
    BOOST_REQUIRE_MESSAGE(report.ok(), report.status().ToString());
    return *report;
  }
  void Sql(const std::string& sql) const {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(path().c_str(), &db) == SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    BOOST_CHECK_MESSAGE(rc == SQLITE_OK,
                        (error != nullptr ? error : "") + std::string(" in ") + sql);
    sqlite3_free(error);
    sqlite3_close(db);
  }
};

AuditRecord Event(std::string event) {
  AuditRecord r;
  r.event = std::move(event);
  r.actor = "cli:test";
  r.detail = "{}";
  return r;
}

BOOST_AUTO_TEST_CASE(entries_chain_across_commits_and_restarts_with_checkpoints) {
  ChainStore t;
  {
    auto store = t.Open();
    for (int i = 0; i < 7; ++i) BOOST_REQUIRE(store->RecordAudit(Event("admin.read")).ok());
    Message m;
    m.source = "icu";
    m.format = "hl7v2";
    m.control_id = "C1";
    m.raw = "MSH|^~\\&|x";
    m.received_at_us = 1;
    BOOST_REQUIRE(store->Accept(m).ok());
    auto entries = store->ReadAudit(0, 100);
    BOOST_REQUIRE(entries.ok());
    BOOST_REQUIRE_EQUAL(entries->size(), 8u);
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const AuditRecord& e = (*entries)[i];
      BOOST_TEST(e.id == static_cast<std::int64_t>(i + 1));
      BOOST_TEST(e.hash == AuditEntryHash(e));
      BOOST_TEST(e.prev_hash == (i == 0 ? std::string() : (*entries)[i - 1].hash));
    }
    BOOST_TEST(entries->back().event == "message.received");
    BOOST_TEST(entries->back().control_id == "C1");
    auto after = store->ReadAudit(6, 1);
    BOOST_REQUIRE(after.ok());
    BOOST_REQUIRE_EQUAL(after->size(), 1u);
    BOOST_TEST(after->front().id == 7);
  }
  {
    auto store = t.Open();  // the chain continues from the stored head
    BOOST_REQUIRE(store->RecordAudit(Event("service.started")).ok());
  }
  const AuditVerifyReport report = t.Verify();
  BOOST_TEST_MESSAGE(report.explanation);
  BOOST_TEST(report.intact);
  BOOST_TEST(report.entries == 9);
  BOOST_TEST(report.checkpoints >= 1);
  BOOST_TEST(report.head_entry == 9);
  BOOST_TEST(report.signatures_checked);
}

BOOST_AUTO_TEST_CASE(a_failed_batch_leaves_the_chain_whole) {
  ChainStore t;
  auto store = t.Open(1000);
  BOOST_REQUIRE(store->RecordAudit(Event("a")).ok());
  BOOST_REQUIRE(store->SetMaxPagesForTest(1).ok());  // every write now fails (disk full)
  AuditRecord big = Event("b");
  big.detail = std::string(64 * 1024, 'x');
  BOOST_TEST(!store->RecordAudit(big).ok());
  BOOST_REQUIRE(store->SetMaxPagesForTest(1'000'000).ok());
  BOOST_REQUIRE(store->RecordAudit(Event("c")).ok());
  store->Close();
  const AuditVerifyReport report = t.Verify();
  BOOST_TEST_MESSAGE(report.explanation);
  BOOST_TEST(report.intact);
  BOOST_TEST(report.entries == 2);
}

BOOST_AUTO_TEST_CASE(another_writer_process_does_not_fork_the_chain) {
  ChainStore t;
  auto service = t.Open();
  BOOST_REQUIRE(service->RecordAudit(Event("service.started")).ok());
  {
    auto cli = t.Open();  // e.g. `deadletter discard` while the service runs
    BOOST_REQUIRE(cli->RecordAudit(Event("deadletter.discarded")).ok());
  }
  BOOST_REQUIRE(service->RecordAudit(Event("service.stopped")).ok());
  service->Close();
  const AuditVerifyReport report = t.Verify();
  BOOST_TEST_MESSAGE(report.explanation);
  BOOST_TEST(report.intact);
  BOOST_TEST(report.entries == 3);
}

BOOST_AUTO_TEST_CASE(sql_cannot_update_or_delete_entries_without_dropping_the_guards) {
  ChainStore t;
  BOOST_REQUIRE(t.Open()->RecordAudit(Event("a")).ok());
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(t.path().c_str(), &db) == SQLITE_OK);
  BOOST_TEST(sqlite3_exec(db, "UPDATE audit SET event = 'x'", nullptr, nullptr, nullptr) !=
             SQLITE_OK);
  BOOST_TEST(sqlite3_exec(db, "DELETE FROM audit", nullptr, nullptr, nullptr) != SQLITE_OK);
  sqlite3_close(db);
}

BOOST_AUTO_TEST_CASE(verify_without_the_key_refuses_a_signed_chain_and_a_wrong_key_fails) {
  ChainStore t;
  BOOST_REQUIRE(t.Open()->RecordAudit(Event("a")).ok());
  Result<AuditVerifyReport> keyless = VerifyAuditChain(t.path(), nullptr);
  BOOST_REQUIRE(keyless.ok());
  BOOST_TEST(!keyless->intact);
  BOOST_TEST(keyless->problem == "no key");
  auto wrong = Key("ed25519", KeyPair("ED25519").second);
  Result<AuditVerifyReport> other = VerifyAuditChain(t.path(), wrong.get());
  BOOST_REQUIRE(other.ok());
  BOOST_TEST(!other->intact);
  BOOST_TEST(other->problem.find("signature invalid") != std::string::npos);
}

}  // namespace
}  // namespace fhirbridge::store
