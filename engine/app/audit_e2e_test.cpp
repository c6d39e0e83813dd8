// Issue 5 §2 and §7 from outside: the real `fhirbridge run` takes MLLP traffic with a signing
// key and payload encryption configured, `fhirbridge audit verify` passes; then copies of the
// store are altered by hand (sqlite3 C API, the append-only triggers dropped first) — an entry
// edited, deleted, inserted, two swapped, a checkpoint signature broken, the tail truncated —
// and verify fails each time naming the entry. The database file never shows a raw payload,
// and the store refuses to start with another key.

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "conformance/bench/pcd01_corpus.h"
#include "engine/app/e2e_support.h"
#include "engine/store/audit_chain.h"

namespace fhirbridge::app {
namespace {

using namespace std::chrono_literals;
using namespace e2e;

// Runs the fhirbridge binary; exit status, with stdout and stderr.
int Run(const std::vector<std::string>& args, std::string& out, std::string& err) {
  Poco::Pipe out_pipe;
  Poco::Pipe err_pipe;
  Poco::ProcessHandle handle =
      Poco::Process::launch(FHIRBRIDGE_BINARY, args, nullptr, &out_pipe, &err_pipe);
  std::string err_text;
  std::thread drain([&] {
    Poco::PipeInputStream in(err_pipe);
    err_text.assign(std::istreambuf_iterator<char>(in), {});
  });
  Poco::PipeInputStream in(out_pipe);
  out.assign(std::istreambuf_iterator<char>(in), {});
  drain.join();
  err = err_text;
  return handle.wait();
}

void WriteEd25519(const fs::path& private_file, const fs::path& public_file) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  BOOST_REQUIRE(key != nullptr);
  FILE* f = std::fopen(private_file.c_str(), "w");
  BOOST_REQUIRE(PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  std::fclose(f);
  f = std::fopen(public_file.c_str(), "w");
  BOOST_REQUIRE(PEM_write_PUBKEY(f, key) == 1);
  std::fclose(f);
  EVP_PKEY_free(key);
}

std::string WriteConfig(const fs::path& dir, const fs::path& key_file) {
  const std::string path = (dir / "config.json").string();
  std::ofstream(path) << R"({
  "store": {"path": ")"
                      << (dir / "var" / "store.db").string() << R"(", "encryption_key_file": ")"
                      << key_file.string() << R"("},
  "admin": {"listen": "127.0.0.1:0"},
  "audit": {"signing_alg": "ed25519", "signing_key_file": ")"
                      << (dir / "audit.pem").string() << R"(", "checkpoint_every": 10},
  "sources": [{"name": "icu", "type": "mllp", "listen": "127.0.0.1:0",
               "assume_timezone": "UTC"}],
  "destinations": [{"name": "outbox", "type": "file", "path": ")"
                      << (dir / "outbox").string() << R"("}],
  "routes": [{"from": ["icu"], "to": ["outbox"]}]
})";
  return path;
}

std::string FileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Sql(const fs::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(db_file.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  BOOST_CHECK_MESSAGE(rc == SQLITE_OK, (error != nullptr ? error : "") + (" in " + sql));
  sqlite3_free(error);
  sqlite3_close(db);
}

std::int64_t SqlInt(const fs::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(db_file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK);
  const std::int64_t value = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
  sqlite3_finalize(q);
  sqlite3_close(db);
  return value;
}

// An insertion done well: ids after 8 moved up, and a new entry 8 whose hash is right for its
// place (prev_hash = entry 7's hash). Only the link of the entry after it gives it away.
std::string InsertEntrySql(const fs::path& db_file) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(db_file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(db, "SELECT hash FROM audit WHERE id = 7", -1, &q, nullptr) ==
                SQLITE_OK);
  BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  AuditRecord forged;
  forged.id = 8;
  forged.at_us = 1'700'000'000'000'000;
  forged.event = "message.delivered";
  forged.actor = "fhirbridge";
  forged.detail = "{}";
  forged.prev_hash = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  sqlite3_close(db);
  forged.hash = store::AuditEntryHash(forged);
  return "UPDATE audit SET id = -id WHERE id >= 8; UPDATE audit SET id = 1 - id WHERE id < 0; "
         "INSERT INTO audit(id, at_us, event, outcome, actor, peer, tls_identity, source, "
         "message_id, control_id, patient, detail, prev_hash, hash) VALUES(8, " +
         std::to_string(forged.at_us) +
         ", 'message.delivered', 'success', 'fhirbridge', '', '', NULL, NULL, '', '', '{}', '" +
         forged.prev_hash + "', '" + forged.hash + "')";
}

