#include "engine/service/dispatcher.h"

#include <algorithm>
#include <set>

#include "engine/service/worker_priority.h"
#include "fhirbridge/log.h"
#include "fhirbridge/thread_name.h"

namespace fhirbridge::service {

std::int64_t RetryPolicy::Delay(std::int64_t attempts, std::int64_t retry_after_us,
                                std::mt19937_64& rng) const {
  double delay = static_cast<double>(initial_us);
  for (std::int64_t i = 1; i < attempts && delay < static_cast<double>(max_us); ++i) {
    delay *= multiplier;
  }
  delay = std::min(delay, static_cast<double>(max_us));
  std::uniform_real_distribution<double> spread(1.0 - jitter, 1.0 + jitter);
  delay *= spread(rng);
  return std::max(static_cast<std::int64_t>(delay), retry_after_us);
}

Dispatcher::Dispatcher(std::string destination, MessageStore& store, std::unique_ptr<Sink> sink,
                       Metrics& metrics, DispatcherOptions options, Clock clock,
                       BundleRenderer* renderer)
    : destination_(std::move(destination)),
      store_(store),
      sink_(std::move(sink)),
      options_(options),
      clock_(std::move(clock)),
      renderer_(renderer),
      rng_(std::random_device{}()),
      delivered_(metrics.GetCounter("fhirbridge_deliveries_total",
                                    "Outbox rows delivered, retried or dead-lettered.",
                                    {{"destination", destination_}, {"result", "delivered"}})),
      retried_(metrics.GetCounter("fhirbridge_deliveries_total",
                                  "Outbox rows delivered, retried or dead-lettered.",
                                  {{"destination", destination_}, {"result", "retry"}})),
      dead_(metrics.GetCounter("fhirbridge_deliveries_total",
                               "Outbox rows delivered, retried or dead-lettered.",
                               {{"destination", destination_}, {"result", "dead_letter"}})),
      trips_(metrics.GetCounter("fhirbridge_circuit_trips_total",
                                "Times a destination's circuit breaker opened.",
                                {{"destination", destination_}})) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  if (thread_.joinable()) return;
  signal_.Restart();
  thread_ = std::thread([this] { Loop(); });
}

void Dispatcher::Stop() {
  signal_.Stop();
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::Wake() { signal_.Announce(); }

void Dispatcher::Loop() {
  NameThisThread("fb-deliver");
  LowerPipelineThreadPriority();
  while (signal_.BeginRound()) {
    if (RunOnce() > 0) continue;  // there may be more right away
    signal_.Wait(std::chrono::microseconds(options_.idle_poll_us),
                 std::chrono::microseconds(options_.linger_us));
  }
}

std::vector<OutboxItem> Dispatcher::NextBatch(std::int64_t now, bool& store_failed) {
  std::vector<OutboxItem> batch;
  std::set<std::string> waiting_lanes;  // lanes whose head row is not due yet
  std::int64_t after_id = 0;
  for (std::size_t page = 0; page < options_.max_pages; ++page) {
    Result<std::vector<OutboxItem>> window =
        store_.PendingDeliveries(destination_, after_id, options_.window);
    if (!window.ok()) {
      store_failed = true;
      Logger::Global().Error("delivery.store_failed",
                             {LogField::Source(destination_),
                              LogField::Code("status", CodeName(window.status().code()))});
      return {};
    }
    for (OutboxItem& item : *window) {
      if (waiting_lanes.count(item.lane) != 0) continue;
      if (item.next_attempt_us > now) {
        waiting_lanes.insert(item.lane);
        continue;
      }
      batch.push_back(std::move(item));
      if (batch.size() >= options_.max_batch) return batch;
    }
    if (!batch.empty() || window->size() < options_.window) return batch;
    after_id = window->back().id;  // every row of this window waits: look further
  }
  return batch;
}

DestinationHealth Dispatcher::health() const {
  std::lock_guard lock(health_mutex_);
  return health_;
}

bool Dispatcher::MayDeliver(std::int64_t now, bool& probe) {
  std::lock_guard lock(health_mutex_);
  probe = false;
  if (!health_.circuit_open) return true;
  if (now < next_probe_us_) return false;
  next_probe_us_ = now + options_.breaker.probe_interval_us;
  probe = true;
  return true;
}

void Dispatcher::AfterDelivery(const SinkResult& result, std::int64_t now) {
  bool any_delivered = false;
  bool any_retry = false;
  const DeliveryOutcome* failure = nullptr;
  for (const DeliveryOutcome& outcome : result.outcomes) {
    any_delivered |= outcome.kind == DeliveryOutcome::Kind::kDelivered;
    if (outcome.kind == DeliveryOutcome::Kind::kRetry) {
      any_retry = true;
      failure = &outcome;
    }
  }
  std::lock_guard lock(health_mutex_);
  if (failure != nullptr) health_.last_error = failure->reason;
  // A server that answers (delivered, or refused for good) is up; only "try later" counts.
  if (any_delivered || !any_retry) {
    if (health_.circuit_open) {
      Logger::Global().Info("delivery.circuit_closed", {LogField::Source(destination_)});
    }
    consecutive_failures_ = 0;
    health_.circuit_open = false;
    return;
  }
  ++consecutive_failures_;
  if (!health_.circuit_open && consecutive_failures_ >= options_.breaker.failures) {
    health_.circuit_open = true;
    health_.open_since_us = now;
    next_probe_us_ = now + options_.breaker.probe_interval_us;
    trips_.Add();
    Logger::Global().Error(
        "delivery.circuit_open",
        {LogField::Source(destination_), LogField::Count("failures", consecutive_failures_),
         LogField::Duration("probe_every",
                            std::chrono::microseconds(options_.breaker.probe_interval_us))});
  }
}

std::size_t Dispatcher::RunOnce() {
  const std::int64_t now = clock_();
  bool probe = false;
  if (!MayDeliver(now, probe)) return 0;
  bool store_failed = false;
  std::vector<OutboxItem> batch = NextBatch(now, store_failed);
  if (batch.empty()) return 0;
  if (probe) batch.resize(1);  // an open circuit is probed with one row, not a whole batch
  const std::size_t refused = RenderPayloads(batch, now);
  if (batch.empty()) return refused;
  SinkResult result = sink_->Deliver(batch);
  if (result.outcomes.size() != batch.size()) {
    Logger::Global().Error("delivery.sink_broken", {LogField::Source(destination_)});
    return 0;
  }
  AfterDelivery(result, now);
  return refused + Record(batch, result, now);
}

std::size_t Dispatcher::RenderPayloads(std::vector<OutboxItem>& batch, std::int64_t now) {
  if (renderer_ == nullptr) return 0;
  std::size_t refused = 0;
  std::size_t kept = 0;
  std::set<std::string> held_lanes;  // a row of the lane stays pending: later ones wait too
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (held_lanes.count(batch[i].lane) != 0) continue;
    const Status status = renderer_->Render(batch[i]);
    if (status.ok()) {
      if (kept != i) batch[kept] = std::move(batch[i]);
      ++kept;
      continue;
    }
    Logger::Global().Error(
        "delivery.render_failed",
        {LogField::Source(destination_), LogField::Id("outbox_id", std::to_string(batch[i].id)),
         LogField::Code("status", CodeName(status.code()))});
    const Status::Code code = status.code();
    if (code != Status::Code::kNotFound && code != Status::Code::kFailedPrecondition &&
        code != Status::Code::kDataLoss && code != Status::Code::kInvalidArgument) {
      held_lanes.insert(batch[i].lane);  // the store could not be read now: next round
      continue;
    }
    // Permanent for this row: later rows of its lane go on, as after a 4xx.
    const std::string reason = "render: " + status.message();
    const std::string outcome = RenderOperationOutcome({DataIssue::Error(
        code == Status::Code::kNotFound ? "not-found" : "processing", "", reason)});
    if (store_.RecordDeadLetter(batch[i].id, now, reason, 0, outcome).ok()) ++refused;
    dead_.Add();
  }
  batch.resize(kept);
  return refused;
}

