#include "engine/store/wal_write_vfs.h"

#include <sqlite3.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/store/sqlite_db.h"
#include "engine/testing/temp_dir.h"

namespace fhirbridge::store {
namespace {

namespace fs = std::filesystem;

struct Dir {
  testing::TempDir temp{"fhirbridge-walvfs"};
  const fs::path& path = temp.dir;
};

std::unique_ptr<SqliteDb> OpenDb(const fs::path& file) {
  auto db = SqliteDb::Open(file.string(), /*full_sync=*/false);
  BOOST_REQUIRE_MESSAGE(db.ok(), db.status().ToString());
  // No checkpoint: everything committed stays in the WAL, which is what the tests read.
  BOOST_REQUIRE((*db)->Exec("PRAGMA wal_autocheckpoint=0").ok());
  return std::move(db).value();
}

// A count through SQLite's default VFS, on its own connection: what another process reads.
std::int64_t CountWithDefaultVfs(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  const std::int64_t n = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}

// The database and its WAL as a power cut right now would leave them (the page cache is the
// disk here): copied aside, then opened, so that SQLite recovers the copy's WAL from its frames
// and checksums alone.
fs::path CopyAsIfCrashed(const Dir& dir, const fs::path& file) {
  const fs::path copy = dir.path / "crashed.db";
  fs::copy_file(file, copy, fs::copy_options::overwrite_existing);
  fs::copy_file(file.string() + "-wal", copy.string() + "-wal",
                fs::copy_options::overwrite_existing);
  return copy;
}

// A database in its own folder with one table t(id, v), open through the VFS.
struct Db {
  Dir dir;
  fs::path file = dir.path / "s.db";
  std::unique_ptr<SqliteDb> db = OpenDb(file);
  Db() { BOOST_REQUIRE(db->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)").ok()); }

  // `rows` inserts of `value` (SQL) in one transaction, committed unless `commit` is false.
  void Insert(int rows, const std::string& value, bool commit = true) {
    Transaction tx(*db);
    BOOST_REQUIRE(tx.Begin().ok());
    for (int i = 0; i < rows; ++i) {
      BOOST_REQUIRE(db->Exec("INSERT INTO t(v) VALUES(" + value + ")").ok());
    }
    if (commit) BOOST_REQUIRE(tx.Commit().ok());
  }
  std::int64_t Count(const std::string& sql) const { return CountWithDefaultVfs(file, sql); }
  std::int64_t CountAfterCrash(const std::string& sql) const {
    return CountWithDefaultVfs(CopyAsIfCrashed(dir, file), sql);
  }
};

std::string Blob(int row, std::size_t bytes) {
  return std::string(bytes, static_cast<char>('a' + row % 26));
}

BOOST_AUTO_TEST_SUITE(wal_write_vfs)

BOOST_AUTO_TEST_CASE(a_commit_reaches_the_file_in_one_write_and_other_connections_see_it) {
  Db d;
  const WalWriteCounts before = WalWriteCountsSoFar();
  d.Insert(8, "randomblob(3000)");  // a page each, plus the table's root
  const WalWriteCounts after = WalWriteCountsSoFar();
  // SQLite wrote each frame's header and page apart; the file got them in one call.
  BOOST_TEST(after.from_sqlite - before.from_sqlite >= 16u);
  BOOST_TEST(after.to_file - before.to_file == 1u);
  BOOST_TEST(d.Count("SELECT COUNT(*) FROM t") == 8);
  BOOST_TEST(d.CountAfterCrash("SELECT COUNT(*) FROM t") == 8);
}

BOOST_AUTO_TEST_CASE(a_transaction_larger_than_the_buffer_is_written_in_pieces_and_recovers) {
  Db d;
  const WalWriteCounts before = WalWriteCountsSoFar();
  d.Insert(200, "randomblob(4000)");  // ~800 KB
  const WalWriteCounts after = WalWriteCountsSoFar();
  BOOST_TEST(after.to_file - before.to_file > 1u);
  BOOST_TEST(after.to_file - before.to_file < (after.from_sqlite - before.from_sqlite) / 10);
  BOOST_TEST(d.CountAfterCrash("SELECT COUNT(*) FROM t") == 200);
  BOOST_TEST(d.CountAfterCrash("SELECT SUM(length(v)) FROM t") == 200 * 4000);
}

BOOST_AUTO_TEST_CASE(frames_rewritten_in_place_within_a_transaction_recover_with_checksums) {
  // With a two-page cache a large transaction spills pages into the WAL before its commit;
  // changing them again makes SQLite overwrite those frames in place and then rewrite the
  // checksums of every frame after them. Those writes land before the buffered ones.
  Db d;
  BOOST_REQUIRE(d.db->Exec("PRAGMA cache_size=2").ok());
  const WalWriteCounts before = WalWriteCountsSoFar();
  {
    Transaction tx(*d.db);
    BOOST_REQUIRE(tx.Begin().ok());
    for (int i = 0; i < 300; ++i) {
      BOOST_REQUIRE(d.db->Exec("INSERT INTO t(v) VALUES('" + Blob(i, 500) + "')").ok());
    }
    for (int round = 0; round < 3; ++round) {
      BOOST_REQUIRE(
          d.db->Exec("UPDATE t SET v = v || 'x' WHERE id % 7 = " + std::to_string(round)).ok());
    }
    BOOST_REQUIRE(tx.Commit().ok());
  }
  BOOST_TEST(WalWriteCountsSoFar().in_place - before.in_place > 0u);  // the case under test
  const std::string check = "SELECT COUNT(*) FROM t WHERE length(v) = 500 + (id % 7 < 3)";
  BOOST_TEST(d.Count(check) == 300);
  BOOST_TEST(d.CountAfterCrash(check) == 300);
  sqlite3* raw = nullptr;
  const fs::path copy = d.dir.path / "crashed.db";
  BOOST_REQUIRE(sqlite3_open_v2(copy.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &q, nullptr) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  BOOST_TEST(std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 0))) == "ok");
  sqlite3_finalize(q);
  sqlite3_close(raw);
}

BOOST_AUTO_TEST_CASE(a_rolled_back_transaction_leaves_nothing_and_the_next_commit_recovers) {
  Db d;
  BOOST_REQUIRE(d.db->Exec("PRAGMA cache_size=2").ok());
  d.Insert(100, "randomblob(2000)", /*commit=*/false);  // spills frames, then rolls back
  // The next transactions write their frames where the rolled-back ones were.
  d.Insert(1, "randomblob(10)");
  d.Insert(1, "randomblob(10)");
  BOOST_TEST(d.Count("SELECT COUNT(*) FROM t") == 2);
  BOOST_TEST(d.CountAfterCrash("SELECT COUNT(*) FROM t") == 2);
}

BOOST_AUTO_TEST_CASE(the_log_starting_over_after_a_checkpoint_is_buffered_again) {
  Db d;
  d.Insert(1, "randomblob(3000)");
  BOOST_REQUIRE(d.db->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  const WalWriteCounts before = WalWriteCountsSoFar();
  d.Insert(4, "randomblob(3000)");
  // The new WAL header (SQLite syncs it before any frame follows), then all frames in one write.
  BOOST_TEST(WalWriteCountsSoFar().to_file - before.to_file == 2u);
  BOOST_TEST(d.CountAfterCrash("SELECT COUNT(*) FROM t") == 5);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::store
