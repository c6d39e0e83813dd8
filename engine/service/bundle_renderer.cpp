#include "engine/service/bundle_renderer.h"

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
  auto shared = std::make_shared<const std::string>(std::move(bundle));
  std::lock_guard lock(mutex_);
  auto [it, inserted] = cache_.try_emplace(message_id);
  if (!inserted) bytes_ -= it->second.bundle->size();  // mapped again (dead-letter reprocessing)
  it->second = {shared, destinations};
  bytes_ += shared->size();
  while (bytes_ > capacity_) Erase(cache_.begin());
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
