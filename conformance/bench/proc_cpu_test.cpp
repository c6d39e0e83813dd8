#include "conformance/bench/proc_cpu.h"

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <thread>

#include <boost/test/unit_test.hpp>

namespace fhirbridge::conformance {
namespace {

BOOST_AUTO_TEST_SUITE(proc_cpu)

// A named thread that burns CPU shows under its name, and the split adds up to the process.
BOOST_AUTO_TEST_CASE(a_busy_named_thread_shows_under_its_name) {
  const int pid = static_cast<int>(::getpid());
  const ThreadCpuSnapshot before = ThreadCpuOf(pid);
  const double process_before = ProcessCpuSeconds(pid);
  BOOST_TEST(before.size() >= 1u);
  BOOST_TEST(before.count(pid) == 1u);  // the main thread's id is the process id
  volatile unsigned long sink = 0;
  ThreadCpuSnapshot during;
  std::thread busy([&] {
    ::pthread_setname_np(::pthread_self(), "cpu-test-busy");
    // Until it has used 0.3 s of CPU itself, however busy the machine is (at most 20 s).
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    timespec used{};
    while (std::chrono::steady_clock::now() < give_up) {
      for (int i = 0; i < 100000; ++i) sink = sink + 1;
      ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used);
      if (used.tv_sec > 0 || used.tv_nsec >= 300'000'000) break;
    }
    during = ThreadCpuOf(pid);  // while it still runs
  });
  busy.join();
  const double process_seconds = ProcessCpuSeconds(pid) - process_before;
  BOOST_TEST(process_seconds >= 0.1);
  bool found = false;
  for (const auto& [tid, thread] : during) {
    if (thread.name == "cpu-test-busy") {
      found = true;
      BOOST_TEST(thread.seconds >= 0.1);
    }
  }
  BOOST_TEST(found);
  // Per message over 1,000 "messages": the busy thread leads with ~300 us.
  const std::string text = CpuByThread(before, during, process_seconds, 1000);
  BOOST_TEST_MESSAGE(text);
  BOOST_TEST(text.rfind("cpu-test-busy ", 0) == 0u, text);
  // Once it has ended, its time is still counted, as "(ended threads)".
  const std::string after = CpuByThread(before, ThreadCpuOf(pid), process_seconds, 1000);
  BOOST_TEST(after.find("(ended threads) ") != std::string::npos, after);
}

// Rounding alone is not an ended thread: with every thread still alive and the process figure
// within a tick of theirs, nothing is shown as ended.
BOOST_AUTO_TEST_CASE(no_ended_threads_when_none_ended) {
  const int pid = static_cast<int>(::getpid());
  ThreadCpuSnapshot before;
  before[pid] = {"main", 1.0, 0};
  ThreadCpuSnapshot after;
  after[pid] = {"main", 1.995, 0};
  BOOST_TEST(CpuByThread(before, after, 1.0, 1000) == "main 995.0 us");
  after.erase(pid);
  after[pid + 1] = {"other", 0.5, 0};  // the main thread is gone
  BOOST_TEST(CpuByThread(before, after, 1.0, 1000) == "other 500.0 us, (ended threads) 500.0 us");
}

// A thread that sleeps and is woken N times shows at least N waits.
BOOST_AUTO_TEST_CASE(counts_the_waits_of_a_thread_that_sleeps) {
  const int pid = static_cast<int>(::getpid());
  const ThreadCpuSnapshot before = ThreadCpuOf(pid);
  ThreadCpuSnapshot during;
  std::thread sleeper([&] {
    ::pthread_setname_np(::pthread_self(), "cpu-test-sleep");
    for (int i = 0; i < 50; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    during = ThreadCpuOf(pid);
  });
  sleeper.join();
  long long waits = -1;
  for (const auto& [tid, thread] : during) {
    if (thread.name == "cpu-test-sleep") waits = thread.waits;
  }
  BOOST_TEST(waits >= 50);
  const std::string text = WaitsByThread(before, during, 10);
  BOOST_TEST_MESSAGE(text);
  BOOST_TEST(text.rfind("cpu-test-sleep ", 0) == 0u, text);
}

BOOST_AUTO_TEST_CASE(an_unknown_process_reads_as_nothing) {
  BOOST_TEST(ProcessCpuSeconds(-1) == 0.0);
  BOOST_TEST(ThreadCpuOf(-1).empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::conformance
