#include "engine/store/sqlite_db.h"

#include <mutex>
#include <utility>

#include "engine/store/wal_write_vfs.h"

namespace fhirbridge::store {

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return Status::Ok();
    case SQLITE_FULL:
      return Status::ResourceExhausted(message + " (disk full?)");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      return Status::Unavailable(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::DataLoss(message);
    case SQLITE_CONSTRAINT:
      return Status::AlreadyExists(message);
    default:
      return Status::Internal(message);
  }
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement& Statement::Bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status status = SqliteStatus(db_, rc, "sqlite step");
  sqlite3_reset(stmt_);
  return status;
}

Status Statement::Run() {
  Result<bool> row = Step();
  Reset();
  return row.status();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const { return std::string(View(column)); }

std::string_view Statement::View(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool full_sync,
                                                 bool create) {
  // SQLite keeps memory statistics by default: a process-wide mutex taken on every allocation
  // of every connection (the committer, the readers and the checkpointer contend for it), for
  // figures nothing here reads. Off, once, before the library initialises; a library already
  // initialised by someone else just keeps them (SQLITE_MISUSE is ignored).
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  // Through the VFS that writes each commit's WAL frames in one call (wal_write_vfs.h).
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, WalWriteVfsName());
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  if (rc != SQLITE_OK) return SqliteStatus(raw, rc, "cannot open store " + path);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  sqlite3_extended_result_codes(raw, 1);
  // WAL: readers never block the writer; FULL makes each commit durable (fsync of the WAL)
  // before it returns, which is what "no ACK before durability" needs.
  FHIRBRIDGE_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  FHIRBRIDGE_RETURN_IF_ERROR(
      db->Exec(full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  FHIRBRIDGE_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  return db;
}

SqliteDb::~SqliteDb() {
  for (Statement& statement : control_) statement = Statement();  // finalized before the close
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status SqliteDb::Run(Control control) {
  static constexpr std::array<std::string_view, 3> kSql = {"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};
  const auto index = static_cast<std::size_t>(control);
  Statement& statement = control_[index];
  if (statement.empty()) {
    Result<Statement> prepared = Prepare(kSql[index]);
    if (!prepared.ok()) return prepared.status();
    statement = std::move(prepared).value();
  }
  return statement.Run();
}

Status SqliteDb::Exec(std::string_view sql) {
  char* error = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  Status status = SqliteStatus(db_, rc, "sqlite exec");
  sqlite3_free(error);
  return status;
}

Result<Statement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "sqlite prepare");
  return Statement(db_, stmt);
}

std::int64_t SqliteDb::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }

int SqliteDb::Changes() const { return sqlite3_changes(db_); }

Transaction::~Transaction() {
  if (open_) (void)db_.Run(SqliteDb::Control::kRollback);
}

Status Transaction::Begin() {
  FHIRBRIDGE_RETURN_IF_ERROR(db_.Run(SqliteDb::Control::kBegin));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  Status status = db_.Run(SqliteDb::Control::kCommit);
  if (status.ok()) open_ = false;
  return status;
}

}  // namespace fhirbridge::store
