// The store's writer, syncer and checkpointer threads (the design is in sqlite_store.h).

#include <sqlite3.h>

#include <chrono>
#include <utility>
#include <vector>

#include "engine/store/audit_detail.h"
#include "engine/store/sqlite_store.h"
#include "engine/store/statements.h"
#include "engine/store/wal_file.h"
#include "fhirbridge/log.h"
#include "fhirbridge/thread_name.h"

namespace fhirbridge::store {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Tells `timings` (if set, and if it wants this kind) how long the work begun at `start` took.
void Report(const std::shared_ptr<const StoreTimings>& timings,
            std::function<void(std::chrono::nanoseconds)> StoreTimings::*which,
            SteadyClock::time_point start) {
  if (timings == nullptr || !((*timings).*which)) return;
  ((*timings).*which)(SteadyClock::now() - start);
}

}  // namespace

Status SqliteStore::Write(std::function<Status()> apply, Durability durability) {
  auto job = std::make_shared<Job>();
  job->apply = std::move(apply);
  job->durability = durability;
  {
    std::lock_guard lock(queue_mutex_);
    if (closing_) return Status::Unavailable("the store is shutting down");
    queue_.push_back(job);
  }
  queue_cv_.notify_one();  // after the unlock: the writer does not wake into a held mutex
  std::unique_lock done(job->done_mutex);
  job->done_cv.wait(done, [&] { return job->done; });
  return job->status;
}

void SqliteStore::Finish(Job& job) {
  {
    std::lock_guard lock(job.done_mutex);
    job.done = true;
  }
  // After the unlock: notified under it, the caller woke only to wait for the mutex again (two
  // context switches per answer). It may have returned already; the job lives as long as the
  // reference the answering thread holds.
  job.done_cv.notify_one();
}

void SqliteStore::WriterLoop() {
  NameThisThread("fb-store-write");
  std::vector<JobRef> answered;  // answered after queue_mutex_ is released
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    queue_cv_.wait(lock, [&] { return !queue_.empty() || closing_ || wal_restart_wanted_; });
    if (queue_.empty() && !wal_restart_wanted_) break;  // closing, nothing left
    std::deque<JobRef> batch;
    while (!queue_.empty() && batch.size() < options_.max_batch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    const bool restart = std::exchange(wal_restart_wanted_, false);
    const std::shared_ptr<const StoreTimings> timings = timings_;
    lock.unlock();
    if (restart) {
      const auto started = SteadyClock::now();
      RestartWal();  // commits wait meanwhile: its time shows with the checkpoints'
      Report(timings, &StoreTimings::checkpoint, started);
    }
    if (batch.empty()) {
      lock.lock();
      continue;
    }
    const auto started = SteadyClock::now();
    const Status status = CommitBatch(batch);
    Report(timings, &StoreTimings::commit, started);
    lock.lock();
    ++commits_;
    if (status.ok()) committed_audit_id_ = chain_.last_id;
    for (const JobRef& job : batch) {
      if (!status.ok()) job->status = status;
      if (options_.full_sync && status.ok() && job->status.ok() &&
          job->durability == Durability::kSynced) {
        sync_waiting_.push_back(job);  // the syncer answers it once the WAL is on disk
        continue;
      }
      answered.push_back(job);
    }
    // Only a waiting job needs the syncer now; pipeline commits wait for its next round.
    const bool wake_syncer = !sync_waiting_.empty();
    lock.unlock();
    if (wake_syncer) sync_cv_.notify_one();
    for (const JobRef& job : answered) Finish(*job);
    answered.clear();
    lock.lock();
  }
  writer_stopped_ = true;
  sync_cv_.notify_one();
}

void SqliteStore::SyncLoop() {
  NameThisThread("fb-store-sync");
  WalFile wal(options_.path);
  // What a crashed run left in the WAL may still be only in the page cache: on disk first.
  const Status first = wal.Sync();
  std::unique_lock lock(queue_mutex_);
  if (first.ok()) durable_audit_id_ = committed_audit_id_;
  for (;;) {
    // Intake waits here. Commits of the pipeline alone are synced after a while at the latest,
    // so that they (and their audit entries) do not stay volatile for long; and once more when
    // the writer stops.
    sync_cv_.wait_for(lock, options_.pipeline_sync_interval,
                      [&] { return !sync_waiting_.empty() || writer_stopped_; });
    if (sync_waiting_.empty() && commits_ == synced_through_commit_) {
      if (writer_stopped_) return;
      continue;
    }
    std::vector<JobRef> jobs;
    jobs.swap(sync_waiting_);
    const std::int64_t through_commit = commits_;
    const std::int64_t audit_id = committed_audit_id_;
    const std::shared_ptr<const StoreTimings> timings = timings_;
    lock.unlock();
    // Every commit counted in `through_commit` has written its frames before this call.
    const auto started = SteadyClock::now();
    const Status status = wal.Sync();
    Report(timings, &StoreTimings::sync, started);
    lock.lock();
    if (status.ok()) {
      ++synced_commit_count_;
      synced_through_commit_ = through_commit;
      durable_audit_id_ = audit_id;
    } else {
      Logger::Global().Error("store.sync_failed",
                             {LogField::Code("status", CodeName(status.code()))});
    }
    lock.unlock();
    for (const JobRef& job : jobs) {
      // Committed but maybe not on disk: the sender gets no positive ACK and resends; the
      // resend finds the first copy if it survived (a duplicate is acknowledged, not stored).
      if (!status.ok()) job->status = status;
      Finish(*job);
    }
    lock.lock();
  }
}

