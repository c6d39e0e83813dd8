#pragma once

// Intake first: the mapping worker and the dispatchers run at a lower CPU priority than the
// connections and the store's committer, so that under a burst the ACKs keep their latency and
// the pipeline works the backlog off the disk behind them (it lives there by design).
//
// - The mapping worker is pure CPU work on stored messages: it runs under SCHED_IDLE, so a
//   connection thread woken by a message (or the committer) takes the CPU from it at once. With
//   nice 19 alone the scheduler let it finish its slice first: 8 connections of
//   fhirbridge_mllp_load were acknowledged at 5,800–6,300 messages/s with the mapper at nice 19
//   and at 6,800–7,900 under SCHED_IDLE, while the end-to-end bench into the FHIR server showed
//   no difference in CPU per message (docs/store.md, "Intake first").
// - The dispatchers wait on their destination most of the time, and a destination on the same
//   machine (a FHIR server) is a normal task: they keep nice 19, so that they are not starved by
//   it.
//
// When the CPU is idle neither changes anything. A failure (a seccomp profile, say) only leaves
// the thread as it was; lowering a thread's own priority needs no privilege.

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace fhirbridge::service {

/// The nice value of the pipeline's threads (Linux nice values are per thread).
inline constexpr int kPipelineNice = 19;

/// Lowers the calling dispatcher thread's priority to kPipelineNice.
inline void LowerPipelineThreadPriority() {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  (void)::setpriority(PRIO_PROCESS, tid, kPipelineNice);
}

/// Puts the calling mapping thread under SCHED_IDLE (nice 19 if that is refused).
inline void MakeMappingThreadIdlePriority() {
  LowerPipelineThreadPriority();
  const sched_param none{};
  (void)::sched_setscheduler(0, SCHED_IDLE, &none);  // 0: the calling thread
}

}  // namespace fhirbridge::service
