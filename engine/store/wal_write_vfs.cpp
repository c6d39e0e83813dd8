#include "engine/store/wal_write_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace fhirbridge::store {

namespace {

constexpr char kName[] = "fhirbridge-wal";
constexpr int kFrameHeaderBytes = 24;  // WAL frame header (SQLite file format §4.1)
// Past this, buffered frames are written before more are taken (a large transaction). The
// default VFS writes at most 128 KiB - 1 bytes per call (its seekAndWriteFd masks the length with
// 0x1ffff) and reports a longer write as a full disk; 120 KiB is 29 frames of 4 KiB pages.
constexpr std::size_t kMaxBuffered = std::size_t{120} << 10;

std::atomic<std::uint64_t> from_sqlite{0};
std::atomic<std::uint64_t> to_file{0};
std::atomic<std::uint64_t> in_place{0};

sqlite3_vfs* base = nullptr;  // the default VFS this one wraps
sqlite3_vfs vfs;              // this one

// The frames appended since the last write to the file.
struct Pending {
  std::vector<char> bytes;
  sqlite3_int64 start = 0;  // file offset of bytes[0]
  // End of the furthest byte SQLite has written so far (buffered or not). A write that starts
  // here is an append; one that starts before it rewrites the file in place.
  sqlite3_int64 append_end = 0;
  bool commit_page_next = false;  // the last append was the header of a commit frame
};

// A WAL file: this header, then the default VFS's file (at kRealOffset).
struct WalFile {
  sqlite3_file file;  // pMethods = &wal_methods
  Pending* pending;
};
constexpr std::size_t kRealOffset = (sizeof(WalFile) + 15) / 16 * 16;

sqlite3_file* Real(sqlite3_file* f) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kRealOffset);
}
Pending& PendingOf(sqlite3_file* f) { return *reinterpret_cast<WalFile*>(f)->pending; }

int Flush(sqlite3_file* f) {
  Pending& p = PendingOf(f);
  p.commit_page_next = false;
  if (p.bytes.empty()) return SQLITE_OK;
  sqlite3_file* real = Real(f);
  const int rc =
      real->pMethods->xWrite(real, p.bytes.data(), static_cast<int>(p.bytes.size()), p.start);
  to_file.fetch_add(1, std::memory_order_relaxed);
  // On failure too: SQLite rolls the transaction back and writes its frames again.
  p.bytes.clear();
  return rc;
}

int WalWrite(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  from_sqlite.fetch_add(1, std::memory_order_relaxed);
  Pending& p = PendingOf(f);
  const bool commit_page = p.commit_page_next;
  // A write at the start is the WAL header of a log starting over: appends begin again there,
  // after anything still buffered. (Buffered bytes always end at append_end.)
  if (offset == 0) {
    if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
    p.append_end = 0;
  }
  const bool append = offset == p.append_end;
  const bool fits = p.bytes.size() + static_cast<std::size_t>(amount) <= kMaxBuffered;
  if (!append || !fits) {
    if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (offset + amount > p.append_end) p.append_end = offset + amount;
  if (!append) {
    // Not an append (a frame written again, a checksum rewritten, the first write to a log
    // opened with frames in it): at once, after what was buffered.
    sqlite3_file* real = Real(f);
    to_file.fetch_add(1, std::memory_order_relaxed);
    in_place.fetch_add(1, std::memory_order_relaxed);
    return real->pMethods->xWrite(real, data, amount, offset);
  }
  if (p.bytes.empty()) p.start = offset;
  const char* bytes = static_cast<const char*>(data);
  try {
    p.bytes.insert(p.bytes.end(), bytes, bytes + amount);
  } catch (const std::bad_alloc&) {
    return SQLITE_IOERR_NOMEM;
  }
  p.commit_page_next = false;
  if (commit_page) return Flush(f);
  // A frame header whose "database size after commit" field is set ends a transaction: the
  // page written next completes it, and the whole commit goes to the file then.
  if (amount == kFrameHeaderBytes) {
    const auto* h = reinterpret_cast<const unsigned char*>(bytes);
    p.commit_page_next = (h[4] | h[5] | h[6] | h[7]) != 0;
  }
  return SQLITE_OK;
}

int WalClose(sqlite3_file* f) {
  const int flushed = Flush(f);
  sqlite3_file* real = Real(f);
  const int closed = real->pMethods != nullptr ? real->pMethods->xClose(real) : SQLITE_OK;
  delete reinterpret_cast<WalFile*>(f)->pending;
  reinterpret_cast<WalFile*>(f)->pending = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}

int WalRead(sqlite3_file* f, void* data, int amount, sqlite3_int64 offset) {
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xRead(Real(f), data, amount, offset);
}

int WalTruncate(sqlite3_file* f, sqlite3_int64 size) {
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  Pending& p = PendingOf(f);
  if (p.append_end > size) p.append_end = size;
  return Real(f)->pMethods->xTruncate(Real(f), size);
}

int WalSync(sqlite3_file* f, int flags) {
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xSync(Real(f), flags);
}

int WalFileSize(sqlite3_file* f, sqlite3_int64* size) {
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xFileSize(Real(f), size);
}

int WalLock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int WalUnlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int WalCheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}

