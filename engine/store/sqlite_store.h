#pragma once

// MessageStore on one SQLite file in WAL mode (the embedded default).
//
// Every write — a message from any connection, a batch of mapping results, a batch of
// deliveries — is a job for one writer thread. The writer takes all jobs queued, runs each in its
// own savepoint inside one transaction, and commits them together (group commit) with
// synchronous=NORMAL. A syncer thread then fdatasyncs the WAL once for every commit made so far
// and answers the callers that need durability (intake, operators) while the writer already
// commits the next batch: commits follow each other at CPU speed, not at the disk's flush time.
// Each such caller returns when its job is durable; a job that fails is rolled back alone, a
// commit that fails fails them all.
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
#include <vector>

#include "engine/store/audit_chain.h"
#include "engine/store/payload_cipher.h"
#include "engine/store/sqlite_db.h"
#include "fhirbridge/store.h"

namespace fhirbridge::store {

struct WriterStatements;
struct ReaderStatements;

struct SqliteStoreOptions {
  SqliteStoreOptions() = default;
  /// The common three, so that `{path, sync, batch}` reads as before the audit options came.
  SqliteStoreOptions(std::string path_, bool full_sync_ = true, std::size_t max_batch_ = 1024)
      : path(std::move(path_)), full_sync(full_sync_), max_batch(max_batch_) {}

  std::string path = "var/fhirbridge.db";  ///< the database file; its folder must exist
  bool full_sync = true;         ///< intake and operator writes are on disk before they return
  std::size_t max_batch = 1024;  ///< most jobs in one commit
  /// With full_sync, the longest a commit of the pipeline alone (mapping results, deliveries)
  /// stays unsynced when no intake commit syncs it sooner.
  std::chrono::milliseconds pipeline_sync_interval{std::chrono::milliseconds(200)};
  /// How often the background thread looks at the WAL. It checkpoints it into the database file
  /// when checkpoint_commits commits came since its last checkpoint, so that under load each
  /// checkpoint's fsync of the database file is small (a large one delays the WAL fdatasyncs
  /// that intake ACKs wait for); and when fewer came, once checkpoint_max_interval has passed
  /// (a slow stream pays that fsync once a second, not twenty times; a slow stream is also what
  /// a server-bound delivery backlog writes, and a page it rewrote meanwhile is copied once).
  std::chrono::milliseconds checkpoint_interval{std::chrono::milliseconds(50)};
  std::int64_t checkpoint_commits = 32;
  std::chrono::milliseconds checkpoint_max_interval{std::chrono::milliseconds(1000)};
  /// WAL frames (pages) after which the writer restarts the WAL from its start. Under a steady
  /// stream of commits the background checkpoint never finds the WAL idle, and SQLite only
  /// starts a WAL over when a write begins with every frame checkpointed: without this the WAL
  /// grows by every byte written for as long as the stream lasts.
  std::int64_t wal_restart_frames = 32768;
  /// When above 0: the WAL file is extended with zeros to this size at open (PreallocateWal), and
  /// wal_restart_frames becomes three quarters of it, so that in the steady state no commit
  /// grows the file (store.wal_size_mb; the service sets it, tests mostly do not).
  std::int64_t wal_size_bytes = 0;
  /// Signs audit checkpoints and the chain head; null leaves them unsigned (the chain itself is
  /// still hashed). Must be able to sign.
  std::shared_ptr<const AuditKey> audit_key;
  std::int64_t audit_checkpoint_every = 1000;  ///< a signed checkpoint after this many entries
  std::chrono::seconds audit_checkpoint_interval{300};  ///< ... or after this long
  /// Encrypts raw payloads and Bundles at rest (AES-256-GCM); null stores them in the clear.
  std::shared_ptr<const PayloadCipher> cipher;
  /// Raw payloads of finished messages older than this are purged; 0 keeps them forever.
  std::int64_t retention_days = 0;
  /// How often the retention job looks for payloads to purge.
  std::chrono::milliseconds retention_interval{std::chrono::hours(1)};
};

/// Refuses to open a store whose payloads were encrypted with another key (or with a key, when
/// `cipher` is null); records the key's check value in a store that has none yet.
Status CheckPayloadKey(SqliteDb& db, const PayloadCipher* cipher);

/// What one retention pass purged.
struct PurgeReport {
  std::int64_t messages = 0;
  std::int64_t rejected = 0;
  std::int64_t first_message_id = 0;
  std::int64_t last_message_id = 0;
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
  Result<StoredMessage> GetMessage(std::int64_t id) override;
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
  Result<MappingBacklog> Unmapped() override;
  Result<std::vector<MessageSummary>> ListMessages(std::string_view status, std::int64_t before_id,
                                                   std::size_t limit) override;
  Status ProbeWritable() override;
  Status RecordAudit(AuditRecord record) override;
  Result<std::vector<AuditRecord>> ReadAudit(std::int64_t after_id, std::size_t limit) override;
  /// With full_sync, the last entry of the last synced commit; without, the last committed one
  /// (store.sync normal promises nothing across a power cut).
  std::int64_t DurableAuditId() const override;

  /// Purges the raw payloads and Bundles of finished messages (mapped and no delivery pending,
  /// or failed with no open dead letter) and of refused input received before `cutoff_us`, and
  /// audits it ("payload.purged"). The retention thread calls it; tests call it directly.
  Result<PurgeReport> PurgePayloads(std::int64_t cutoff_us, std::int64_t now_us);

  /// Commits, fdatasyncs of the WAL (each covers every commit before it) and WAL restarts
  /// (wal_restart_frames) since the store opened.
  StoreCounters Counters() const override;
  void SetTimings(std::shared_ptr<const StoreTimings> timings) override;

