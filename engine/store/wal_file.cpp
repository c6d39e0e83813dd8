#include "engine/store/wal_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "engine/store/sqlite_db.h"
#include "fhirbridge/file_sync.h"

namespace fhirbridge::store {

namespace {

Status Errno(std::string_view what, int error) {
  return Status::Unavailable(std::string(what) + ": " + std::strerror(error));
}

Status ExtendWithZeros(int fd, std::int64_t from, std::int64_t to) {
  const std::string zeros(1 << 20, '\0');
  for (std::int64_t at = from; at < to;) {
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(to - at, 1 << 20));
    const ssize_t written = ::pwrite(fd, zeros.data(), n, at);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return Errno("store: cannot extend the WAL", errno);
    at += written;
  }
  if (::fdatasync(fd) != 0) return Errno("store: fdatasync of the extended WAL failed", errno);
  return Status::Ok();
}

}  // namespace

Status PreallocateWal(SqliteDb& db, const std::string& database_path, std::int64_t bytes) {
  Transaction write_lock(db);
  FHIRBRIDGE_RETURN_IF_ERROR(write_lock.Begin().WithContext("store: preparing the WAL"));
  const std::string wal_path = database_path + "-wal";
  const int fd = ::open(wal_path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Errno("store: cannot open the WAL to prepare it", errno);
  struct stat st {};
  Status status = ::fstat(fd, &st) == 0 ? Status::Ok() : Errno("store: cannot stat the WAL", errno);
  if (status.ok() && st.st_size < bytes) {
    status = ExtendWithZeros(fd, st.st_size, bytes);
    // A disk without room for it keeps what it had (the zeros would only take space).
    if (!status.ok()) (void)::ftruncate(fd, st.st_size);
    if (status.ok()) status = SyncFolderOf(database_path);
  }
  ::close(fd);
  FHIRBRIDGE_RETURN_IF_ERROR(status);
  return write_lock.Commit();
}

WalFile::WalFile(std::string database_path)
    : database_path_(std::move(database_path)), wal_path_(database_path_ + "-wal") {}

WalFile::~WalFile() { CloseFd(); }

void WalFile::CloseFd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status WalFile::Reopen() {
  CloseFd();
  const int fd = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("store: cannot open the WAL to sync it", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return Errno("store: cannot stat the WAL", error);
  }
  // The WAL may be new: its directory entry must reach the disk as surely as its frames.
  if (Status synced = SyncFolderOf(database_path_); !synced.ok()) {
    ::close(fd);
    return synced;
  }
  fd_ = fd;
  device_ = st.st_dev;
  inode_ = st.st_ino;
  return Status::Ok();
}

Status WalFile::Sync() {
  struct stat st {};
  const bool same = fd_ >= 0 && ::stat(wal_path_.c_str(), &st) == 0 && st.st_dev == device_ &&
                    st.st_ino == inode_;
  if (!same) FHIRBRIDGE_RETURN_IF_ERROR(Reopen());
  if (::fdatasync(fd_) != 0) return Errno("store: fdatasync of the WAL failed", errno);
  return Status::Ok();
}

}  // namespace fhirbridge::store
