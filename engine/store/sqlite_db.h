#pragma once

// A thin RAII layer over the sqlite3 C API: the one adapter that talks to SQLite, turning its
// result codes into Status. Not thread-safe: SqliteStore serialises access to a connection.

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fhirbridge/result.h"
#include "fhirbridge/status.h"

namespace fhirbridge::store {

/// Maps an SQLite result code to a Status: SQLITE_FULL → ResourceExhausted (disk full),
/// SQLITE_BUSY/LOCKED/IOERR/CANTOPEN/READONLY → Unavailable (retry later), CORRUPT → DataLoss.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

/// A prepared statement. Bind indexes start at 1, column indexes at 0.
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, std::int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);

  /// Runs one step: true when a row is available, false when done.
  Result<bool> Step();
  /// Runs to completion (a statement without rows), then resets.
  Status Run();
  /// Resets for another execution and clears the bindings.
  void Reset();

  std::int64_t Int(int column) const;
  std::string Text(int column) const;
  std::string_view View(int column) const;  ///< valid until the next Step or Reset
  bool IsNull(int column) const;
  bool empty() const { return stmt_ == nullptr; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

/// How long a connection waits for a lock another connection holds before SQLITE_BUSY.
inline constexpr int kBusyTimeoutMs = 5000;

/// One connection to a database file.
class SqliteDb {
 public:
  /// Opens (creating when missing, unless `create` is false) `path` in WAL mode; `full_sync`
  /// makes every commit fsync.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool full_sync,
                                                bool create = true);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  /// Runs one or more statements without results.
  Status Exec(std::string_view sql);
  /// BEGIN IMMEDIATE, COMMIT and ROLLBACK, prepared once per connection: the committer runs a
  /// pair per group commit, and Exec would parse them anew each time.
  enum class Control { kBegin, kCommit, kRollback };
  Status Run(Control control);
  Result<Statement> Prepare(std::string_view sql);
  std::int64_t LastInsertId() const;
  int Changes() const;
  sqlite3* handle() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::array<Statement, 3> control_;  ///< by Control, prepared on first use
};

/// BEGIN IMMEDIATE … COMMIT, rolled back when not committed.
class Transaction {
 public:
  explicit Transaction(SqliteDb& db) : db_(db) {}
  ~Transaction();
  Status Begin();
  Status Commit();

 private:
  SqliteDb& db_;
  bool open_ = false;
};

}  // namespace fhirbridge::store
