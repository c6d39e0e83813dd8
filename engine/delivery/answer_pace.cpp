#include "engine/delivery/answer_pace.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace fhirbridge::delivery {

std::chrono::microseconds AnswerPace::SleepFor(std::size_t in_flight) {
  slept_ = false;
  if (in_flight < 2 || interval_us_ <= 0 || most_.count() <= 0) return {};
  // Half of what is in flight: the server keeps the other half to work on (and a server that
  // works on several at once keeps doing so).
  const double pace = interval_us_ * static_cast<double>(in_flight / 2);
  slept_ = true;
  ++sleeps_;
  return std::min(most_, std::chrono::microseconds(static_cast<std::int64_t>(pace)));
}

void AnswerPace::Answered(std::size_t answered, std::size_t left, Clock::time_point now) {
  const bool busy_throughout = left_at_last_ > 0 && left > 0;
  const double elapsed_us = std::chrono::duration<double, std::micro>(now - last_).count();
  const bool slept = std::exchange(slept_, false);
  last_ = now;
  left_at_last_ = left;
  if (answered == 0) return;
  const double sample = elapsed_us / static_cast<double>(answered);
  if (slept && left == 0) {
    // Every request answered during the sleep: the server ran out of work, and may be much
    // faster than thought. The sleep's own length must not pass for its pace.
    interval_us_ = std::min(interval_us_, sample) / 2;
  } else if (busy_throughout) {
    interval_us_ = interval_us_ <= 0 ? sample : 0.75 * interval_us_ + 0.25 * sample;
  }
}

}  // namespace fhirbridge::delivery
