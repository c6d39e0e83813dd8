#pragma once

// MessageStore on one SQLite file in WAL mode (the embedded default).
//
// Every write — a message from any connection, a batch of mapping results, a batch of
// deliveries — is a job for one writer thread. The writer takes all jobs queued, runs each in its
// own savepoint inside one transaction, and commits them together: one fsync covers every
// connection's messages and the pipeline's progress (group commit). Each caller returns when its
// job is durable; a job that fails is rolled back alone, a commit that fails fails them all.
// Reads use their own connection (WAL readers never wait for the writer), and a background
// thread checkpoints the WAL so that commits never stop for it.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/store/sqlite_db.h"
#include "fhirbridge/store.h"

namespace fhirbridge::store {

struct WriterStatements;
struct ReaderStatements;

struct SqliteStoreOptions {
  std::string path = "var/fhirbridge.db";  ///< the database file; its folder must exist
  bool full_sync = true;                   ///< fsync every commit (synchronous=FULL); else NORMAL
  std::size_t max_batch = 1024;            ///< most jobs in one commit
  /// How often the background thread checkpoints the WAL into the database file.
  std::chrono::milliseconds checkpoint_interval{std::chrono::milliseconds(200)};
};

class SqliteStore final : public MessageStore {
 public:
  /// Opens or creates the store and migrates its schema; starts the writer and checkpointer.
  static Result<std::unique_ptr<SqliteStore>> Open(SqliteStoreOptions options);
  ~SqliteStore() override;

  /// Refuses new writes (callers get Unavailable), commits the jobs already queued, stops the
  /// threads. Idempotent.
  void Close();

  Result<IntakeReceipt> Accept(Message message) override;
  Status Reject(Message message, std::string_view reason) override;

  Result<std::vector<StoredMessage>> PendingMappings(std::size_t limit) override;
  Status RecordMappings(const std::vector<MappingRecord>& records, std::int64_t now_us) override;
  Result<std::vector<OutboxItem>> PendingDeliveries(std::string_view destination,
                                                    std::int64_t after_id,
                                                    std::size_t limit) override;
  Status RecordDelivered(std::string_view destination, const std::vector<DeliveredRow>& rows,
                         std::int64_t now_us,
                         const std::optional<SinkCheckpoint>& checkpoint) override;
  Status RecordRetry(std::int64_t id, std::int64_t next_attempt_us,
                     std::string_view error) override;
  Status RecordDeadLetter(std::int64_t id, std::int64_t now_us, std::string_view reason,
                          int http_status, std::string_view outcome) override;
  Result<std::vector<DeadLetterSummary>> ListDeadLetters(std::string_view status,
                                                         std::int64_t before_id,
                                                         std::size_t limit) override;
  Result<DeadLetterDetail> GetDeadLetter(std::int64_t id) override;
  Status ReprocessDeadLetter(std::int64_t id, std::int64_t now_us, std::string_view actor) override;
  Status DiscardDeadLetter(std::int64_t id, std::int64_t now_us, std::string_view actor) override;
  Result<std::string> SinkState(std::string_view destination, std::string_view key) override;
  Result<QueueStats> Queue(std::string_view destination) override;
  Result<std::vector<MessageSummary>> ListMessages(std::string_view status, std::int64_t before_id,
                                                   std::size_t limit) override;
  Status ProbeWritable() override;

  /// Number of commits the writer made (tests check that jobs share commits).
  std::int64_t commits() const;

  /// Caps the database size in pages (PRAGMA max_page_count): tests use it to make writes fail
  /// as they do on a full disk.
  Status SetMaxPagesForTest(std::int64_t pages);

 private:
  struct Job {
    std::function<Status()> apply;  ///< runs on the writer thread, inside the transaction
    bool done = false;
    Status status;
  };

  SqliteStore(SqliteStoreOptions options, std::unique_ptr<SqliteDb> writer,
              std::unique_ptr<SqliteDb> reader);
  Status Prepare();
  /// Queues `apply` for the writer and waits until its commit (or failure).
  Status Write(std::function<Status()> apply);
  void WriterLoop();
  Status CommitBatch(std::deque<Job*>& batch);
  void CheckpointLoop();

  Status InsertMessage(const Message& m, IntakeReceipt& receipt);
  Status InsertRejected(const Message& m, std::string_view reason);
  Status ApplyMapping(const MappingRecord& r, std::int64_t now_us);
  /// The destinations a re-mapped message still has to reach: all of `routed` unless the
  /// message was queued again for some of them only (dead-letter reprocessing).
  Result<std::vector<std::string>> RedoDestinations(std::int64_t message_id,
                                                    const std::vector<std::string>& routed);
  Status ResolveDeadLetter(std::int64_t id, std::int64_t now_us, std::string_view actor,
                           bool reprocess);
  Status Audit(std::int64_t at_us, std::string_view event, std::string_view source,
               std::int64_t message_id, std::string_view detail);

  SqliteStoreOptions options_;
  std::unique_ptr<SqliteDb> writer_;  ///< used by the writer thread only
  std::unique_ptr<SqliteDb> reader_;  ///< guarded by reader_mutex_
  std::unique_ptr<WriterStatements> w_;
  std::unique_ptr<ReaderStatements> r_;
  std::mutex reader_mutex_;

  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;       ///< wakes the writer
  std::condition_variable done_cv_;        ///< wakes callers whose batch was committed
  std::condition_variable checkpoint_cv_;  ///< wakes the checkpointer at Close()
  std::deque<Job*> queue_;
  bool closing_ = false;
  bool closed_ = false;
  std::int64_t commits_ = 0;
  std::thread writer_thread_;
  std::thread checkpoint_thread_;
};

}  // namespace fhirbridge::store
