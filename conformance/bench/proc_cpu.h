#pragma once

// CPU time of processes and their threads from /proc, for the benchmarks that report CPU per
// message (Linux only). A process's time has tick resolution (10 ms at the usual 100 Hz); a
// thread's comes from its schedstat in nanoseconds where the kernel has it, since ten threads
// each rounded down to a tick lose up to 100 ms between them.

#include <map>
#include <string>

namespace fhirbridge::conformance {

/// utime + stime of a process in seconds; 0 when it cannot be read.
double ProcessCpuSeconds(int pid);

struct ThreadCpu {
  std::string name;  ///< the thread's name (comm)
  double seconds = 0;
  /// Times the thread gave up the CPU to wait (voluntary_ctxt_switches): each is a sleep and a
  /// wake-up, which on a virtual machine whose idle CPUs halt costs far more than a system call.
  long long waits = 0;
};
/// Every live thread of a process, by thread id.
using ThreadCpuSnapshot = std::map<int, ThreadCpu>;
ThreadCpuSnapshot ThreadCpuOf(int pid);

/// What each thread name used between two snapshots, in µs per message, largest first
/// ("fb-map 120.0 us, fb-deliver 98.3 us"). `process_seconds` is what the process used over the
/// same span; what it used beyond its live threads, when that is more than the rounding of its
/// figure to ticks or a thread of `before` has ended, is shown as "(ended threads)".
std::string CpuByThread(const ThreadCpuSnapshot& before, const ThreadCpuSnapshot& after,
                        double process_seconds, double messages);

/// Waits per message of each thread name between two snapshots, most first, names without
/// any left out ("fb-deliver 0.97, fb-store-ckpt 0.13").
std::string WaitsByThread(const ThreadCpuSnapshot& before, const ThreadCpuSnapshot& after,
                          double messages);

}  // namespace fhirbridge::conformance