BOOST_AUTO_TEST_CASE(audit_verify_passes_on_real_traffic_and_names_every_kind_of_alteration) {
  TempDir t;
  WriteEd25519(t.dir / "audit.pem", t.dir / "audit.pub");
  std::ofstream(t.dir / "payload.key") << std::string(64, 'a') << "\n";
  std::ofstream(t.dir / "wrong.key") << std::string(64, 'b') << "\n";
  const std::string config = WriteConfig(t.dir, t.dir / "payload.key");
  constexpr std::size_t kMessages = 40;
  std::vector<std::string> messages;
  std::vector<std::size_t> all;
  for (std::size_t i = 0; i < kMessages; ++i) {
    messages.push_back(conformance::MakePcd01Message(6, static_cast<int>(i) + 1));
    all.push_back(i);
  }
  {
    ServiceProcess service(config);
    const int port = service.PortOf("source.listening");
    BOOST_REQUIRE_EQUAL(SendAll(port, messages, all, 2, nullptr).size(), kMessages);
    const fs::path outbox = t.dir / "outbox" / "outbox.ndjson";
    for (int i = 0; i < 300 && Lines(outbox).size() < kMessages; ++i)
      std::this_thread::sleep_for(100ms);
    BOOST_REQUIRE_EQUAL(Lines(outbox).size(), kMessages);
    BOOST_REQUIRE_EQUAL(service.Terminate(), 0);
  }
  const fs::path db = t.dir / "var" / "store.db";
  // Encryption: no raw HL7 and no Bundle in the database file.
  const std::string bytes = FileBytes(db) + FileBytes(db.string() + "-wal");
  BOOST_TEST(bytes.find("OBX|") == std::string::npos);
  BOOST_TEST(bytes.find("\"resourceType\":\"Bundle\"") == std::string::npos);
  // What was audited, in the chain.
  for (const char* event :
       {"config.loaded", "service.started", "message.received", "message.mapped",
        "message.validated", "message.delivered", "service.stopped"}) {
    BOOST_TEST(
        SqlInt(db, std::string("SELECT COUNT(*) FROM audit WHERE event = '") + event + "'") > 0,
        event);
  }
  // config.loaded names the file's SHA-256, computed here with OpenSSL's one-shot digest.
  {
    const std::string text = FileBytes(config);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    BOOST_REQUIRE(EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr));
    const std::string hex =
        store::HexOf(std::string_view(reinterpret_cast<const char*>(digest), length));
    BOOST_TEST(SqlInt(db,
                      "SELECT COUNT(*) FROM audit WHERE event = 'config.loaded' AND "
                      "detail LIKE '%\"sha256\":\"" +
                          hex + "\"%'") == 1);
  }
  BOOST_TEST(SqlInt(db,
                    "SELECT COUNT(*) FROM audit WHERE event = 'message.mapped' AND "
                    "patient LIKE '%|MRN%'") == static_cast<std::int64_t>(kMessages));
  const std::int64_t entries = SqlInt(db, "SELECT MAX(id) FROM audit");
  BOOST_REQUIRE_GT(entries, 4 * static_cast<std::int64_t>(kMessages));
  BOOST_REQUIRE_GT(SqlInt(db, "SELECT COUNT(*) FROM audit_checkpoints"), 1);

  std::string out;
  std::string err;
  BOOST_REQUIRE_EQUAL(Run({"audit", "verify", "--config", config}, out, err), 0);
  BOOST_TEST_MESSAGE(out);
  BOOST_TEST(out.find("audit chain intact: " + std::to_string(entries) + " entries") !=
             std::string::npos);
  // The public key alone verifies too.
  BOOST_REQUIRE_EQUAL(
      Run({"audit", "verify", "--config", config, "--public-key", (t.dir / "audit.pub").string()},
          out, err),
      0);

  const std::string unguard = "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; ";
  const std::int64_t last_checkpoint_entry =
      SqlInt(db, "SELECT MAX(entry_id) FROM audit_checkpoints");
  struct Damage {
    std::string name;
    std::string sql;
    std::string expected;  ///< what verify must say
  };
  const std::vector<Damage> damages = {
      {"edit", "UPDATE audit SET detail = '{\"ack\":\"AE\"}' WHERE id = 5",
       "entry 5: content changed"},
      {"delete", "DELETE FROM audit WHERE id = 6", "entry 6: entry missing"},
      {"insert", "", "entry 8: entry inserted"},
      {"swap",
       "UPDATE audit SET id = -1 WHERE id = 10; UPDATE audit SET id = 10 WHERE id = 11; "
       "UPDATE audit SET id = 11 WHERE id = -1",
       "entry 10: order changed"},
      {"checkpoint signature",
       "UPDATE audit_checkpoints SET signature = "
       "CASE substr(signature, 1, 1) WHEN '0' THEN '1' ELSE '0' END || substr(signature, 2) "
       "WHERE id = 2",
       "checkpoint 2: checkpoint signature invalid"},
      // The editor removes the checkpoints that named the removed entries too; the signed head
      // still names the real end.
      {"truncated tail",
       "DELETE FROM audit WHERE id > " + std::to_string(entries - 3) +
           "; DELETE FROM audit_checkpoints WHERE entry_id > " + std::to_string(entries - 3),
       "entry " + std::to_string(entries - 2) + ": chain truncated"},
      {"truncated past a checkpoint",
       "DELETE FROM audit WHERE id >= " + std::to_string(last_checkpoint_entry),
       "entry " + std::to_string(last_checkpoint_entry) + ": checkpoint refers to a missing entry"},
  };
  for (const Damage& damage : damages) {
    BOOST_TEST_CONTEXT(damage.name) {
      const fs::path copy = t.dir / ("altered-" + std::to_string(&damage - damages.data()) + ".db");
      fs::copy_file(db, copy);
      Sql(copy, unguard + (damage.name == "insert" ? InsertEntrySql(copy) : damage.sql));
      const int status =
          Run({"audit", "verify", "--config", config, "--store", copy.string()}, out, err);
      BOOST_TEST(status == 1);
      BOOST_TEST(err.find("BROKEN at " + damage.expected) != std::string::npos, err);
    }
  }

  // The store refuses another encryption key at start-up, and starts again with its own.
  const std::string wrong = WriteConfig(t.dir, t.dir / "wrong.key");
  fs::rename(wrong, t.dir / "wrong.json");
  WriteConfig(t.dir, t.dir / "payload.key");
  BOOST_TEST(Run({"run", "--config", (t.dir / "wrong.json").string()}, out, err) == 1);
  BOOST_TEST(err.find("not the key") != std::string::npos, err);
}

}  // namespace
}  // namespace fhirbridge::app
