#include "engine/delivery/fhir_sink.h"

#include <deque>
#include <map>

#include "engine/delivery/fhir_response.h"
#include "fhirbridge/log.h"

namespace fhirbridge::delivery {

struct FhirSink::Lane {
  std::vector<std::size_t> rows;  ///< indices into the batch, in order
  std::size_t next = 0;           ///< position in `rows` of the next row to start
  std::size_t current = 0;        ///< batch index of the row in progress
  std::unique_ptr<RowDelivery> delivery;
  std::string auth_header;    ///< what the request in flight carried
  bool auth_retried = false;  ///< the request in flight is the one resent after a 401
};

namespace {

const char* KindName(DeliveryOutcome::Kind kind) {
  switch (kind) {
    case DeliveryOutcome::Kind::kDelivered:
      return "delivered";
    case DeliveryOutcome::Kind::kRetry:
      return "retry";
    case DeliveryOutcome::Kind::kPermanent:
      return "permanent";
    case DeliveryOutcome::Kind::kNotAttempted:
      return "not_attempted";
  }
  return "unknown";
}

// No credentials, no request: the token endpoint being down is worth a retry, a refused
// client is not (docs/destination-fhir.md, Authentication).
DeliveryOutcome AuthFailure(const Status& status) {
  DeliveryOutcome out;
  out.reason = status.message();
  if (status.IsRetryable()) {
    out.kind = DeliveryOutcome::Kind::kRetry;
  } else {
    out.kind = DeliveryOutcome::Kind::kPermanent;
    out.outcome = SynthesizedOutcome("security", status.message());
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<FhirSink>> FhirSink::Create(FhirSinkOptions options) {
  while (!options.row.base_url.empty() && options.row.base_url.back() == '/') {
    options.row.base_url.pop_back();
  }
  if (options.row.base_url.empty()) return Status::InvalidArgument("base_url: required");
  Result<std::unique_ptr<http::HttpClient>> http = http::HttpClient::Create(options.http);
  if (!http.ok()) return http.status();
  return std::unique_ptr<FhirSink>(new FhirSink(std::move(options), std::move(http).value()));
}

FhirSink::FhirSink(FhirSinkOptions options, std::unique_ptr<http::HttpClient> http)
    : options_(std::move(options)), http_(std::move(http)), pace_(options_.gather) {}

SinkResult FhirSink::Deliver(const std::vector<OutboxItem>& batch) {
  SinkResult result;
  DeliveryOutcome skipped;
  skipped.kind = DeliveryOutcome::Kind::kNotAttempted;
  skipped.reason = "an earlier row of its lane was not delivered";
  result.outcomes.assign(batch.size(), skipped);
  batch_ = &batch;
  pace_.Paused();  // the time since the last batch's answers is not the server's pace

  std::vector<Lane> lanes;
  std::map<std::string_view, std::size_t> lane_of;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto [it, added] = lane_of.emplace(batch[i].lane, lanes.size());
    if (added) lanes.emplace_back();
    lanes[it->second].rows.push_back(i);
  }
  std::deque<std::size_t> ready;  // lanes whose next request can be sent
  for (std::size_t l = 0; l < lanes.size(); ++l) {
    if (StartNextRow(lanes[l], result)) ready.push_back(l);
  }
  const std::size_t max_in_flight = std::max<std::size_t>(1, options_.http.max_connections);
  std::size_t in_flight = 0;
  while (in_flight > 0 || !ready.empty()) {
    while (in_flight < max_in_flight && !ready.empty()) {
      const std::size_t l = ready.front();
      ready.pop_front();
      if (Submit(lanes[l], l, result)) {
        ++in_flight;
      } else if (StartNextRow(lanes[l], result)) {
        ready.push_back(l);
      }
    }
    if (in_flight == 0) continue;
    // Answers are gathered only while more lanes wait to be sent: at the end of a batch the
    // server would run out of work during the sleep, and the next batch start that much later.
    std::vector<http::HttpCompletion> answers =
        http_->Wait(ready.empty() ? std::chrono::microseconds{} : pace_.SleepFor(in_flight));
    pace_.Answered(answers.size(), in_flight - answers.size(), AnswerPace::Clock::now());
    for (http::HttpCompletion& done : answers) {
      --in_flight;
      Lane& lane = lanes[done.tag];
      const bool unauthorized = done.response.ok() && done.response->status == 401;
      if (unauthorized && options_.auth && !lane.auth_retried) {
        // FHIR-REST.md: 401 → new credentials, then the same request once more.
        options_.auth->Rejected(lane.auth_header);
        lane.auth_retried = true;
        ready.push_back(done.tag);
        continue;
      }
      lane.auth_retried = false;
      lane.delivery->OnResponse(done.response, std::chrono::system_clock::now());
      if (!lane.delivery->finished()) {
        ready.push_back(done.tag);
        continue;
      }
      const DeliveryOutcome& outcome = lane.delivery->outcome();
      Settle(lane, outcome, result);
      if (outcome.kind == DeliveryOutcome::Kind::kDelivered && StartNextRow(lane, result)) {
        ready.push_back(done.tag);
      }
    }
  }
  batch_ = nullptr;
  return result;
}

bool FhirSink::StartNextRow(Lane& lane, SinkResult& result) {
  while (lane.next < lane.rows.size()) {
    lane.current = lane.rows[lane.next++];
    lane.delivery = std::make_unique<RowDelivery>(options_.row, (*batch_)[lane.current]);
    lane.auth_retried = false;
    if (!lane.delivery->finished()) return true;
    const DeliveryOutcome outcome = lane.delivery->outcome();
    Settle(lane, outcome, result);
    if (outcome.kind != DeliveryOutcome::Kind::kDelivered) return false;
  }
  return false;
}

bool FhirSink::Submit(Lane& lane, std::size_t lane_index, SinkResult& result) {
  http::HttpRequest request = lane.delivery->request();
  if (options_.auth) {
    Result<std::string> header = options_.auth->Authorization();
    if (!header.ok()) {
      Settle(lane, AuthFailure(header.status()), result);
      return false;
    }
    lane.auth_header = std::move(header).value();
    request.headers.push_back({"Authorization", lane.auth_header});
  }
  http_->Submit(lane_index, std::move(request));
  return true;
}

void FhirSink::Settle(Lane& lane, const DeliveryOutcome& outcome, SinkResult& result) {
  result.outcomes[lane.current] = outcome;
  const OutboxItem& row = (*batch_)[lane.current];
  const LogLevel level =
      outcome.kind == DeliveryOutcome::Kind::kDelivered
          ? LogLevel::kDebug
          : (outcome.kind == DeliveryOutcome::Kind::kRetry ? LogLevel::kInfo : LogLevel::kWarn);
  // Ids and statuses only: payloads and answers may hold PHI.
  Logger::Global().Log(
      level, "fhir.delivery",
      {LogField::Source(options_.destination), LogField::Id("outbox_id", std::to_string(row.id)),
       LogField::Code("result", KindName(outcome.kind)),
       LogField::Count("http_status", outcome.http_status)});
  if (outcome.kind == DeliveryOutcome::Kind::kDelivered) return;
  lane.next = lane.rows.size();  // lane order: the later rows wait (kNotAttempted)
}

}  // namespace fhirbridge::delivery