  /// Caps the database size in pages (PRAGMA max_page_count): tests use it to make writes fail
  /// as they do on a full disk.
  Status SetMaxPagesForTest(std::int64_t pages);

 private:
  /// How soon a write must be on disk. Intake and operator actions are fsynced before Write
  /// returns (store.sync full). The pipeline's progress (mapping results, deliveries, retries)
  /// is redone after a power loss without harm — mapping is deterministic, the file destination
  /// cuts its file back to the committed length, FHIR creates are conditional — so a batch of
  /// only such jobs commits without its own fsync and becomes durable with the next synced
  /// commit (the WAL is sequential). A process crash loses nothing either way.
  enum class Durability { kSynced, kWithNextSync };

  struct Job {
    std::function<Status()> apply;  ///< runs on the writer thread, inside the transaction
    Durability durability = Durability::kSynced;
    Status status;  ///< set before Finish, read by the caller after it
    // The caller waits on its own mutex, not on queue_mutex_: woken callers then do not queue
    // up behind the writer or the syncer, which hold queue_mutex_ between their rounds.
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;  ///< guarded by done_mutex
  };
  /// Shared by the caller and by whoever answers it, so that the answer can be signalled after
  /// done_mutex is released (the caller, woken, then takes it at once) even if the caller has
  /// returned by then.
  using JobRef = std::shared_ptr<Job>;
  /// Answers a job's caller.
  static void Finish(Job& job);

  SqliteStore(SqliteStoreOptions options, std::unique_ptr<SqliteDb> writer,
              std::unique_ptr<SqliteDb> reader);
  Status Prepare();
  /// Queues `apply` for the writer and waits until its commit (or failure).
  Status Write(std::function<Status()> apply, Durability durability = Durability::kSynced);
  void WriterLoop();
  /// On the writer thread between batches, when the checkpointer asked for it: checkpoints the
  /// few frames the background pass left and lets the next commit write the WAL from its start.
  void RestartWal();
  /// Makes committed jobs durable (WalFile::Sync) and answers their callers, while the writer
  /// commits the next batch: the disk's flush time no longer stops the commits.
  void SyncLoop();
  Status CommitBatch(std::deque<JobRef>& batch);
  void CheckpointLoop();
  void RetentionLoop();

  /// The audit chain as the writer thread sees it (committed entries plus the current batch's).
  struct ChainState {
    std::int64_t last_id = 0;
    std::string last_hash;
    std::int64_t unsealed = 0;  ///< entries since the last checkpoint
    std::int64_t last_checkpoint_us = 0;
    std::int64_t last_checkpoint_id = 0;
  };
  Status LoadChain();
  /// Appends one entry (assigns id, prev_hash and hash) inside the current job.
  Status AppendAudit(AuditRecord record);
  /// At the end of a batch that added entries: the signed head, and a checkpoint when due.
  Status SealChain(std::int64_t now_us);
  Status CommitJobs(std::deque<JobRef>& batch);
  /// Reloads the chain when another connection committed since this one last did.
  Status FollowOtherWriters();
  /// Encrypts `plain` when encryption is on; `aad` binds it to its row.
  Result<std::string> SealPayload(std::string_view plain, std::string_view aad) const;
  Result<std::string> OpenPayload(std::string_view stored, std::string_view aad) const;

  Status InsertMessage(const Message& m, IntakeReceipt& receipt);
  Status InsertRejected(const Message& m, std::string_view reason);
  Status ApplyMapping(const MappingRecord& r, std::int64_t now_us);
  /// message.mapped and message.validated (and message.dead_lettered for a failure).
  Status AuditMapping(const MappingRecord& r, const std::vector<std::string>& destinations,
                      std::int64_t now_us);
  /// The destinations a re-mapped message still has to reach: all of `routed` unless the
  /// message was queued again for some of them only (dead-letter reprocessing).
  Result<std::vector<std::string>> RedoDestinations(std::int64_t message_id,
                                                    const std::vector<std::string>& routed);
  Status ResolveDeadLetter(std::int64_t id, std::int64_t now_us, std::string_view actor,
                           bool reprocess);
  /// The short form for events of the engine itself (actor "fhirbridge").
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
  std::condition_variable checkpoint_cv_;  ///< wakes the checkpointer and retention at Close()
  std::condition_variable sync_cv_;        ///< wakes the syncer
  std::deque<JobRef> queue_;
  std::vector<JobRef> sync_waiting_;  ///< committed, waiting for the next WAL sync
  bool closing_ = false;
  bool closed_ = false;
  bool writer_stopped_ = false;
  bool wal_restart_wanted_ = false;  ///< set by the checkpointer, done by the writer
  std::int64_t commits_ = 0;
  std::int64_t synced_commit_count_ = 0;
  std::int64_t wal_restart_count_ = 0;
  std::int64_t checkpoint_count_ = 0;
  std::int64_t synced_through_commit_ = 0;  ///< commits_ when the last sync began
  std::int64_t committed_audit_id_ = 0;
  std::int64_t durable_audit_id_ = 0;
  std::shared_ptr<const StoreTimings> timings_;  ///< guarded by queue_mutex_
  std::thread writer_thread_;
  std::thread sync_thread_;
  std::thread checkpoint_thread_;
  std::thread retention_thread_;
  ChainState chain_;                                ///< writer thread only
  static constexpr std::int64_t kFirstBatch = -1;   ///< data_version_ before any batch
  static constexpr std::int64_t kReloadChain = -2;  ///< after a failed batch
  std::int64_t data_version_ = kFirstBatch;         ///< writer thread only
};

}  // namespace fhirbridge::store
