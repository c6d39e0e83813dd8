#pragma once

// The write-ahead log of an SQLite database, opened only to make it durable.
//
// The store commits with synchronous=NORMAL: a commit writes its frames into the WAL and
// returns without waiting for the disk. A separate thread then calls Sync(): one fdatasync of the
// WAL makes every commit that finished before the call durable at once (fsync works on the file,
// not on the descriptor it is called through), while the writer already commits the next batch.
// SQLite's own recovery keeps the file consistent whatever a power cut leaves of the frames
// written after the last sync (each frame carries a checksum and the WAL's salt).

#include <sys/types.h>

#include <string>

#include "fhirbridge/status.h"

namespace fhirbridge::store {

class SqliteDb;

/// Extends the WAL of `db` (open, in WAL mode) with zeros to `bytes` when it is shorter, and
/// syncs it. A commit that writes past the end of the file makes ext4 allocate blocks and log
/// the new size in its journal; such a write can wait for a journal commit in progress, and its
/// fdatasync must make one (milliseconds instead of a fraction of one). Written in advance, the
/// WAL's blocks are overwritten in place. SQLite reads frames only up to the first one whose
/// salt and checksum fail, so zeros past the last frame are never taken for data; the write lock
/// is held meanwhile, so that no other connection appends while the file is extended. On failure
/// (a disk without room for it) the file is cut back to its old size.
Status PreallocateWal(SqliteDb& db, const std::string& database_path, std::int64_t bytes);

class WalFile {
 public:
  /// `database_path` is the database file; its WAL is `database_path + "-wal"`.
  explicit WalFile(std::string database_path);
  ~WalFile();
  WalFile(const WalFile&) = delete;
  WalFile& operator=(const WalFile&) = delete;

  /// Makes everything written to the WAL so far durable. Opens the file on first use, and again
  /// whenever the path names another file than the one held (SQLite deletes the WAL when the
  /// last connection closes); after each open, the folder is synced too so that the file's name
  /// survives a power cut with its content.
  Status Sync();

 private:
  Status Reopen();
  void CloseFd();

  std::string database_path_;
  std::string wal_path_;
  int fd_ = -1;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

}  // namespace fhirbridge::store
