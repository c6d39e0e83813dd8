#pragma once

// One delivery worker per destination: takes that destination's outbox rows in order, hands
// them to its Sink, and records each outcome in the store. Lanes (one per patient, or device when
// no patient is known) keep their order: a row waits while an earlier row of its lane is pending;
// other lanes go on (ARCHITECTURE.md, Delivery guarantees 4 and 5).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "engine/service/bundle_renderer.h"
#include "engine/service/metrics.h"
#include "engine/service/work_signal.h"
#include "fhirbridge/sink.h"
#include "fhirbridge/store.h"

namespace fhirbridge::service {

/// Exponential backoff with jitter, honouring the server's Retry-After when it asks for longer.
struct RetryPolicy {
  std::int64_t initial_us = 1'000'000;  ///< wait after the first failure
  std::int64_t max_us = 300'000'000;    ///< the wait never grows past this
  double multiplier = 2.0;
  double jitter = 0.2;  ///< ± this fraction, so that lanes do not retry in lockstep

  /// The wait before attempt `attempts + 1` (attempts ≥ 1 failed so far).
  std::int64_t Delay(std::int64_t attempts, std::int64_t retry_after_us,
                     std::mt19937_64& rng) const;
};

/// A destination that keeps failing is left alone for a while instead of being hammered: after
/// `failures` deliveries in a row that all had to be retried, the circuit opens; while open, one
/// row is tried every `probe_interval_us`; a delivery that succeeds closes it.
struct CircuitBreakerPolicy {
  int failures = 5;
  std::int64_t probe_interval_us = 10'000'000;
};

struct DispatcherOptions {
  std::size_t window = 256;     ///< outbox rows read per query (bounds memory per destination)
  std::size_t max_batch = 128;  ///< rows handed to the sink at once
  std::size_t max_pages = 16;   ///< windows scanned past lanes that all wait for a retry
  std::int64_t idle_poll_us = 500'000;  ///< re-check interval without a wake-up
  /// After a wake-up while idle, rows are gathered this long so that they share a delivery
  /// and a commit (a commit rewrites whole pages however few rows it marks).
  std::int64_t linger_us = 5'000;
  RetryPolicy retry;
  CircuitBreakerPolicy breaker;
  /// Alert (metric and log) when the oldest row has waited longer than this; 0 = never.
  std::int64_t alert_queue_age_us = 900'000'000;
};

/// What /readyz and /metrics show of one destination.
struct DestinationHealth {
  bool circuit_open = false;
  std::int64_t open_since_us = 0;
  std::string last_error;  ///< PHI-free reason of the last failed attempt ("HTTP 503")
};

class Dispatcher {
 public:
  using Clock = std::function<std::int64_t()>;  ///< microseconds since the epoch

  /// `renderer` renders the Bundles of rows (null: rows must carry their payload).
  Dispatcher(std::string destination, MessageStore& store, std::unique_ptr<Sink> sink,
             Metrics& metrics, DispatcherOptions options, Clock clock,
             BundleRenderer* renderer = nullptr);
  ~Dispatcher();

  void Start();
  /// Finishes the batch in hand, then stops. Pending rows stay in the store.
  void Stop();
  /// New rows may be pending: look now instead of at the next poll.
  void Wake();

  /// One pass: delivers what is due. Returns the number of rows that got an outcome
  /// (tests drive it directly; the thread calls it in a loop).
  std::size_t RunOnce();

  const std::string& destination() const { return destination_; }
  DestinationHealth health() const;
  std::int64_t alert_queue_age_us() const { return options_.alert_queue_age_us; }

 private:
  void Loop();
  std::vector<OutboxItem> NextBatch(std::int64_t now, bool& store_failed);
  std::size_t Record(const std::vector<OutboxItem>& batch, SinkResult& result, std::int64_t now);
  /// Renders the payload of every row; a row that cannot be rendered is dead-lettered and
  /// dropped from the batch. Returns how many were dead-lettered.
  std::size_t RenderPayloads(std::vector<OutboxItem>& batch, std::int64_t now);
  /// Counts a delivery attempt towards the breaker; false while the circuit is open and no probe
  /// is due (the caller then waits).
  bool MayDeliver(std::int64_t now, bool& probe);
  void AfterDelivery(const SinkResult& result, std::int64_t now);

  std::string destination_;
  MessageStore& store_;
  std::unique_ptr<Sink> sink_;
  DispatcherOptions options_;
  Clock clock_;
  BundleRenderer* renderer_;
  std::mt19937_64 rng_;
  Counter& delivered_;
  Counter& retried_;
  Counter& dead_;
  Counter& trips_;

  mutable std::mutex health_mutex_;
  DestinationHealth health_;
  int consecutive_failures_ = 0;
  std::int64_t next_probe_us_ = 0;

  WorkSignal signal_;  ///< the linger ends at its time only
  std::thread thread_;
};

}  // namespace fhirbridge::service
