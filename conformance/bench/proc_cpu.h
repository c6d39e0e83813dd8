#pragma once

// CPU time of processes and their threads from /proc, for the benchmarks that report CPU per
// message (Linux only; tick resolution, 10 ms at the usual 100 Hz).

#include <map>
#include <string>

namespace fhirbridge::conformance {

/// utime + stime of a process in seconds; 0 when it cannot be read.
double ProcessCpuSeconds(int pid);

struct ThreadCpu {
  std::string name;  ///< the thread's name (comm)
  double seconds = 0;
};
/// Every live thread of a process, by thread id.
using ThreadCpuSnapshot = std::map<int, ThreadCpu>;
ThreadCpuSnapshot ThreadCpuOf(int pid);

/// What each thread name used between two snapshots, in µs per message, largest first
/// ("fb-map 120.0 us, fb-deliver 98.3 us"). `process_seconds` is what the process used over the
/// same span; what it used beyond its live threads is shown as "(ended threads)".
std::string CpuByThread(const ThreadCpuSnapshot& before, const ThreadCpuSnapshot& after,
                        double process_seconds, double messages);

}  // namespace fhirbridge::conformance
