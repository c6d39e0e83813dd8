#pragma once

// The FHIR destination: delivers each outbox row (a transaction Bundle whose entries are
// conditional creates) to a FHIR R4 server, lanes in parallel over kept-alive connections, the
// rows of one lane strictly in order (docs/destination-fhir.md).

#include <chrono>
#include <memory>
#include <string>

#include "engine/auth/auth_provider.h"
#include "engine/delivery/answer_pace.h"
#include "engine/delivery/row_delivery.h"
#include "engine/http/http_client.h"
#include "fhirbridge/sink.h"

namespace fhirbridge::delivery {

struct FhirSinkOptions {
  std::string destination;                   ///< configured name, for logs
  RowSettings row;                           ///< base URL, mode, Prefer
  http::HttpClientOptions http;              ///< max_connections = lanes in flight at once
  std::shared_ptr<auth::AuthProvider> auth;  ///< null: no Authorization header
  /// With two or more requests in flight, sleep up to this long to take several answers per
  /// wake-up, never longer than the server's pace allows (AnswerPace); 0: take each answer as
  /// soon as it comes.
  std::chrono::microseconds gather{0};
};

class FhirSink final : public Sink {
 public:
  static Result<std::unique_ptr<FhirSink>> Create(FhirSinkOptions options);

  /// Rows of different lanes go in parallel (up to http.max_connections requests in flight);
  /// a lane's rows one after the other; after a row of a lane that is not delivered, the later
  /// rows of that lane are kNotAttempted. A 401 makes the auth provider drop its credentials
  /// and the request is sent once more with new ones; a second 401 is permanent.
  SinkResult Deliver(const std::vector<OutboxItem>& batch) override;

  /// The pace answers are gathered at (tests).
  const AnswerPace& answer_pace() const { return pace_; }

 private:
  struct Lane;
  FhirSink(FhirSinkOptions options, std::unique_ptr<http::HttpClient> http);
  bool Submit(Lane& lane, std::size_t lane_index, SinkResult& result);
  void Settle(Lane& lane, const DeliveryOutcome& outcome, SinkResult& result);
  bool StartNextRow(Lane& lane, SinkResult& result);

  FhirSinkOptions options_;
  std::unique_ptr<http::HttpClient> http_;
  const std::vector<OutboxItem>* batch_ = nullptr;  ///< during Deliver
  AnswerPace pace_;
};

}  // namespace fhirbridge::delivery
