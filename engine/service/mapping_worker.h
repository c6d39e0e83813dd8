#pragma once

// Takes stored messages in order, maps each with its source's mapper, and records the result
// with one outbox row per routed destination, in one transaction per batch. Mapping is pure, so
// a crash before the commit just maps the same messages again after restart.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/service/metrics.h"
#include "engine/service/route_rules.h"
#include "engine/service/work_signal.h"
#include "fhirbridge/mapper.h"
#include "fhirbridge/store.h"

namespace fhirbridge::service {

/// How messages of one source are mapped and where their results go.
struct SourceRoute {
  std::shared_ptr<const Mapper> mapper;  ///< null: the source's format has no mapper yet
  /// The same mapping without validation, or null. BundleRenderer uses it to render again a
  /// Bundle this process has already validated (same digest); mapping workers never do.
  std::shared_ptr<const Mapper> unvalidated;
  std::vector<RouteTarget> targets;  ///< from every route naming the source
};

class BundleRenderer;

class MappingWorker {
 public:
  using Clock = std::function<std::int64_t()>;
  using OnMapped = std::function<void()>;  ///< called after a batch with outbox rows committed

  /// `renderer`, when set, keeps each mapped Bundle in memory for the dispatchers (the store
  /// keeps only its digest); it gets them before the commit, so that no dispatcher can see a
  /// committed row whose Bundle is not there yet.
  MappingWorker(MessageStore& store, std::map<std::string, SourceRoute, std::less<>> routes,
                Metrics& metrics, Clock clock, OnMapped on_mapped, std::size_t batch = 128,
                BundleRenderer* renderer = nullptr);
  ~MappingWorker();

  void Start();
  void Stop();  ///< finishes the batch in hand
  void Wake();  ///< a message was stored (or the store should be looked at again)

  /// Maps one batch; returns how many messages it recorded (0 when none was waiting).
  std::size_t RunOnce();

 private:
  void Loop();
  MappingRecord MapOne(const StoredMessage& message);

  MessageStore& store_;
  std::map<std::string, SourceRoute, std::less<>> routes_;
  Metrics& metrics_;
  Clock clock_;
  OnMapped on_mapped_;
  std::size_t batch_;
  BundleRenderer* renderer_;
  /// Caught up and woken by a new message, the worker waits this long (or until a full batch
  /// has been announced) before it reads the store, so that the messages of a steady stream
  /// are mapped, committed and handed to the destinations together (docs/store.md).
  std::chrono::milliseconds linger_{50};
  Histogram& latency_;

  WorkSignal signal_;  ///< a full batch announced ends the linger early
  std::thread thread_;
};

}  // namespace fhirbridge::service
