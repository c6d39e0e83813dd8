#include "engine/delivery/answer_pace.h"

#include <algorithm>
#include <cstdint>

namespace fhirbridge::delivery {

std::chrono::microseconds AnswerPace::SleepFor(std::size_t in_flight) const {
  if (in_flight < 2 || interval_us_ <= 0 || most_.count() <= 0) return {};
  const double pace = interval_us_ * static_cast<double>(in_flight - 1);
  return std::min(most_, std::chrono::microseconds(static_cast<std::int64_t>(pace)));
}

void AnswerPace::Answered(std::size_t answered, std::size_t left, Clock::time_point now) {
  const bool busy_throughout = left_at_last_ > 0 && left > 0;
  const double elapsed_us = std::chrono::duration<double, std::micro>(now - last_).count();
  last_ = now;
  left_at_last_ = left;
  if (answered == 0 || !busy_throughout) return;
  const double sample = elapsed_us / static_cast<double>(answered);
  interval_us_ = interval_us_ <= 0 ? sample : 0.75 * interval_us_ + 0.25 * sample;
}

}  // namespace fhirbridge::delivery
