#include "engine/service/service.h"

#include <chrono>
#include <memory>

#include "fhirbridge/json_writer.h"
#include "fhirbridge/log.h"

namespace fhirbridge::service {

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Service::Service(ServiceParts parts)
    : parts_(std::move(parts)),
      renderer_(std::make_unique<BundleRenderer>(*parts_.store, parts_.routes, metrics_)) {
  for (const auto& connector : parts_.connectors) CountersFor(connector->name());
  for (auto& [destination, sink] : parts_.sinks) {
    auto own = parts_.dispatch_for.find(destination);
    const DispatcherOptions& options =
        own == parts_.dispatch_for.end() ? parts_.dispatch : own->second;
    dispatchers_.push_back(std::make_unique<Dispatcher>(destination, *parts_.store, std::move(sink),
                                                        metrics_, options, NowMicros,
                                                        renderer_.get()));
  }
  mapper_ = std::make_unique<MappingWorker>(
      *parts_.store, parts_.routes, metrics_, NowMicros,
      [this] {
        for (auto& d : dispatchers_) d->Wake();
      },
      128, renderer_.get());
  AddGauges();
}

Service::~Service() { Stop(); }

Service::SourceCounters& Service::CountersFor(const std::string& source) {
  std::lock_guard lock(counters_mutex_);
  auto it = counters_.find(source);
  if (it != counters_.end()) return it->second;
  SourceCounters& c = counters_[source];
  const Labels labels = {{"source", source}};
  c.received = &metrics_.GetCounter("fhirbridge_messages_received_total",
                                    "Messages received from a source (before storing).", labels);
  c.stored = &metrics_.GetCounter("fhirbridge_messages_acked_total",
                                  "Messages committed and positively acknowledged.",
                                  {{"source", source}, {"result", "stored"}});
  c.duplicate = &metrics_.GetCounter("fhirbridge_messages_acked_total",
                                     "Messages committed and positively acknowledged.",
                                     {{"source", source}, {"result", "duplicate"}});
  c.rejected =
      &metrics_.GetCounter("fhirbridge_messages_rejected_total",
                           "Input refused (unparseable, over a limit, unsupported).", labels);
  c.failed = &metrics_.GetCounter("fhirbridge_intake_failures_total",
                                  "Messages that could not be stored (no positive ACK).", labels);
  c.commit_latency =
      &metrics_.GetHistogram("fhirbridge_ack_latency_seconds",
                             "Time from a complete message to its durable commit, after which "
                             "the ACK is written.",
                             labels);
  return c;
}

Result<QueueStats> Service::ScrapedQueue(const std::string& destination) {
  std::lock_guard lock(scrape_.mutex);
  auto it = scrape_.queues.find(destination);
  if (it == scrape_.queues.end()) {
    it = scrape_.queues.emplace(destination, parts_.store->Queue(destination)).first;
  }
  return it->second;
}

Result<MappingBacklog> Service::ScrapedBacklog() {
  std::lock_guard lock(scrape_.mutex);
  if (!scrape_.backlog) scrape_.backlog = parts_.store->Unmapped();
  return *scrape_.backlog;
}

void Service::AddGauges() {
  metrics_.OnRender([this] {
    std::lock_guard lock(scrape_.mutex);
    scrape_.queues.clear();
    scrape_.backlog.reset();
  });
  std::vector<std::string> destinations;
  for (const auto& d : dispatchers_) destinations.push_back(d->destination());
  auto queue = [this, destinations](bool age) {
    std::vector<std::pair<Labels, double>> out;
    const std::int64_t now = NowMicros();
    for (const std::string& d : destinations) {
      Result<QueueStats> stats = ScrapedQueue(d);
      if (!stats.ok()) continue;
      double value = static_cast<double>(stats->pending);
      if (age) {
        value = stats->oldest_pending_created_us == 0
                    ? 0.0
                    : static_cast<double>(now - stats->oldest_pending_created_us) / 1e6;
      }
      out.push_back({{{"destination", d}}, value});
    }
    return out;
  };
  metrics_.AddGauge("fhirbridge_queue_depth", "Outbox rows waiting for delivery.",
                    [queue] { return queue(false); });
  // A destination's queue holds mapped messages only: what the mapping worker has not reached
  // yet (behind a long backlog, most of it) is counted here, with the age of the oldest.
  auto unmapped = [this](bool age) {
    std::vector<std::pair<Labels, double>> out;
    Result<MappingBacklog> backlog = ScrapedBacklog();
    if (!backlog.ok()) return out;
    double value = static_cast<double>(backlog->messages);
    if (age) {
      value = backlog->oldest_received_us == 0
                  ? 0.0
                  : static_cast<double>(NowMicros() - backlog->oldest_received_us) / 1e6;
    }
    out.push_back({{}, value});
    return out;
  };
  metrics_.AddGauge("fhirbridge_mapping_backlog", "Messages stored and not yet mapped.",
                    [unmapped] { return unmapped(false); });
  metrics_.AddGauge("fhirbridge_mapping_backlog_oldest_age_seconds",
                    "Age of the oldest message not yet mapped (0 when none).",
                    [unmapped] { return unmapped(true); });
  metrics_.AddGauge("fhirbridge_bundle_cache_bytes",
                    "Bytes of mapped Bundles held in memory for delivery.", [this] {
                      return std::vector<std::pair<Labels, double>>{
                          {{}, static_cast<double>(renderer_->cached_bytes())}};
                    });
  metrics_.AddGauge("fhirbridge_queue_oldest_age_seconds",
                    "Age of the oldest outbox row waiting for delivery (0 when none).",
                    [queue] { return queue(true); });
  metrics_.AddGauge("fhirbridge_destination_circuit_open",
                    "1 while a destination's circuit breaker is open (only probes are sent).",
                    [this] {
                      std::vector<std::pair<Labels, double>> out;
                      for (const auto& d : dispatchers_) {
                        out.push_back({{{"destination", d->destination()}},
                                       d->health().circuit_open ? 1.0 : 0.0});
                      }
                      return out;
                    });
  metrics_.AddGauge(
      "fhirbridge_queue_age_alert",
      "1 while the oldest waiting row of a destination is older than its alert_queue_age_s.",
      [this] {
        std::vector<std::pair<Labels, double>> out;
        const std::int64_t now = NowMicros();
        for (const auto& d : dispatchers_) {
          Result<QueueStats> stats = ScrapedQueue(d->destination());
          if (!stats.ok()) continue;
          const bool late = d->alert_queue_age_us() > 0 && stats->oldest_pending_created_us != 0 &&
                            now - stats->oldest_pending_created_us > d->alert_queue_age_us();
          out.push_back({{{"destination", d->destination()}}, late ? 1.0 : 0.0});
        }
        return out;
      });
  // Group commit at work: acked messages per sync, and how often the WAL starts over.
  const auto store_counter = [this](std::int64_t StoreCounters::*field) {
    return [this, field] {
      return std::vector<std::pair<Labels, double>>{
          {{}, static_cast<double>(parts_.store->Counters().*field)}};
    };
  };
  metrics_.AddCounterReader("fhirbridge_store_commits_total",
                            "Store transactions committed (each may hold many messages).",
                            store_counter(&StoreCounters::commits));
  metrics_.AddCounterReader("fhirbridge_store_syncs_total",
                            "fdatasync calls of the WAL that made commits durable.",
                            store_counter(&StoreCounters::syncs));
  metrics_.AddCounterReader("fhirbridge_store_wal_restarts_total",
                            "Times the WAL was started over from its beginning.",
                            store_counter(&StoreCounters::wal_restarts));
  metrics_.AddCounterReader("fhirbridge_store_checkpoints_total",
                            "Background checkpoints of the WAL into the database file.",
                            store_counter(&StoreCounters::checkpoints));
  // What an ACK waits for: the commit and the fdatasync (docs/store.md, "What a durable ACK
  // waits for"). The store's threads observe into histograms they share with the registry.
  const auto observe = [](std::shared_ptr<Histogram> h) {
    return [h](std::chrono::nanoseconds took) {
      h->Observe(std::chrono::duration<double>(took).count());
    };
  };
  auto timings = std::make_shared<StoreTimings>();
  timings->commit = observe(metrics_.SharedHistogram(
      "fhirbridge_store_commit_seconds",
      "Duration of one store transaction (a group commit of one or more jobs), without its sync.",
      {}));
  timings->sync = observe(metrics_.SharedHistogram(
      "fhirbridge_store_sync_seconds",
      "Duration of one fdatasync of the WAL: the disk's flush time that intake ACKs wait for.",
      {}));
  timings->checkpoint = observe(metrics_.SharedHistogram(
      "fhirbridge_store_checkpoint_seconds",
      "Duration of one checkpoint of the WAL into the database file (in the background, or by "
      "the committer when it restarts the WAL).",
      {}));
  parts_.store->SetTimings(std::move(timings));
  metrics_.AddGauge("fhirbridge_dead_letters", "Dead letters not yet reprocessed or discarded.",
                    [this, destinations] {
                      std::vector<std::pair<Labels, double>> out;
                      for (const std::string& d : destinations) {
                        Result<QueueStats> stats = ScrapedQueue(d);
                        if (stats.ok()) out.push_back({{{"destination", d}}, double(stats->dead)});
                      }
                      return out;
                    });
}

Status Service::Start() {
  if (started_) return Status::FailedPrecondition("the service was started already");
  started_ = true;
  for (auto& d : dispatchers_) d->Start();
  mapper_->Start();
  admin_ = std::make_unique<AdminServer>(parts_.admin, *this);
  Status status = admin_->Start();
  if (!status.ok()) {
    Stop();
    return status;
  }
  Logger::Global().Info("admin.listening", {LogField::Count("port", admin_->port())});
  for (auto& connector : parts_.connectors) {
    status = connector->Start(*this);
    if (!status.ok()) {
      Stop();
      return status.WithContext("source " + connector->name());
    }
    Logger::Global().Info("source.listening", {LogField::Source(connector->name()),
                                               LogField::Count("port", connector->port())});
  }
  // Messages stored before a restart and not yet mapped or delivered are picked up now.
  mapper_->Wake();
  for (auto& d : dispatchers_) d->Wake();
  AuditLifecycle("service.started");
  return Status::Ok();
}

void Service::AuditLifecycle(std::string_view event) {
  AuditRecord record;
  record.at_us = NowMicros();
  record.event = std::string(event);
  record.actor = "fhirbridge";
  record.detail = "{}";
  if (Status status = parts_.store->RecordAudit(std::move(record)); !status.ok()) {
    Logger::Global().Error("audit.write_failed",
                           {LogField::Code("status", CodeName(status.code()))});
  }
}

void Service::Stop() {
  if (stopped_ || !started_) return;
  stopped_ = true;
  for (auto& connector : parts_.connectors) connector->Stop();
  if (admin_) admin_->Stop();
  mapper_->Stop();
  for (auto& d : dispatchers_) d->Stop();
  AuditLifecycle("service.stopped");  // the last entry before the store closes
  if (parts_.close_store) parts_.close_store();
  Logger::Global().Info("service.stopped");
}

std::uint16_t Service::source_port(std::string_view source) const {
  for (const auto& connector : parts_.connectors) {
    if (connector->name() == source) return connector->port();
  }
  return 0;
}

Result<IntakeReceipt> Service::Accept(Message message) {
  SourceCounters& c = CountersFor(message.source);
  c.received->Add();
  const auto start = std::chrono::steady_clock::now();
  Result<IntakeReceipt> receipt = parts_.store->Accept(std::move(message));
  c.commit_latency->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!receipt.ok()) {
    c.failed->Add();
    return receipt;
  }
  if (receipt->outcome == IntakeReceipt::Outcome::kStored) {
    c.stored->Add();
    mapper_->Wake();
  } else {
    c.duplicate->Add();
  }
  return receipt;
}

