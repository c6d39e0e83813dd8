#include "engine/delivery/answer_pace.h"

#include <boost/test/unit_test.hpp>

namespace fhirbridge::delivery {
namespace {

using namespace std::chrono_literals;
using Clock = AnswerPace::Clock;

BOOST_AUTO_TEST_SUITE(answer_pace)

BOOST_AUTO_TEST_CASE(does_not_sleep_before_the_pace_is_known_or_with_one_request_out) {
  AnswerPace pace(20ms);
  BOOST_TEST(pace.SleepFor(8).count() == 0);
  const Clock::time_point t0 = Clock::now();
  pace.Answered(1, 7, t0);  // the first wait: no interval yet
  BOOST_TEST(pace.interval_us() == 0.0);
  pace.Answered(1, 7, t0 + 4ms);
  BOOST_TEST(pace.interval_us() == 4000.0);
  BOOST_TEST(pace.SleepFor(1).count() == 0);
  BOOST_TEST(pace.SleepFor(0).count() == 0);
}

BOOST_AUTO_TEST_CASE(sleeps_while_the_server_answers_half_of_those_in_flight_at_most_the_limit) {
  AnswerPace pace(20ms);
  const Clock::time_point t0 = Clock::now();
  pace.Answered(1, 7, t0);
  pace.Answered(2, 6, t0 + 10ms);  // two answers in 10 ms: 5 ms each
  BOOST_TEST(pace.interval_us() == 5000.0);
  BOOST_TEST(pace.SleepFor(2).count() == 5000);
  BOOST_TEST(pace.SleepFor(4).count() == 10000);
  BOOST_TEST(pace.SleepFor(5).count() == 10000);
  BOOST_TEST(pace.SleepFor(8).count() == 20000);
  BOOST_TEST(pace.SleepFor(12).count() == 20000);  // 30 ms of answers, the limit is 20
}

BOOST_AUTO_TEST_CASE(learns_only_from_intervals_in_which_the_server_always_had_work) {
  AnswerPace pace(20ms);
  const Clock::time_point t0 = Clock::now();
  pace.Answered(1, 3, t0);
  pace.Answered(1, 3, t0 + 2ms);
  BOOST_TEST(pace.interval_us() == 2000.0);
  // Everything answered by the end: the server may have idled, the interval says nothing.
  pace.Answered(3, 0, t0 + 50ms);
  BOOST_TEST(pace.interval_us() == 2000.0);
  // Nothing was left at the start of the next one either.
  pace.Answered(1, 2, t0 + 90ms);
  BOOST_TEST(pace.interval_us() == 2000.0);
  // A pause between two batches: the next interval is not used either.
  pace.Paused();
  pace.Answered(1, 4, t0 + 500ms);
  BOOST_TEST(pace.interval_us() == 2000.0);
  // Then a moving average: 3/4 of the old pace, 1/4 of the new.
  pace.Answered(1, 4, t0 + 506ms);
  BOOST_TEST(pace.interval_us() == 3000.0);
}

BOOST_AUTO_TEST_CASE(a_server_faster_than_thought_shortens_the_sleep) {
  AnswerPace pace(20ms);
  const Clock::time_point t0 = Clock::now();
  pace.Answered(1, 7, t0);
  pace.Answered(1, 7, t0 + 4ms);
  BOOST_TEST(pace.SleepFor(8).count() == 16000);  // 4 answers at 4 ms each
  // All 8 answered during those 16 ms: 2 ms each at most, and maybe much less (the server ran
  // out of work). The sleep's own length must not pass for the server's pace: it is halved.
  pace.Answered(8, 0, t0 + 20ms);
  BOOST_TEST(pace.interval_us() == 1000.0);
  // More answers than the sleep was for, some left: the moving average falls by itself.
  BOOST_TEST(pace.SleepFor(8).count() == 4000);
  pace.Answered(1, 7, t0 + 21ms);  // the first wait after the server ran out: not learnt from
  BOOST_TEST(pace.SleepFor(8).count() == 4000);
  pace.Answered(8, 0, t0 + 21ms + 4000us);  // ran out again: halved again
  BOOST_TEST(pace.interval_us() == 250.0);
  BOOST_TEST(pace.SleepFor(8).count() == 1000);
  pace.Answered(1, 7, t0 + 26ms);
  BOOST_TEST(pace.SleepFor(8).count() == 1000);
  pace.Answered(5, 3, t0 + 27ms);  // 200 us each, some left
  BOOST_TEST(pace.interval_us() == 0.75 * 250.0 + 0.25 * 200.0);
  // Without a sleep, every request answered says nothing: the server may have idled.
  BOOST_TEST(pace.SleepFor(1).count() == 0);
  pace.Answered(1, 0, t0 + 40ms);
  BOOST_TEST(pace.interval_us() == 0.75 * 250.0 + 0.25 * 200.0);
}

BOOST_AUTO_TEST_CASE(a_limit_of_zero_turns_sleeping_off) {
  AnswerPace pace(0ms);
  const Clock::time_point t0 = Clock::now();
  pace.Answered(1, 7, t0);
  pace.Answered(1, 7, t0 + 5ms);
  BOOST_TEST(pace.SleepFor(8).count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::delivery
