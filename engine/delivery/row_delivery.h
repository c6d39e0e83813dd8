#pragma once

// The HTTP requests that deliver one outbox row, one after the other, and what their answers
// make of the row. The FhirSink runs many of these at once (one per lane).

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/delivery/bundle_entries.h"
#include "engine/http/http_client.h"
#include "fhirbridge/sink.h"

namespace fhirbridge::delivery {

enum class DeliveryMode {
  kTransaction,  ///< POST the transaction Bundle to the base URL: one request
  kBatch,        ///< one batch Bundle per dependency level, references rewritten to server ids
  kSingle,       ///< one POST per resource with If-None-Exist, in dependency order
};

struct RowSettings {
  DeliveryMode mode = DeliveryMode::kTransaction;
  std::string base_url;  ///< without a trailing slash
  std::string prefer;    ///< "minimal" | "representation" | "OperationOutcome" | "" (no header)
};

class RowDelivery {
 public:
  RowDelivery(const RowSettings& settings, const OutboxItem& row);

  bool finished() const { return finished_; }
  /// The request to send next; valid while !finished().
  const http::HttpRequest& request() const { return request_; }
  /// Takes the answer to request(); either prepares the next request or finishes the row.
  void OnResponse(const Result<http::HttpResponse>& response,
                  std::chrono::system_clock::time_point now);
  /// Valid once finished().
  const DeliveryOutcome& outcome() const { return outcome_; }

 private:
  void Prepare();  ///< builds request_ for the current step, or finishes
  void PrepareBatch();
  void PrepareSingle();
  void OnBatchResponse(const http::HttpResponse& response);
  void OnSingleResponse(const http::HttpResponse& response);
  void Finish(DeliveryOutcome outcome);
  void FinishInvalid(const Status& status);
  void Delivered(const std::string& relative_location, std::size_t entry);
  http::HttpRequest BaseRequest(std::string method, std::string url) const;

  const RowSettings& settings_;
  const OutboxItem& row_;
  std::vector<BundleEntry> entries_;
  std::vector<std::size_t> order_;                ///< single: entries in dependency order
  std::vector<std::vector<std::size_t>> levels_;  ///< batch: entries per level
  std::size_t step_ = 0;
  std::map<std::string, std::string, std::less<>> targets_;  ///< fullUrl → "Type/id"
  std::string server_ids_;
  http::HttpRequest request_;
  bool finished_ = false;
  DeliveryOutcome outcome_;
};

}  // namespace fhirbridge::delivery
