#pragma once

// The running engine: connectors → store → mapping worker → one dispatcher per destination,
// plus the admin API. engine/app/registry.cpp builds its parts from the configuration;
// `fhirbridge run` starts it and stops it on SIGTERM/SIGINT.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/service/admin_server.h"
#include "engine/service/dispatcher.h"
#include "engine/service/mapping_worker.h"
#include "engine/service/metrics.h"
#include "fhirbridge/connector.h"
#include "fhirbridge/sink.h"
#include "fhirbridge/store.h"

namespace fhirbridge::service {

struct ServiceParts {
  std::unique_ptr<MessageStore> store;
  std::vector<std::unique_ptr<Connector>> connectors;
  std::map<std::string, SourceRoute, std::less<>> routes;  ///< by source name
  std::map<std::string, std::unique_ptr<Sink>> sinks;      ///< by destination name
  AdminOptions admin;
  DispatcherOptions dispatch;  ///< for destinations without their own below
  std::map<std::string, DispatcherOptions> dispatch_for;  ///< by destination name
  std::function<void()> close_store;  ///< flushes and closes the store after everything stopped
};

class Service final : public AdminBackend, private Intake {
 public:
  explicit Service(ServiceParts parts);
  ~Service() override;

  /// Starts dispatchers, the mapping worker, the admin API and then the connectors (so nothing
  /// is accepted before the pipeline behind it runs). On failure, stops what started.
  Status Start();
  /// Stops accepting (connectors first), finishes batches in hand, closes the store.
  void Stop();

  std::uint16_t admin_port() const { return admin_ ? admin_->port() : 0; }
  /// The bound port of a network source, 0 when unknown.
  std::uint16_t source_port(std::string_view source) const;
  Metrics& metrics() { return metrics_; }
  MessageStore& store() { return *parts_.store; }

  // AdminBackend
  std::string RenderMetrics() override;
  std::vector<std::string> ReadinessProblems() override;
  Result<std::vector<MessageSummary>> ListMessages(std::string_view status, std::int64_t before_id,
                                                   std::size_t limit) override;
  Result<std::vector<DeadLetterSummary>> ListDeadLetters(std::string_view status,
                                                         std::int64_t before_id,
                                                         std::size_t limit) override;
  Result<DeadLetterDetail> GetDeadLetter(std::int64_t id) override;
  Status ReprocessDeadLetter(std::int64_t id, std::string_view actor) override;
  Status DiscardDeadLetter(std::int64_t id, std::string_view actor) override;
  void AuditAccess(std::string_view what, std::string_view actor, std::string_view peer,
                   std::string_view target) override;

 private:
  struct SourceCounters {
    Counter* received = nullptr;
    Counter* stored = nullptr;
    Counter* duplicate = nullptr;
    Counter* rejected = nullptr;
    Counter* failed = nullptr;
    Histogram* commit_latency = nullptr;
  };

  // Intake, as the connectors see it: the store's, plus counters and a wake-up of the mapper.
  Result<IntakeReceipt> Accept(Message message) override;
  Status Reject(Message message, std::string_view reason) override;
  SourceCounters& CountersFor(const std::string& source);
  /// Audits service.started / service.stopped (a failure to write is logged, not fatal).
  void AuditLifecycle(std::string_view event);
  void AddGauges();
  /// The store's queue figures for one destination, and its mapping backlog, read once per
  /// /metrics scrape however many gauges show them (scrape_ is emptied as each Render begins).
  Result<QueueStats> ScrapedQueue(const std::string& destination);
  Result<MappingBacklog> ScrapedBacklog();

  ServiceParts parts_;
  Metrics metrics_;
  std::map<std::string, SourceCounters, std::less<>> counters_;
  std::mutex counters_mutex_;
  std::unique_ptr<BundleRenderer> renderer_;  ///< shared by the mapping worker and dispatchers
  std::unique_ptr<MappingWorker> mapper_;
  std::vector<std::unique_ptr<Dispatcher>> dispatchers_;
  std::unique_ptr<AdminServer> admin_;
  struct ScrapeReads {
    std::mutex mutex;
    std::map<std::string, Result<QueueStats>, std::less<>> queues;
    std::optional<Result<MappingBacklog>> backlog;
  } scrape_;
  bool started_ = false;
  bool stopped_ = false;
};

/// Microseconds since the Unix epoch.
std::int64_t NowMicros();

}  // namespace fhirbridge::service