Status Service::Reject(Message message, std::string_view reason) {
  SourceCounters& c = CountersFor(message.source);
  c.received->Add();
  c.rejected->Add();
  return parts_.store->Reject(std::move(message), reason);
}

std::string Service::RenderMetrics() { return metrics_.Render(); }

std::vector<std::string> Service::ReadinessProblems() {
  std::vector<std::string> problems;
  const Status writable = parts_.store->ProbeWritable();
  if (!writable.ok()) problems.push_back("store: not writable: " + writable.message());
  for (const auto& connector : parts_.connectors) {
    if (!connector->Running())
      problems.push_back("source " + connector->name() + ": not listening");
  }
  const std::int64_t now = NowMicros();
  for (const auto& d : dispatchers_) {
    const DestinationHealth health = d->health();
    if (health.circuit_open) {
      problems.push_back("destination " + d->destination() + ": circuit open for " +
                         std::to_string((now - health.open_since_us) / 1'000'000) +
                         " s, last error: " + health.last_error);
    }
  }
  return problems;
}

Result<std::vector<MessageSummary>> Service::ListMessages(std::string_view status,
                                                          std::int64_t before_id,
                                                          std::size_t limit) {
  return parts_.store->ListMessages(status, before_id, limit);
}

Result<std::vector<DeadLetterSummary>> Service::ListDeadLetters(std::string_view status,
                                                                std::int64_t before_id,
                                                                std::size_t limit) {
  return parts_.store->ListDeadLetters(status, before_id, limit);
}