std::size_t Dispatcher::Record(const std::vector<OutboxItem>& batch, SinkResult& result,
                               std::int64_t now) {
  std::vector<DeliveredRow> delivered;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    DeliveryOutcome& outcome = result.outcomes[i];
    if (outcome.kind == DeliveryOutcome::Kind::kDelivered) {
      delivered.push_back({batch[i].id, outcome.http_status, std::move(outcome.server_ids)});
    }
  }
  if (renderer_ != nullptr) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (result.outcomes[i].kind != DeliveryOutcome::Kind::kRetry) {
        renderer_->Done(batch[i].message_id);
      }
    }
  }
  if (!delivered.empty() || result.checkpoint) {
    Status status = store_.RecordDelivered(destination_, delivered, clock_(), result.checkpoint);
    if (!status.ok()) {
      sink_->CommitFailed();
      Logger::Global().Error(
          "delivery.store_failed",
          {LogField::Source(destination_), LogField::Code("status", CodeName(status.code()))});
      return 0;
    }
    sink_->Committed();
    delivered_.Add(static_cast<std::int64_t>(delivered.size()));
  }
  std::size_t recorded = delivered.size();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const OutboxItem& item = batch[i];
    const DeliveryOutcome& outcome = result.outcomes[i];
    Status status;
    if (outcome.kind == DeliveryOutcome::Kind::kRetry) {
      const std::int64_t wait =
          options_.retry.Delay(item.attempts + 1, outcome.retry_after_us, rng_);
      status = store_.RecordRetry(item.id, now + wait, outcome.reason);
      retried_.Add();
      Logger::Global().Warn(
          "delivery.retry",
          {LogField::Source(destination_), LogField::Id("outbox_id", std::to_string(item.id)),
           LogField::Count("attempt", item.attempts + 1),
           LogField::Count("http_status", outcome.http_status),
           LogField::Duration("wait", std::chrono::microseconds(wait))});
    } else if (outcome.kind == DeliveryOutcome::Kind::kPermanent) {
      status = store_.RecordDeadLetter(item.id, now, outcome.reason, outcome.http_status,
                                       outcome.outcome);
      dead_.Add();
      Logger::Global().Error(
          "delivery.dead_letter",
          {LogField::Source(destination_), LogField::Id("outbox_id", std::to_string(item.id)),
           LogField::Count("http_status", outcome.http_status)});
    } else {
      continue;
    }
    if (status.ok()) ++recorded;
  }
  return recorded;
}

}  // namespace fhirbridge::service
