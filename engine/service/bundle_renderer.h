#pragma once

// Mapped Bundles are not stored (docs/store.md, "Bundles are rendered, not stored"): a message
// keeps its raw bytes and the SHA-256 of the Bundle its mapping produced, and a destination gets
// the Bundle rendered again from the raw bytes, which gives the same bytes because mapping is
// deterministic. Writing a 10–25 KB Bundle per message was most of the store's write volume.
//
// Recently mapped Bundles stay in memory (bounded by bytes, newest first out), so in the steady
// state nothing is mapped twice; after a restart, or behind a long backlog, rows are rendered
// from the store. A rendering whose digest differs from the recorded one (the mapping or its
// configuration changed since) has been validated again by the source's mapper and is delivered
// as it is now, with a warning; one that no longer maps is refused for that row.
//
// A Bundle that this process mapped (and so validated, with the configuration it still runs)
// but did not keep in memory is rendered again without validating: mapping is deterministic, and
// a rendering with the recorded digest is byte for byte the Bundle validated then. Validation is
// most of the cost of mapping, so a backlog longer than the cache is not validated twice. After a
// restart the configuration may differ, and every rendering is validated again.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/service/mapping_worker.h"
#include "engine/service/metrics.h"
#include "fhirbridge/store.h"

namespace fhirbridge::service {

class BundleRenderer {
 public:
  BundleRenderer(MessageStore& store, std::map<std::string, SourceRoute, std::less<>> routes,
                 Metrics& metrics, std::size_t cache_bytes = 32u << 20);

  /// Keeps the Bundle of a message whose mapping was just committed, until `destinations`
  /// rows of it are finished (Done). When memory runs short, the newest messages' Bundles (the
  /// last to be delivered) give way, this one included.
  void Remember(std::int64_t message_id, std::string bundle, std::size_t destinations);

  /// One row of the message was delivered or dead-lettered: forget its Bundle after the last.
  void Done(std::int64_t message_id);

  /// Drops a Bundle whose mapping was not committed after all.
  void Forget(std::int64_t message_id);

  /// Fills `item.payload` (rows of stores older than schema version 4 already carry it). An
  /// error means this row cannot be delivered as mapped (the message no longer maps, or its
  /// payload is gone): the dispatcher dead-letters the row with it.
  Status Render(OutboxItem& item);

  /// Bundles held in memory, and their bytes (tests and /metrics).
  std::size_t cached() const;
  std::size_t cached_bytes() const;
  /// Messages mapped by this process whose Bundles are not held, with rows not finished (tests).
  std::size_t validated_not_held() const;

  /// At most this many messages are remembered as validated but not held (16 bytes each);
  /// beyond, their renderings are validated again.
  static constexpr std::size_t kMaxValidatedNotHeld = std::size_t{1} << 17;

 private:
  bool FromCache(OutboxItem& item);
  /// True if this process validated the message's mapping and did not keep the Bundle.
  bool ValidatedNotHeld(std::int64_t message_id);
  void NoteNotHeld(std::int64_t message_id, std::size_t remaining);
  /// The first entry of not_held_ not before `message_id`.
  std::deque<std::pair<std::int64_t, std::size_t>>::iterator NotHeldFrom(std::int64_t message_id);
  /// The entry of `message_id` in not_held_, or not_held_.end().
  std::deque<std::pair<std::int64_t, std::size_t>>::iterator FindNotHeld(std::int64_t message_id);

  MessageStore& store_;
  std::map<std::string, SourceRoute, std::less<>> routes_;
  std::size_t capacity_;
  Counter& rendered_;
  Counter& changed_;
  Counter& unvalidated_;

  mutable std::mutex mutex_;
  struct Entry {
    std::shared_ptr<const std::string> bundle;
    std::size_t remaining = 0;  ///< rows not finished yet
  };
  void Erase(std::map<std::int64_t, Entry>::iterator it);

  /// By message id: the newest messages give way when memory runs short.
  std::map<std::int64_t, Entry> cache_;
  std::size_t bytes_ = 0;
  /// (message id, rows not finished) of Bundles validated by this process and not held, by id.
  /// Mapping goes in id order, so entries are mostly appended; finished ones (0 rows left) are
  /// dropped once they reach the front, and dispatchers finish the oldest first.
  std::deque<std::pair<std::int64_t, std::size_t>> not_held_;
};

}  // namespace fhirbridge::service
