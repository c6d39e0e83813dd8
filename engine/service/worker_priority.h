#pragma once

// Intake first: the mapping worker and the dispatchers run at a lower CPU priority than the
// connections and the store's committer, so that under a burst the ACKs keep their latency and
// the pipeline works the backlog off the disk behind them (it lives there by design). Nice 19
// gives the pipeline little CPU while intake uses both cores (a sender waiting for its ACK
// resends, and a resend storm costs more than a late Bundle), and all of it as soon as intake
// leaves some idle; when the CPU is idle a nice value changes nothing.

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace fhirbridge::service {

/// The nice value of the pipeline's threads (Linux nice values are per thread).
inline constexpr int kPipelineNice = 19;

/// Lowers the calling thread's priority to kPipelineNice. Raising a nice value needs no
/// privilege; a failure (a seccomp profile, say) only leaves the thread as it was.
inline void LowerPipelineThreadPriority() {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  (void)::setpriority(PRIO_PROCESS, tid, kPipelineNice);
}

}  // namespace fhirbridge::service