void SqliteStore::RestartWal() {
  int log_frames = 0;
  int copied = 0;
  // RESTART copies what is left, syncs the database file, and makes the next writer start the
  // WAL over. The background pass has just copied nearly everything. Without a busy handler a
  // reader still on old frames makes it return SQLITE_BUSY at once instead of putting the writer
  // (and every ACK behind it) to sleep; the checkpointer asks again after its next pass.
  sqlite3_busy_timeout(writer_->handle(), 0);
  const int rc = sqlite3_wal_checkpoint_v2(writer_->handle(), "main", SQLITE_CHECKPOINT_RESTART,
                                           &log_frames, &copied);
  sqlite3_busy_timeout(writer_->handle(), kBusyTimeoutMs);
  if (rc == SQLITE_OK) {
    std::lock_guard lock(queue_mutex_);
    ++wal_restart_count_;
  } else if (rc != SQLITE_BUSY) {
    Logger::Global().Warn(
        "store.wal_restart_failed",
        {LogField::Code("status",
                        CodeName(SqliteStatus(writer_->handle(), rc, "wal restart").code()))});
  }
}

Status SqliteStore::CommitBatch(std::deque<JobRef>& batch) {
  // The chain in memory follows what is committed: a batch that fails leaves it as it was.
  const ChainState before = chain_;
  Status status = CommitJobs(batch);
  if (!status.ok()) {
    chain_ = before;
    data_version_ = kReloadChain;  // the batch may have reloaded it: read it again next time
  }
  return status;
}

Status SqliteStore::FollowOtherWriters() {
  // Another process (a `deadletter` command beside the service) may have appended entries;
  // data_version changes only then, and reading it costs no page read.
  Result<bool> row = w_->data_version.Step();
  const std::int64_t version = row.ok() && *row ? w_->data_version.Int(0) : -1;
  w_->data_version.Reset();
  if (!row.ok()) return row.status();
  if (version == data_version_) return Status::Ok();
  const bool first = data_version_ == kFirstBatch;
  data_version_ = version;
  return first ? Status::Ok() : LoadChain();
}

Status SqliteStore::CommitJobs(std::deque<JobRef>& batch) {
  Transaction transaction(*writer_);
  FHIRBRIDGE_RETURN_IF_ERROR(transaction.Begin().WithContext("store"));
  FHIRBRIDGE_RETURN_IF_ERROR(FollowOtherWriters());
  const std::int64_t first_id = chain_.last_id;
  for (const JobRef& job : batch) {
    // A savepoint per job: a job that fails is undone alone; the others still commit.
    FHIRBRIDGE_RETURN_IF_ERROR(w_->savepoint.Run());
    const ChainState before_job = chain_;
    job->status = job->apply();
    if (!job->status.ok() && sqlite3_get_autocommit(writer_->handle()) != 0) {
      // SQLite rolled the whole transaction back itself (e.g. SQLITE_FULL): nothing of this
      // batch is stored, and every job in it fails with this job's reason.
      return job->status;
    }
    if (!job->status.ok()) {
      chain_ = before_job;
      FHIRBRIDGE_RETURN_IF_ERROR(w_->rollback_to.Run());
    }
    FHIRBRIDGE_RETURN_IF_ERROR(w_->release.Run());
  }
  // One signed head per commit (not per entry) keeps signing off the per-message path.
  if (chain_.last_id != first_id) FHIRBRIDGE_RETURN_IF_ERROR(SealChain(NowUs()));
  return transaction.Commit().WithContext("store commit");
}

void SqliteStore::CheckpointLoop() {
  NameThisThread("fb-store-ckpt");
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(options_.path, options_.full_sync);
  if (!db.ok()) {
    Logger::Global().Error("store.checkpointer_failed",
                           {LogField::Code("status", CodeName(db.status().code()))});
    return;
  }
  std::unique_lock lock(queue_mutex_);
  std::int64_t checkpointed_through = -1;  // commits_ at the last checkpoint
  auto last = std::chrono::steady_clock::now();
  while (!closing_) {
    checkpoint_cv_.wait_for(lock, options_.checkpoint_interval, [&] { return closing_; });
    if (closing_ || commits_ == checkpointed_through) continue;  // nothing new: no file work
    const auto now = std::chrono::steady_clock::now();
    if (checkpointed_through >= 0 &&
        commits_ - checkpointed_through < options_.checkpoint_commits &&
        now - last < options_.checkpoint_max_interval) {
      continue;
    }
    checkpointed_through = commits_;
    last = now;
    const std::shared_ptr<const StoreTimings> timings = timings_;
    lock.unlock();
    // PASSIVE: copies what it can without blocking the writer or the readers.
    int log_frames = 0;
    int copied = 0;
    const auto started = SteadyClock::now();
    const int rc = sqlite3_wal_checkpoint_v2((*db)->handle(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                             &log_frames, &copied);
    Report(timings, &StoreTimings::checkpoint, started);
    lock.lock();
    ++checkpoint_count_;
    if (rc == SQLITE_OK && log_frames >= options_.wal_restart_frames) {
      wal_restart_wanted_ = true;
      queue_cv_.notify_one();  // an idle writer restarts it now
    }
  }
}

void SqliteStore::SetTimings(std::shared_ptr<const StoreTimings> timings) {
  std::lock_guard lock(queue_mutex_);
  timings_ = std::move(timings);
}

StoreCounters SqliteStore::Counters() const {
  std::lock_guard lock(queue_mutex_);
  return {commits_, synced_commit_count_, wal_restart_count_, checkpoint_count_};
}

std::int64_t SqliteStore::DurableAuditId() const {
  std::lock_guard lock(queue_mutex_);
  return options_.full_sync ? durable_audit_id_ : committed_audit_id_;
}

}  // namespace fhirbridge::store
