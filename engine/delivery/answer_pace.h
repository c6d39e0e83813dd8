#pragma once

// How long the delivery thread may sleep to take several answers of a FHIR server per wake-up
// (docs/destination-fhir.md, "Answers taken together").
//
// On a machine where each sleep and wake-up costs a thread tens of microseconds, waking once
// per answer costs about as much as the rest of a delivery. With several requests in flight,
// the thread can instead sleep while the server works through them and take the answers
// together. It must wake before the server runs out of requests, or the server idles: so it
// sleeps at most as long as the server has lately taken to answer half of those in flight.

#include <chrono>
#include <cstddef>

namespace fhirbridge::delivery {

class AnswerPace {
 public:
  using Clock = std::chrono::steady_clock;

  /// `most`: the longest sleep (the configured gather_ms); 0 turns the sleeping off.
  explicit AnswerPace(std::chrono::microseconds most) : most_(most) {}

  /// How long to sleep with `in_flight` requests out: as long as the server has lately taken to
  /// answer half of them, at most the limit; 0 with fewer than two, or before the server's pace
  /// is known.
  std::chrono::microseconds SleepFor(std::size_t in_flight);

  /// A wait ended at `now` with `answered` answers, and `left` requests still unanswered.
  /// Only an interval in which the server always had a request to work on (some were left
  /// unanswered at its start and at its end) tells its pace. After a sleep the time measured
  /// includes the sleep; when the sleep saw every request answered, the server had run out of
  /// work and may be much faster, so the pace is halved instead. (Sleeping for half of those in
  /// flight, the moving average can also fall: up to twice as many answers as expected may come.)
  void Answered(std::size_t answered, std::size_t left, Clock::time_point now);

  /// A pause in sending (between two batches): the next interval does not tell the pace.
  void Paused() { left_at_last_ = 0; }

  /// The moving average of the server's time per answer, in microseconds (0: not known yet).
  double interval_us() const { return interval_us_; }
  /// How many times SleepFor asked for a sleep.
  std::size_t sleeps() const { return sleeps_; }

 private:
  std::chrono::microseconds most_;
  double interval_us_ = 0;
  Clock::time_point last_{};
  std::size_t left_at_last_ = 0;
  bool slept_ = false;  ///< the last SleepFor asked for a sleep
  std::size_t sleeps_ = 0;
};

}  // namespace fhirbridge::delivery