Result<DeadLetterDetail> Service::GetDeadLetter(std::int64_t id) {
  return parts_.store->GetDeadLetter(id);
}

Status Service::ReprocessDeadLetter(std::int64_t id, std::string_view actor) {
  FHIRBRIDGE_RETURN_IF_ERROR(parts_.store->ReprocessDeadLetter(id, NowMicros(), actor));
  Logger::Global().Info("deadletter.reprocess", {LogField::Id("dead_letter", std::to_string(id))});
  mapper_->Wake();  // the message is waiting for the mapper again
  return Status::Ok();
}

Status Service::DiscardDeadLetter(std::int64_t id, std::string_view actor) {
  FHIRBRIDGE_RETURN_IF_ERROR(parts_.store->DiscardDeadLetter(id, NowMicros(), actor));
  Logger::Global().Info("deadletter.discard", {LogField::Id("dead_letter", std::to_string(id))});
  return Status::Ok();
}

void Service::AuditAccess(std::string_view what, std::string_view actor, std::string_view peer,
                          std::string_view target) {
  AuditRecord record;
  record.at_us = NowMicros();
  record.event = std::string(what);
  record.actor = std::string(actor);
  record.peer = std::string(peer);
  std::string detail;
  JsonWriter w(detail);
  w.BeginObject();
  w.KeyString("target", target);
  w.EndObject();
  record.detail = std::move(detail);
  if (Status status = parts_.store->RecordAudit(std::move(record)); !status.ok()) {
    Logger::Global().Error("audit.write_failed",
                           {LogField::Code("status", CodeName(status.code()))});
  }
}

}  // namespace fhirbridge::service
