#pragma once

// Helpers shared by the MLLP tests: Intakes that record what they are given (the tests'
// observers of the engine boundary) or fail like a full store, and message builders.

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "connectors/hl7v2/er7.h"
#include "fhirbridge/intake.h"

namespace fhirbridge::mllp::testing {

/// Keeps every accepted and rejected message in memory; thread-safe. A second Accept of the
/// same source + control id + bytes is a kDuplicate, as the store does it.
class RecordingIntake : public Intake {
 public:
  Result<IntakeReceipt> Accept(Message message) override {
    std::lock_guard lock(mutex_);
    const std::string key = message.source + '\x1F' + message.control_id + '\x1F' + message.raw;
    IntakeReceipt receipt;
    if (auto it = ids_.find(key); it != ids_.end()) {
      receipt.outcome = IntakeReceipt::Outcome::kDuplicate;
      receipt.message_id = it->second;
      return receipt;
    }
    receipt.message_id = static_cast<std::int64_t>(accepted_.size()) + 1;
    ids_.emplace(key, receipt.message_id);
    accepted_.push_back(std::move(message));
    return receipt;
  }

  Status Reject(Message message, std::string_view reason) override {
    std::lock_guard lock(mutex_);
    rejected_.emplace_back(std::move(message), std::string(reason));
    return Status::Ok();
  }

  std::vector<Message> accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  std::vector<std::pair<Message, std::string>> rejected() const {
    std::lock_guard lock(mutex_);
    return rejected_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::int64_t> ids_;
  std::vector<Message> accepted_;
  std::vector<std::pair<Message, std::string>> rejected_;
};

/// A store that cannot write: Accept and Reject fail (disk full), counting the attempts.
class FailingIntake : public Intake {
 public:
  Result<IntakeReceipt> Accept(Message) override {
    ++accept_calls;
    return Status::ResourceExhausted("store: disk full");
  }
  Status Reject(Message, std::string_view) override {
    ++reject_calls;
    return Status::Unavailable("store: unwritable");
  }
  std::atomic<int> accept_calls{0};
  std::atomic<int> reject_calls{0};
};

/// An ORU^R01 with control id `control_id`; `msh15_16` ("|AL|NE") goes after MSH-14.
inline std::string Oru(std::string_view control_id, std::string_view msh15_16 = "",
                       std::string_view type = "ORU^R01^ORU_R01") {
  std::string m = "MSH|^~\\&|GW^0001^EUI-64|ICU|FHIRBRIDGE|HOSP|20240102030405||";
  m += type;
  m += '|';
  m += control_id;
  m += "|P|2.6||";
  m += msh15_16;
  m += "\rPID|||12345^^^HOSP^MR||DOE^JOHN\rOBR|1|||182777000^monitoring^SCT\r"
       "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||F\r";
  return m;
}

/// Field `n` of segment `index` (0 = MSH) of an ACK, read with the real parser.
inline std::string AckField(const std::string& ack, std::size_t index, std::size_t n) {
  auto parsed = hl7v2::Parse(ack);
  BOOST_REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
  return std::string(parsed->segment(index).field(n).raw());
}

/// Waits up to `limit` for `done()`; returns its last value.
template <typename Predicate>
bool WaitFor(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace fhirbridge::mllp::testing