int WalFileControl(sqlite3_file* f, int op, void* arg) {
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}

int WalSectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int WalDeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}

// Shared memory and memory mapping belong to the database file, not to its WAL; forwarded for
// completeness, after the buffer.
int WalShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int WalShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void WalShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int WalShmUnmap(sqlite3_file* f, int delete_flag) {
  return Real(f)->pMethods->xShmUnmap(Real(f), delete_flag);
}
int WalFetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xFetch(Real(f), offset, amount, out);
}
int WalUnfetch(sqlite3_file* f, sqlite3_int64 offset, void* page) {
  return Real(f)->pMethods->xUnfetch(Real(f), offset, page);
}

const sqlite3_io_methods wal_methods = {3,
                                        WalClose,
                                        WalRead,
                                        WalWrite,
                                        WalTruncate,
                                        WalSync,
                                        WalFileSize,
                                        WalLock,
                                        WalUnlock,
                                        WalCheckReservedLock,
                                        WalFileControl,
                                        WalSectorSize,
                                        WalDeviceCharacteristics,
                                        WalShmMap,
                                        WalShmLock,
                                        WalShmBarrier,
                                        WalShmUnmap,
                                        WalFetch,
                                        WalUnfetch};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) return base->xOpen(base, name, f, flags, out_flags);
  auto* wal = reinterpret_cast<WalFile*>(f);
  wal->file.pMethods = nullptr;
  wal->pending = nullptr;
  sqlite3_file* real = Real(f);
  std::memset(real, 0, static_cast<std::size_t>(base->szOsFile));
  const int rc = base->xOpen(base, name, real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  wal->pending = new (std::nothrow) Pending;
  if (wal->pending == nullptr) {
    if (real->pMethods != nullptr) real->pMethods->xClose(real);
    return SQLITE_NOMEM;
  }
  wal->file.pMethods = &wal_methods;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return base->xDelete(base, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return base->xAccess(base, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return base->xFullPathname(base, name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return base->xDlOpen(base, name); }
void DlError(sqlite3_vfs*, int size, char* out) { base->xDlError(base, size, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return base->xDlSym(base, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { base->xDlClose(base, handle); }
int Randomness(sqlite3_vfs*, int size, char* out) { return base->xRandomness(base, size, out); }
int Sleep(sqlite3_vfs*, int us) { return base->xSleep(base, us); }
int CurrentTime(sqlite3_vfs*, double* out) { return base->xCurrentTime(base, out); }
int GetLastError(sqlite3_vfs*, int size, char* out) { return base->xGetLastError(base, size, out); }
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return base->xCurrentTimeInt64(base, out);
}

}  // namespace

const char* WalWriteVfsName() {
  static std::once_flag registered;
  std::call_once(registered, [] {
    base = sqlite3_vfs_find(nullptr);
    vfs = sqlite3_vfs{};
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(kRealOffset) + base->szOsFile;
    vfs.mxPathname = base->mxPathname;
    vfs.zName = kName;
    vfs.xOpen = Open;
    vfs.xDelete = Delete;
    vfs.xAccess = Access;
    vfs.xFullPathname = FullPathname;
    vfs.xDlOpen = DlOpen;
    vfs.xDlError = DlError;
    vfs.xDlSym = DlSym;
    vfs.xDlClose = DlClose;
    vfs.xRandomness = Randomness;
    vfs.xSleep = Sleep;
    vfs.xCurrentTime = CurrentTime;
    vfs.xGetLastError = GetLastError;
    vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
  });
  return kName;
}

WalWriteCounts WalWriteCountsSoFar() {
  return {from_sqlite.load(std::memory_order_relaxed), to_file.load(std::memory_order_relaxed),
          in_place.load(std::memory_order_relaxed)};
}

}  // namespace fhirbridge::store
