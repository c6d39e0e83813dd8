#include "engine/store/payload_cipher.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/store/audit_verify.h"
#include "engine/store/sqlite_store.h"
#include "engine/testing/temp_dir.h"

namespace fhirbridge::store {
namespace {

const std::string kHexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

std::unique_ptr<PayloadCipher> Cipher(std::string_view text) {
  Result<std::unique_ptr<PayloadCipher>> cipher = PayloadCipher::FromKeyText(text);
  BOOST_REQUIRE_MESSAGE(cipher.ok(), cipher.status().ToString());
  return std::move(cipher).value();
}

BOOST_AUTO_TEST_CASE(key_files_take_raw_hex_and_base64_and_nothing_else) {
  const auto hex = Cipher(kHexKey + "\n");
  // The same 32 bytes raw and in base64.
  std::string raw;
  for (int i = 0; i < 32; ++i) raw.push_back(static_cast<char>(i));
  const auto from_raw = Cipher(raw);
  const auto from_base64 = Cipher("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  BOOST_TEST(hex->CheckValue() == from_raw->CheckValue());
  BOOST_TEST(hex->CheckValue() == from_base64->CheckValue());
  BOOST_TEST(!PayloadCipher::FromKeyText("short").ok());
  BOOST_TEST(!PayloadCipher::FromKeyText(kHexKey.substr(2)).ok());         // 31 bytes
  BOOST_TEST(!PayloadCipher::FromKeyText("zz" + kHexKey.substr(2)).ok());  // not hex
  BOOST_TEST(!PayloadCipher::FromKeyText(std::string(33, 'k')).ok());      // 33 raw bytes
}

BOOST_AUTO_TEST_CASE(seal_opens_only_with_its_key_and_its_row) {
  const auto cipher = Cipher(kHexKey);
  const std::string plain = "MSH|^~\\&|MONITOR|ICU|||20240101||ORU^R01|X1|P|2.6\rPID|||MRN42";
  Result<std::string> sealed = cipher->Seal(plain, "messages.raw|1");
  BOOST_REQUIRE(sealed.ok());
  BOOST_TEST(PayloadCipher::IsSealed(*sealed));
  BOOST_TEST(!PayloadCipher::IsSealed(plain));
  BOOST_TEST(sealed->find("MRN42") == std::string::npos);
  Result<std::string> opened = cipher->Open(*sealed, "messages.raw|1");
  BOOST_REQUIRE(opened.ok());
  BOOST_TEST(*opened == plain);
  // A fresh nonce each time: the same plaintext never seals to the same bytes.
  BOOST_TEST(*cipher->Seal(plain, "messages.raw|1") != *sealed);
  BOOST_TEST(!cipher->Open(*sealed, "messages.raw|2").ok());  // moved to another row
  std::string altered = *sealed;
  altered[30] ^= 1;
  BOOST_TEST(!cipher->Open(altered, "messages.raw|1").ok());
  const auto other = Cipher(std::string(64, 'f'));
  BOOST_TEST(other->CheckValue() != cipher->CheckValue());
  BOOST_TEST(!other->Open(*sealed, "messages.raw|1").ok());
}

// ---- in the store ----

struct Dir {
  testing::TempDir temp{"fhirbridge-cipher"};
  const std::filesystem::path& path = temp.dir;
  std::string db() const { return (path / "store.db").string(); }
};

Result<std::unique_ptr<SqliteStore>> OpenStore(const Dir& dir, std::string_view key) {
  SqliteStoreOptions options;
  options.path = dir.db();
  if (!key.empty()) options.cipher = Cipher(key);
  return SqliteStore::Open(options);
}

Message Msg(std::string control_id, std::string raw, std::int64_t at_us) {
  Message m;
  m.source = "icu";
  m.format = "hl7v2";
  m.control_id = std::move(control_id);
  m.raw = std::move(raw);
  m.received_at_us = at_us;
  return m;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

BOOST_AUTO_TEST_CASE(encrypted_store_hides_payloads_and_needs_its_key) {
  Dir dir;
  const std::string raw = "MSH|^~\\&|M|ICU|||20240101||ORU^R01|E1|P|2.6\rPID|||DISTINCT-PHI-7781";
  const std::string mapped_bundle = "{\"resourceType\":\"Bundle\",\"note\":\"BUNDLE-PHI-5521\"}";
  {
    auto store = OpenStore(dir, kHexKey);
    BOOST_REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    BOOST_REQUIRE((*store)->Accept(Msg("E1", raw, 1)).ok());
    MappingRecord mapped;
    mapped.message_id = 1;
    mapped.lane = "l";
    mapped.bundle = mapped_bundle;
    mapped.destinations = {"out"};
    BOOST_REQUIRE((*store)->RecordMappings({mapped}, 2).ok());
    (*store)->Close();
  }
  const std::string bytes = FileBytes(dir.db()) + FileBytes(dir.db() + "-wal");
  BOOST_TEST(bytes.find("DISTINCT-PHI-7781") == std::string::npos);
  BOOST_TEST(bytes.find("BUNDLE-PHI-5521") == std::string::npos);
  {
    auto store = OpenStore(dir, kHexKey);  // a restart with the key reads them
    BOOST_REQUIRE(store.ok());
    auto pending = (*store)->PendingDeliveries("out", 0, 10);
    BOOST_REQUIRE(pending.ok());
    BOOST_REQUIRE_EQUAL(pending->size(), 1u);
    // Bundles are not stored (rendered again from the raw message): only their digest is.
    BOOST_TEST(pending->front().payload.empty());
    BOOST_TEST(pending->front().bundle_digest == Sha256(mapped_bundle));
    auto message = (*store)->GetMessage(1);
    BOOST_REQUIRE(message.ok());
    BOOST_TEST(message->raw == raw);
    BOOST_REQUIRE((*store)->Accept(Msg("E2", raw + "2", 3)).ok());
    auto unmapped = (*store)->PendingMappings(10);
    BOOST_REQUIRE(unmapped.ok());
    BOOST_REQUIRE_EQUAL(unmapped->size(), 1u);
    BOOST_TEST(unmapped->front().raw == raw + "2");
  }
  auto wrong = OpenStore(dir, std::string(64, 'e'));
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST(wrong.status().message().find("not the key") != std::string::npos);
  auto keyless = OpenStore(dir, "");
  BOOST_REQUIRE(!keyless.ok());
  BOOST_TEST(keyless.status().message().find("encryption_key_file") != std::string::npos);
}

// ---- retention ----

BOOST_AUTO_TEST_CASE(retention_purges_finished_payloads_only_and_the_chain_verifies) {
  Dir dir;
  auto opened = OpenStore(dir, "");
  BOOST_REQUIRE(opened.ok());
  SqliteStore& store = **opened;
  const std::int64_t old_us = 1'000'000;
  for (int i = 1; i <= 4; ++i) {
    BOOST_REQUIRE(
        store.Accept(Msg("R" + std::to_string(i), "MSH|" + std::to_string(i), old_us)).ok());
  }
  BOOST_REQUIRE(store.Accept(Msg("NEW", "MSH|new", 9'000'000)).ok());
  BOOST_REQUIRE(store.Reject(Msg("BAD", "garbage", old_us), "no MSH").ok());
  // 1: mapped and delivered (finished); 2: mapped, delivery pending; 3: held; 4: not mapped.
  std::vector<MappingRecord> records(3);
  for (int i = 0; i < 3; ++i) {
    records[i].message_id = i + 1;
    records[i].lane = "l" + std::to_string(i + 1);
  }
  records[0].bundle = "{\"b\":1}";
  records[1].bundle = "{\"b\":2}";
  records[0].destinations = records[1].destinations = {"out"};
  records[2].result = MappingRecord::Result::kHeld;
  BOOST_REQUIRE(store.RecordMappings(records, 2'000'000).ok());
  auto pending = store.PendingDeliveries("out", 0, 10);
  BOOST_REQUIRE(pending.ok());
  BOOST_REQUIRE_EQUAL(pending->size(), 2u);
  BOOST_REQUIRE(
      store.RecordDelivered("out", {{pending->front().id, 201, "Observation/1"}}, 3'000'000, {})
          .ok());

  Result<PurgeReport> purged = store.PurgePayloads(5'000'000, 6'000'000);
  BOOST_REQUIRE(purged.ok());
  BOOST_TEST(purged->messages == 1);
  BOOST_TEST(purged->first_message_id == 1);
  BOOST_TEST(purged->last_message_id == 1);
  BOOST_TEST(purged->rejected == 1);
  // Pending work keeps its payloads: message 2's Bundle can still be rendered from its raw
  // bytes, 3 and 4 still hold theirs; message 1's are gone.
  auto still = store.PendingDeliveries("out", 0, 10);
  BOOST_REQUIRE(still.ok());
  BOOST_REQUIRE_EQUAL(still->size(), 1u);
  BOOST_TEST(still->front().message_id == 2);
  BOOST_TEST(store.GetMessage(2)->raw == "MSH|2");
  BOOST_TEST((store.GetMessage(1).status().code() == Status::Code::kFailedPrecondition));
  auto unmapped = store.PendingMappings(10);
  BOOST_REQUIRE(unmapped.ok());
  BOOST_REQUIRE_EQUAL(unmapped->size(), 2u);  // 4 and NEW
  BOOST_TEST(unmapped->front().raw == "MSH|4");
  // A second pass finds nothing more.
  BOOST_TEST(store.PurgePayloads(5'000'000, 7'000'000)->messages == 0);
  auto entries = store.ReadAudit(0, 1000);
  BOOST_REQUIRE(entries.ok());
  BOOST_TEST(entries->back().event == "payload.purged");
  BOOST_TEST(entries->back().detail.find("\"first_message_id\":1") != std::string::npos);
  opened->reset();  // closes the connections: the WAL is checkpointed and removed
  Result<AuditVerifyReport> report = VerifyAuditChain(dir.db(), nullptr);
  BOOST_REQUIRE(report.ok());
  BOOST_TEST(report->intact);
  const std::string bytes = FileBytes(dir.db()) + FileBytes(dir.db() + "-wal");
  BOOST_TEST(bytes.find("MSH|1") == std::string::npos);
  BOOST_TEST(bytes.find("garbage") == std::string::npos);
}

}  // namespace
}  // namespace fhirbridge::store
