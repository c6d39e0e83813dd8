#pragma once

// How a pipeline worker (the mapping worker, a dispatcher) waits for work. Producers announce
// work; the worker, once caught up, waits for an announcement (or polls after `idle`), then
// lingers so that what arrives next shares its round: each round costs about the same whatever
// its size (a read of the store, a commit, a delivery). During the linger an announcement only
// counts, instead of waking the worker for nothing; `full` announcements (0: none) end the
// linger early, since a full round is waiting then.
//
//   signal.Restart();                       // before the worker thread starts
//   while (signal.BeginRound()) {           // false once stopped
//     if (DoRound() > 0) continue;
//     signal.Wait(idle, linger);
//   }
//   signal.Stop();                          // from another thread, then join

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace fhirbridge::service {

class WorkSignal {
 public:
  explicit WorkSignal(std::size_t full = 0) : full_(full) {}

  /// Work is there (or the store should be looked at again).
  void Announce() {
    {
      std::lock_guard lock(mutex_);
      announced_ = true;
      ++count_;
      if (lingering_ && !Full()) return;  // the worker looks when its linger ends anyway
    }
    cv_.notify_all();
  }

  /// Ends the worker's waits; BeginRound returns false from now on.
  void Stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
  }

  /// Lets a stopped worker run again.
  void Restart() {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }

  /// At the start of a round: forgets the announcements it answers; false once stopped.
  bool BeginRound() {
    std::lock_guard lock(mutex_);
    announced_ = false;
    count_ = 0;
    return !stopping_;
  }

  /// Caught up: waits up to `idle` for an announcement, then up to `linger` for more.
  void Wait(std::chrono::microseconds idle, std::chrono::microseconds linger) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, idle, [&] { return announced_ || stopping_; });
    if (!announced_ || linger.count() <= 0) return;
    lingering_ = true;
    cv_.wait_for(lock, linger, [&] { return stopping_ || Full(); });
    lingering_ = false;
  }

 private:
  bool Full() const { return full_ > 0 && count_ >= full_; }

  const std::size_t full_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool announced_ = false;
  bool lingering_ = false;
  bool stopping_ = false;
  std::size_t count_ = 0;  ///< announcements since the last BeginRound
};

}  // namespace fhirbridge::service
