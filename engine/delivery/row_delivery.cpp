#include "engine/delivery/row_delivery.h"

#include <optional>

#include "engine/delivery/fhir_response.h"
#include "fhirbridge/json_writer.h"

namespace fhirbridge::delivery {

namespace {

constexpr const char* kFhirJson = "application/fhir+json";

bool Is2xx(const Result<http::HttpResponse>& response) {
  return response.ok() && response->status >= 200 && response->status <= 299;
}

}  // namespace

RowDelivery::RowDelivery(const RowSettings& settings, const OutboxItem& row)
    : settings_(settings), row_(row) {
  if (settings_.mode == DeliveryMode::kTransaction) {
    // FHIR R4 http.html#transaction: POST the Bundle to the base URL.
    request_ = BaseRequest("POST", settings_.base_url);
    request_.body_ref = &row_.payload;  // the batch outlives every request the sink sends
    return;
  }
  Result<std::vector<BundleEntry>> entries = ParseBundleEntries(row_.payload);
  if (!entries.ok()) {
    FinishInvalid(entries.status());
    return;
  }
  entries_ = std::move(entries).value();
  Result<std::vector<std::vector<std::size_t>>> levels = DependencyLevels(entries_);
  if (!levels.ok()) {
    FinishInvalid(levels.status());
    return;
  }
  levels_ = std::move(levels).value();
  for (const auto& level : levels_) order_.insert(order_.end(), level.begin(), level.end());
  Prepare();
}

http::HttpRequest RowDelivery::BaseRequest(std::string method, std::string url) const {
  http::HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers.push_back({"Content-Type", kFhirJson});
  request.headers.push_back({"Accept", kFhirJson});
  if (!settings_.prefer.empty())
    request.headers.push_back({"Prefer", "return=" + settings_.prefer});
  return request;
}

void RowDelivery::Prepare() {
  if (settings_.mode == DeliveryMode::kBatch) return PrepareBatch();
  PrepareSingle();
}

// FHIR R4 http.html#transaction: a batch has no interdependencies, so each dependency level is
// its own batch, sent once the level before it is on the server, with the references to it
// rewritten to the ids the server answered.
void RowDelivery::PrepareBatch() {
  if (step_ == levels_.size()) {
    DeliveryOutcome done;
    done.kind = DeliveryOutcome::Kind::kDelivered;
    done.http_status = outcome_.http_status;
    done.server_ids = std::move(server_ids_);
    return Finish(std::move(done));
  }
  std::string body;
  JsonWriter json(body);
  BeginBundle(json, "batch");
  for (std::size_t index : levels_[step_]) {
    const BundleEntry& e = entries_[index];
    json.BeginObject();
    if (!e.full_url.empty()) json.KeyString("fullUrl", e.full_url);
    if (!e.resource.empty()) {
      Result<std::string> resource = RewriteReferences(e.resource, targets_);
      if (!resource.ok()) return FinishInvalid(resource.status());
      json.Key("resource");
      json.RawValue(*resource);
    }
    json.Key("request");
    json.BeginObject();
    json.KeyString("method", e.method.empty() ? "POST" : e.method);
    json.KeyString("url", e.url);
    if (!e.if_none_exist.empty()) json.KeyString("ifNoneExist", e.if_none_exist);
    if (!e.if_match.empty()) json.KeyString("ifMatch", e.if_match);
    json.EndObject();
    json.EndObject();
  }
  EndBundle(json);
  request_ = BaseRequest("POST", settings_.base_url);
  request_.body = std::move(body);
}

// FHIR R4 http.html#ccreate: POST <base>/<Type> with If-None-Exist.
void RowDelivery::PrepareSingle() {
  if (step_ == order_.size()) {
    DeliveryOutcome done;
    done.kind = DeliveryOutcome::Kind::kDelivered;
    done.http_status = outcome_.http_status;
    done.server_ids = std::move(server_ids_);
    return Finish(std::move(done));
  }
  const BundleEntry& e = entries_[order_[step_]];
  request_ = BaseRequest(e.method.empty() ? "POST" : e.method, settings_.base_url + "/" + e.url);
  if (!e.if_none_exist.empty()) request_.headers.push_back({"If-None-Exist", e.if_none_exist});
  if (!e.if_match.empty()) request_.headers.push_back({"If-Match", e.if_match});
  if (!e.resource.empty()) {
    Result<std::string> resource = RewriteReferences(e.resource, targets_);
    if (!resource.ok()) return FinishInvalid(resource.status());
    request_.body = std::move(resource).value();
  }
}

void RowDelivery::OnResponse(const Result<http::HttpResponse>& response,
                             std::chrono::system_clock::time_point now) {
  if (finished_) return;
  if (!Is2xx(response)) {
    DeliveryOutcome failed = ClassifyResponse(response, now);
    if (settings_.mode == DeliveryMode::kSingle && step_ < order_.size()) {
      failed.reason +=
          " (request " + std::to_string(step_ + 1) + " of " + std::to_string(order_.size()) + ")";
    }
    return Finish(std::move(failed));
  }
  outcome_.http_status = response->status;
  switch (settings_.mode) {
    case DeliveryMode::kTransaction: {
      DeliveryOutcome done;
      done.kind = DeliveryOutcome::Kind::kDelivered;
      done.http_status = response->status;
      // A 2xx to a transaction means every entry succeeded; the locations are kept when the
      // answer lists them (an unreadable body does not undo the delivery).
      Result<std::vector<EntryResponse>> entries =
          ParseBundleResponse(response->body, "transaction-response", kAnyEntryCount);
      if (entries.ok()) {
        for (const EntryResponse& e : *entries) {
          if (e.location.empty()) continue;
          if (!done.server_ids.empty()) done.server_ids += ' ';
          done.server_ids += RelativeLocation(e.location, settings_.base_url);
        }
      }
      return Finish(std::move(done));
    }
    case DeliveryMode::kBatch:
      return OnBatchResponse(*response);
    case DeliveryMode::kSingle:
      return OnSingleResponse(*response);
  }
}

void RowDelivery::OnBatchResponse(const http::HttpResponse& response) {
  const std::vector<std::size_t>& level = levels_[step_];
  Result<std::vector<EntryResponse>> answers =
      ParseBundleResponse(response.body, "batch-response", level.size());
  if (!answers.ok()) {
    DeliveryOutcome failed;
    failed.kind = DeliveryOutcome::Kind::kPermanent;
    failed.http_status = response.status;
    failed.reason = "HTTP " + std::to_string(response.status) + ": " + answers.status().message();
    failed.outcome = SynthesizedOutcome("exception", failed.reason);
    return Finish(std::move(failed));
  }
  // Every entry on its own (a batch is not atomic): one permanent failure makes the row
  // permanent; otherwise one retryable failure makes it a retry (the entries that succeeded
  // are found again by their conditional creates).
  std::optional<DeliveryOutcome> failure;
  for (std::size_t i = 0; i < level.size(); ++i) {
    const EntryResponse& answer = (*answers)[i];
    if (answer.status >= 200 && answer.status <= 299) {
      Delivered(RelativeLocation(answer.location, settings_.base_url), level[i]);
      if (finished_) return;
      continue;
    }
    DeliveryOutcome entry;
    entry.http_status = answer.status;
    entry.reason = "HTTP " + std::to_string(answer.status) + " (batch entry " +
                   std::to_string(level[i] + 1) + ")";
    if (IsRetryableStatus(answer.status)) {
      entry.kind = DeliveryOutcome::Kind::kRetry;
      if (!failure) failure = std::move(entry);
      continue;
    }
    entry.kind = DeliveryOutcome::Kind::kPermanent;
    entry.outcome =
        answer.outcome.empty() ? OutcomeOrSynthesized("", answer.status) : answer.outcome;
    if (!failure || failure->kind != DeliveryOutcome::Kind::kPermanent) failure = std::move(entry);
  }
  if (failure) return Finish(std::move(*failure));
  ++step_;
  Prepare();
}

void RowDelivery::OnSingleResponse(const http::HttpResponse& response) {
  const std::string* location = response.Header("location");
  if (location == nullptr) location = response.Header("content-location");
  Delivered(location ? RelativeLocation(*location, settings_.base_url) : "", order_[step_]);
  if (finished_) return;
  ++step_;
  Prepare();
}

void RowDelivery::Delivered(const std::string& relative_location, std::size_t entry) {
  const BundleEntry& e = entries_[entry];
  const std::string type_and_id = TypeAndId(relative_location);
  if (!relative_location.empty()) {
    if (!server_ids_.empty()) server_ids_ += ' ';
    server_ids_ += relative_location;
  }
  if (e.full_url.empty()) return;
  if (type_and_id.empty()) {
    // Later entries may refer to this one: without its id they cannot be sent correctly.
    for (const BundleEntry& other : entries_) {
      for (const std::string& ref : other.references) {
        if (ref == e.full_url) {
          DeliveryOutcome failed;
          failed.kind = DeliveryOutcome::Kind::kPermanent;
          failed.reason = "the server gave no location for entry " + std::to_string(entry + 1);
          failed.outcome = SynthesizedOutcome("exception", failed.reason);
          return Finish(std::move(failed));
        }
      }
    }
    return;
  }
  targets_[e.full_url] = type_and_id;
}

void RowDelivery::Finish(DeliveryOutcome outcome) {
  finished_ = true;
  outcome_ = std::move(outcome);
}

void RowDelivery::FinishInvalid(const Status& status) {
  DeliveryOutcome failed;
  failed.kind = DeliveryOutcome::Kind::kPermanent;
  failed.reason = "payload: " + status.message();
  failed.outcome = SynthesizedOutcome("structure", failed.reason);
  Finish(std::move(failed));
}

}  // namespace fhirbridge::delivery
