#pragma once

// An SQLite VFS that hands each commit's WAL frames to the kernel in one write.
//
// SQLite writes a WAL frame as two pwrite calls, its 24-byte header and then its page, so a
// commit of ten pages costs twenty system calls. Each costs ~2 µs here whatever its size, while
// one 41 KB pwrite costs ~5 µs (measured: 45 against 5 µs per ten-frame commit into a
// preallocated file), and the store's committer spends most of its time in them. This VFS wraps
// the default one; for WAL files only, it keeps appended frames in memory and writes them in one
// call as soon as the commit frame (the one whose header carries the database size) is complete.
// That happens inside SQLite's commit, before the commit is published in the WAL index, so
// readers, the checkpointer and the syncer's fdatasync (another descriptor) see what they saw
// before. Everything else goes straight through, after the buffer: writes that are not appends
// (SQLite rewriting a frame or its checksum in place), reads, syncs, size queries, truncation,
// file controls and close. A frame set that does not end in a commit (a spill of a large
// transaction) stays buffered until the commit or any of those; no other connection can see it
// before then. Other files (the database, its shared memory) are the default VFS's own.

#include <cstdint>

namespace fhirbridge::store {

/// The VFS's name, registered (not as the default) on the first call. SqliteDb opens every
/// store connection with it.
const char* WalWriteVfsName();

/// Process-wide counts since start: write calls SQLite made on WAL files, the write calls that
/// reached the file, and how many of these rewrote bytes in place. For tests and benchmarks.
struct WalWriteCounts {
  std::uint64_t from_sqlite = 0;
  std::uint64_t to_file = 0;
  std::uint64_t in_place = 0;
};
WalWriteCounts WalWriteCountsSoFar();

}  // namespace fhirbridge::store
