#include "engine/service/service.h"

#include "fhirbridge/log.h"

namespace fhirbridge::service {

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Service::Service(ServiceParts parts) : parts_(std::move(parts)) {
  for (const auto& connector : parts_.connectors) CountersFor(connector->name());
  for (auto& [destination, sink] : parts_.sinks) {
    dispatchers_.push_back(std::make_unique<Dispatcher>(destination, *parts_.store, std::move(sink),
                                                        metrics_, parts_.dispatch, NowMicros));
  }
  mapper_ =
      std::make_unique<MappingWorker>(*parts_.store, parts_.routes, metrics_, NowMicros, [this] {
        for (auto& d : dispatchers_) d->Wake();
      });
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

void Service::AddGauges() {
  std::vector<std::string> destinations;
  for (const auto& d : dispatchers_) destinations.push_back(d->destination());
  auto queue = [this, destinations](bool age) {
    std::vector<std::pair<Labels, double>> out;
    const std::int64_t now = NowMicros();
    for (const std::string& d : destinations) {
      Result<QueueStats> stats = parts_.store->Queue(d);
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
  metrics_.AddGauge("fhirbridge_queue_oldest_age_seconds",
                    "Age of the oldest outbox row waiting for delivery (0 when none).",
                    [queue] { return queue(true); });
  metrics_.AddGauge("fhirbridge_dead_letters", "Dead letters not yet reprocessed or discarded.",
                    [this, destinations] {
                      std::vector<std::pair<Labels, double>> out;
                      for (const std::string& d : destinations) {
                        Result<QueueStats> stats = parts_.store->Queue(d);
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
  return Status::Ok();
}

void Service::Stop() {
  if (stopped_ || !started_) return;
  stopped_ = true;
  for (auto& connector : parts_.connectors) connector->Stop();
  if (admin_) admin_->Stop();
  mapper_->Stop();
  for (auto& d : dispatchers_) d->Stop();
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
  return problems;
}

Result<std::vector<MessageSummary>> Service::ListMessages(std::string_view status,
                                                          std::int64_t before_id,
                                                          std::size_t limit) {
  return parts_.store->ListMessages(status, before_id, limit);
}

}  // namespace fhirbridge::service
