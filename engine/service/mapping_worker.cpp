#include "engine/service/mapping_worker.h"

#include <chrono>

#include "engine/service/bundle_renderer.h"
#include "engine/service/worker_priority.h"
#include "engine/store/audit_chain.h"
#include "fhirbridge/log.h"
#include "fhirbridge/thread_name.h"

namespace fhirbridge::service {

namespace {

MappingRecord Failed(std::int64_t id, std::string code, std::string text) {
  MappingRecord record;
  record.message_id = id;
  record.result = MappingRecord::Result::kFailed;
  record.outcome = RenderOperationOutcome({DataIssue::Error(std::move(code), "", std::move(text))});
  return record;
}

}  // namespace

MappingWorker::MappingWorker(MessageStore& store,
                             std::map<std::string, SourceRoute, std::less<>> routes,
                             Metrics& metrics, Clock clock, OnMapped on_mapped, std::size_t batch,
                             BundleRenderer* renderer)
    : store_(store),
      routes_(std::move(routes)),
      metrics_(metrics),
      clock_(std::move(clock)),
      on_mapped_(std::move(on_mapped)),
      batch_(batch),
      renderer_(renderer),
      latency_(metrics.GetHistogram("fhirbridge_mapping_latency_seconds",
                                    "Time to map one message to FHIR.", {})),
      signal_(batch) {}

MappingWorker::~MappingWorker() { Stop(); }

void MappingWorker::Start() {
  if (thread_.joinable()) return;
  signal_.Restart();
  thread_ = std::thread([this] { Loop(); });
}

void MappingWorker::Stop() {
  signal_.Stop();
  if (thread_.joinable()) thread_.join();
}

void MappingWorker::Wake() { signal_.Announce(); }

void MappingWorker::Loop() {
  NameThisThread("fb-map");
  MakeMappingThreadIdlePriority();
  while (signal_.BeginRound()) {
    if (RunOnce() >= batch_) continue;  // a full batch: more is waiting
    // Caught up: once a new message comes, let the next ones (up to a batch) arrive so that
    // they are mapped together. Each round costs a read of the store, a commit of the results
    // (which rewrites whole pages: messages, outbox, audit) and a round of every dispatcher,
    // whatever its size.
    signal_.Wait(std::chrono::milliseconds(500), linger_);
  }
}

MappingRecord MappingWorker::MapOne(const StoredMessage& message) {
  auto route = routes_.find(message.source);
  if (route == routes_.end()) {
    return Failed(message.id, "not-found",
                  "source \"" + message.source + "\" is no longer configured");
  }
  if (!route->second.mapper) {
    return Failed(message.id, "not-supported",
                  "no mapper for the format of source \"" + message.source + "\" in this build");
  }
  const auto start = std::chrono::steady_clock::now();
  MapOutput mapped = route->second.mapper->Map(message.raw);
  latency_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  MappingRecord record;
  record.message_id = message.id;
  record.lane = mapped.lane.empty() ? "source:" + message.source : std::move(mapped.lane);
  if (!mapped.issues.empty()) record.outcome = RenderGroupedOperationOutcome(mapped.issues);
  record.patient = std::move(mapped.patient);
  for (const DataIssue& issue : mapped.issues) {
    if (issue.severity == DataIssue::Severity::kWarning) ++record.warning_count;
    if (issue.severity <= DataIssue::Severity::kError) ++record.error_count;
  }
  switch (mapped.result) {
    case MapOutput::Result::kHeld:
      record.result = MappingRecord::Result::kHeld;
      break;
    case MapOutput::Result::kFailed:
      record.result = MappingRecord::Result::kFailed;
      break;
    case MapOutput::Result::kMapped:
      record.result = MappingRecord::Result::kMapped;
      record.bundle = std::move(mapped.bundle);
      record.bundle_digest = store::Sha256(record.bundle);
      record.destinations = SelectDestinations(route->second.targets, mapped.facts);
      record.resource_count = mapped.resource_count;
      break;
  }
  return record;
}

std::size_t MappingWorker::RunOnce() {
  Result<std::vector<StoredMessage>> pending = store_.PendingMappings(batch_);
  if (!pending.ok()) {
    Logger::Global().Error("mapping.store_failed",
                           {LogField::Code("status", CodeName(pending.status().code()))});
    return 0;
  }
  if (pending->empty()) return 0;
  std::vector<MappingRecord> records;
  records.reserve(pending->size());
  for (const StoredMessage& message : *pending) records.push_back(MapOne(message));
  if (renderer_ != nullptr) {
    for (MappingRecord& r : records) {
      if (r.result != MappingRecord::Result::kMapped) continue;
      renderer_->Remember(r.message_id, std::move(r.bundle), r.destinations.size());
      r.bundle.clear();  // the digest is what the store keeps
    }
  }
  const Status status = store_.RecordMappings(records, clock_());
  if (!status.ok()) {
    if (renderer_ != nullptr) {
      for (const MappingRecord& r : records) renderer_->Forget(r.message_id);
    }
    Logger::Global().Error("mapping.store_failed",
                           {LogField::Code("status", CodeName(status.code()))});
    return 0;
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    const char* result = records[i].result == MappingRecord::Result::kMapped ? "mapped"
                         : records[i].result == MappingRecord::Result::kHeld ? "held"
                                                                             : "failed";
    metrics_
        .GetCounter("fhirbridge_messages_mapped_total", "Stored messages mapped, by result.",
                    {{"source", (*pending)[i].source}, {"result", result}})
        .Add();
    if (records[i].result == MappingRecord::Result::kMapped && records[i].destinations.empty()) {
      // Mapped, but no route's conditions hold: kept in the store, delivered nowhere.
      metrics_
          .GetCounter("fhirbridge_messages_unrouted_total",
                      "Mapped messages that no route's conditions selected.",
                      {{"source", (*pending)[i].source}})
          .Add();
    }
    if (records[i].result == MappingRecord::Result::kFailed) {
      Logger::Global().Warn("message.mapping_failed",
                            {LogField::Source((*pending)[i].source),
                             LogField::Id("message_id", std::to_string(records[i].message_id)),
                             LogField::Id("control_id", (*pending)[i].control_id)});
    }
  }
  if (on_mapped_) on_mapped_();
  return records.size();
}

}  // namespace fhirbridge::service
