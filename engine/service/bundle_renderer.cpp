#include "engine/service/bundle_renderer.h"

#include <algorithm>
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
                                  {})),
      unvalidated_(metrics.GetCounter("fhirbridge_bundles_rendered_unvalidated_total",
                                      "Bundles rendered again at delivery without validating "
                                      "them again: this process validated the same bytes when "
                                      "it mapped the message.",
                                      {})) {}

void BundleRenderer::Remember(std::int64_t message_id, std::string bundle,
                              std::size_t destinations) {
  if (destinations == 0) return;
  std::lock_guard lock(mutex_);
  if (auto old = cache_.find(message_id); old != cache_.end()) Erase(old);  // mapped again
  if (auto old = FindNotHeld(message_id); old != not_held_.end()) old->second = 0;
  if (bundle.size() > capacity_) return NoteNotHeld(message_id, destinations);
  // Dispatchers take rows oldest message first, so when memory runs short the Bundles delivered
  // last give way: newer ones than this are dropped, and if that is not enough this one is not
  // kept. Dropping the oldest instead would throw away, behind a backlog longer than the cache,
  // every Bundle just before its turn and render each message twice.
  while (bytes_ + bundle.size() > capacity_ && !cache_.empty() &&
         std::prev(cache_.end())->first > message_id) {
    const auto newest = std::prev(cache_.end());
    NoteNotHeld(newest->first, newest->second.remaining);
    Erase(newest);
  }
  if (bytes_ + bundle.size() > capacity_) return NoteNotHeld(message_id, destinations);
  bytes_ += bundle.size();
  cache_[message_id] = {std::make_shared<const std::string>(std::move(bundle)), destinations};
}

void BundleRenderer::Done(std::int64_t message_id) {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(message_id);
  if (it != cache_.end()) {
    if (--it->second.remaining == 0) Erase(it);
    return;
  }
  auto known = FindNotHeld(message_id);
  if (known == not_held_.end() || known->second == 0) return;
  --known->second;
  while (!not_held_.empty() && not_held_.front().second == 0) not_held_.pop_front();
}

void BundleRenderer::Forget(std::int64_t message_id) {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(message_id);
  if (it != cache_.end()) Erase(it);
  auto known = FindNotHeld(message_id);
  if (known != not_held_.end()) known->second = 0;
  while (!not_held_.empty() && not_held_.front().second == 0) not_held_.pop_front();
}

void BundleRenderer::Erase(std::map<std::int64_t, Entry>::iterator it) {
  bytes_ -= it->second.bundle->size();
  cache_.erase(it);
}

std::deque<std::pair<std::int64_t, std::size_t>>::iterator BundleRenderer::NotHeldFrom(
    std::int64_t message_id) {
  return std::lower_bound(not_held_.begin(), not_held_.end(), message_id,
                          [](const auto& e, std::int64_t id) { return e.first < id; });
}

std::deque<std::pair<std::int64_t, std::size_t>>::iterator BundleRenderer::FindNotHeld(
    std::int64_t message_id) {
  auto it = NotHeldFrom(message_id);
  return it != not_held_.end() && it->first == message_id ? it : not_held_.end();
}

void BundleRenderer::NoteNotHeld(std::int64_t message_id, std::size_t remaining) {
  if (remaining == 0) return;
  if (auto known = FindNotHeld(message_id); known != not_held_.end()) {
    known->second = remaining;
    return;
  }
  if (not_held_.size() >= kMaxValidatedNotHeld) {
    // Full: make room from rows finished out of order; if none, this one is validated again.
    std::erase_if(not_held_, [](const auto& e) { return e.second == 0; });
    if (not_held_.size() >= kMaxValidatedNotHeld) return;
  }
  if (not_held_.empty() || not_held_.back().first < message_id) {
    not_held_.emplace_back(message_id, remaining);
    return;
  }
  not_held_.insert(NotHeldFrom(message_id), {message_id, remaining});
}

bool BundleRenderer::ValidatedNotHeld(std::int64_t message_id) {
  std::lock_guard lock(mutex_);
  auto known = FindNotHeld(message_id);
  return known != not_held_.end() && known->second > 0;
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
  rendered_.Add();
  if (route->second.unvalidated && !item.bundle_digest.empty() &&
      ValidatedNotHeld(item.message_id)) {
    MapOutput plain = route->second.unvalidated->Map(message->raw);
    if (plain.result == MapOutput::Result::kMapped &&
        store::Sha256(plain.bundle) == item.bundle_digest) {
      unvalidated_.Add();
      item.payload = std::move(plain.bundle);
      return Status::Ok();
    }
    // Not the bytes validated before: rendered and validated below like any other.
  }
  MapOutput mapped = route->second.mapper->Map(message->raw);
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

std::size_t BundleRenderer::validated_not_held() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(not_held_.begin(), not_held_.end(),
                                                [](const auto& e) { return e.second > 0; }));
}

}  // namespace fhirbridge::service
