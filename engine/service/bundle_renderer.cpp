#include "engine/service/bundle_renderer.h"

#include <iterator>

#include "engine/store/audit_chain.h"
#include "fhirbridge/log.h"

namespace fhirbridge::service {

BundleRenderer::BundleRenderer(MessageStore& store,
                               std::map<std::string, SourceRoute, std::less<>> routes,
                               Metrics& metrics, std::size_t cache_bytes)
    : store_(store),
      routes_(std::move(routes)),
      capacity_(cache_bytes),
      rendered_(metrics.GetCounter("fhirbridge_bundles_rendered_total",
                                   "Bundles rendered again from the stored raw message at "
                                   "delivery (not found in memory).",
                                   {})),
      changed_(metrics.GetCounter("fhirbridge_bundles_changed_total",
                                  "Bundles rendered at delivery that differ from what mapping "
                                  "produced (the mapping or its configuration changed since).",
                                  {})) {}

void BundleRenderer::Remember(std::int64_t message_id, std::string bundle,
                              std::size_t destinations) {
  if (destinations == 0 || bundle.size() > capacity_) return;
  std::lock_guard lock(mutex_);
  if (auto old = cache_.find(message_id); old != cache_.end()) Erase(old);  // mapped again
  // Dispatchers take rows oldest message first, so when memory runs short the Bundles delivered
  // last give way: newer ones than this are dropped, and if that is not enough this one is not
  // kept. Dropping the oldest instead would throw away, behind a backlog longer than the cache,
  // every Bundle just before its turn and render each message twice.
  while (bytes_ + bundle.size() > capacity_ && !cache_.empty() &&
         std::prev(cache_.end())->first > message_id) {
    Erase(std::prev(cache_.end()));
  }
  if (bytes_ + bundle.size() > capacity_) return;
  bytes_ += bundle.size();
  cache_[message_id] = {std::make_shared<const std::string>(std::move(bundle)), destinations};
}

void BundleRenderer::Done(std::int64_t message_id) {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(message_id);
  if (it == cache_.end()) return;
  if (--it->second.remaining == 0) Erase(it);
}

void BundleRenderer::Forget(std::int64_t message_id) {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(message_id);
  if (it != cache_.end()) Erase(it);
}

void BundleRenderer::Erase(std::map<std::int64_t, Entry>::iterator it) {
  bytes_ -= it->second.bundle->size();
  cache_.erase(it);
}

bool BundleRenderer::FromCache(OutboxItem& item) {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(item.message_id);
  if (it == cache_.end()) return false;
  item.payload = *it->second.bundle;
  return true;
}

Status BundleRenderer::Render(OutboxItem& item) {
  if (!item.payload.empty() || FromCache(item)) return Status::Ok();
  Result<StoredMessage> message = store_.GetMessage(item.message_id);
  if (!message.ok()) return message.status();
  auto route = routes_.find(message->source);
  if (route == routes_.end() || !route->second.mapper) {
    return Status::FailedPrecondition("source \"" + message->source +
                                      "\" is no longer configured with a mapper: the Bundle of "
                                      "message " +
                                      std::to_string(item.message_id) + " cannot be rendered");
  }
  MapOutput mapped = route->second.mapper->Map(message->raw);
  rendered_.Add();
  if (mapped.result != MapOutput::Result::kMapped) {
    return Status::FailedPrecondition(
        "message " + std::to_string(item.message_id) +
        " no longer maps to a valid Bundle with the running configuration (" +
        std::to_string(mapped.issues.size()) + " issues); reprocess it to see them");
  }
  if (!item.bundle_digest.empty() && store::Sha256(mapped.bundle) != item.bundle_digest) {
    changed_.Add();
    Logger::Global().Warn("delivery.bundle_changed",
                          {LogField::Source(message->source),
                           LogField::Id("message_id", std::to_string(item.message_id)),
                           LogField::Id("control_id", message->control_id)});
  }
  item.payload = std::move(mapped.bundle);
  return Status::Ok();
}

std::size_t BundleRenderer::cached() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

std::size_t BundleRenderer::cached_bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace fhirbridge::service
