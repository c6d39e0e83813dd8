#include "engine/store/sqlite_store.h"

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <thread>
#include <vector>

#include "engine/store/schema.h"
#include "engine/testing/temp_dir.h"

namespace fhirbridge::store {
namespace {

struct TempStore {
  testing::TempDir temp{"fhirbridge-store"};
  const std::filesystem::path& dir = temp.dir;
  std::unique_ptr<SqliteStore> Open(
      std::chrono::milliseconds pipeline_sync_interval = std::chrono::milliseconds(200)) {
    SqliteStoreOptions options{(dir / "store.db").string(), true, 1024};
    options.pipeline_sync_interval = pipeline_sync_interval;
    auto store = SqliteStore::Open(std::move(options));
    BOOST_REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::move(store).value();
  }
};

Message Msg(std::string source, std::string control_id, std::string raw) {
  Message m;
  m.source = std::move(source);
  m.format = "hl7v2";
  m.control_id = std::move(control_id);
  m.raw = std::move(raw);
  m.received_at_us = 1'700'000'000'000'000;
  m.peer = "127.0.0.1:5000";
  return m;
}

BOOST_AUTO_TEST_CASE(accept_stores_once_and_recognises_a_resend) {
  TempStore t;
  auto store = t.Open();
  auto first = store->Accept(Msg("icu", "A1", "MSH|^~\\&|x"));
  BOOST_REQUIRE(first.ok());
  BOOST_CHECK(first->outcome == IntakeReceipt::Outcome::kStored);
  auto again = store->Accept(Msg("icu", "A1", "MSH|^~\\&|x"));
  BOOST_REQUIRE(again.ok());
  BOOST_CHECK(again->outcome == IntakeReceipt::Outcome::kDuplicate);
  BOOST_CHECK_EQUAL(again->message_id, first->message_id);
  // Same control id, other bytes: a different message (some senders reuse MSH-10).
  auto other = store->Accept(Msg("icu", "A1", "MSH|^~\\&|y"));
  BOOST_REQUIRE(other.ok());
  BOOST_CHECK(other->outcome == IntakeReceipt::Outcome::kStored);
  // Same bytes from another source: a different message too.
  auto elsewhere = store->Accept(Msg("ward", "A1", "MSH|^~\\&|x"));
  BOOST_REQUIRE(elsewhere.ok());
  BOOST_CHECK(elsewhere->outcome == IntakeReceipt::Outcome::kStored);
  auto pending = store->PendingMappings(10);
  BOOST_REQUIRE(pending.ok());
  BOOST_CHECK_EQUAL(pending->size(), 3u);
}

BOOST_AUTO_TEST_CASE(concurrent_accepts_share_commits) {
  TempStore t;
  auto store = t.Open();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kPerThread; ++j) {
        auto r = store->Accept(Msg("icu", std::to_string(i) + "-" + std::to_string(j), "raw"));
        BOOST_CHECK(r.ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto pending = store->PendingMappings(100000);
  BOOST_REQUIRE(pending.ok());
  BOOST_CHECK_EQUAL(pending->size(), std::size_t{kThreads * kPerThread});
  // Group commit: concurrent callers share transactions, so there are fewer commits than messages.
  BOOST_TEST_MESSAGE("commits: " << store->Counters().commits);
  BOOST_CHECK_LT(store->Counters().commits, kThreads * kPerThread);
}

// A store whose checkpointer looks every 5 ms, checkpoints after `commits` commits or after
// `longest` with fewer; its first look (which copies what an earlier run left) is done.
struct Checkpointing {
  TempStore t;
  std::unique_ptr<SqliteStore> store;
  std::int64_t start = 0;  ///< checkpoints made before the test's commits

  Checkpointing(std::int64_t commits, std::chrono::milliseconds longest) {
    SqliteStoreOptions options{(t.dir / "store.db").string(), true, 1024};
    options.checkpoint_interval = std::chrono::milliseconds(5);
    options.checkpoint_commits = commits;
    options.checkpoint_max_interval = longest;
    auto opened = SqliteStore::Open(options);
    BOOST_REQUIRE(opened.ok());
    store = std::move(opened).value();
    start = WaitFor(1);
    BOOST_REQUIRE_GE(start, 1);
  }
  // Polls (for at most 10 s) until `n` checkpoints were made; returns how many there are.
  std::int64_t WaitFor(std::int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (store->Counters().checkpoints < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return store->Counters().checkpoints;
  }
};

// The background checkpoint (an fsync of the database file each time) waits for enough commits,
// or for its longest interval when fewer come.
BOOST_AUTO_TEST_CASE(checkpoints_wait_for_enough_commits_or_their_longest_interval) {
  Checkpointing c(4, std::chrono::hours(1));
  const std::int64_t commits = c.store->Counters().commits;
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE(c.store->Accept(Msg("icu", "C" + std::to_string(i), "r")).ok());
  BOOST_REQUIRE_EQUAL(c.store->Counters().commits, commits + 3);  // one per sequential Accept
  std::this_thread::sleep_for(std::chrono::milliseconds(100));    // twenty looks
  BOOST_CHECK_EQUAL(c.store->Counters().checkpoints, c.start);
  BOOST_REQUIRE(c.store->Accept(Msg("icu", "C3", "r")).ok());
  BOOST_CHECK_EQUAL(c.WaitFor(c.start + 1), c.start + 1);
}

BOOST_AUTO_TEST_CASE(a_single_commit_is_checkpointed_after_the_longest_interval) {
  Checkpointing c(1000, std::chrono::milliseconds(50));
  BOOST_REQUIRE(c.store->Accept(Msg("icu", "S1", "r")).ok());
  BOOST_CHECK_EQUAL(c.WaitFor(c.start + 1), c.start + 1);
}

BOOST_AUTO_TEST_CASE(the_wal_is_restarted_under_a_steady_stream_of_commits) {
  TempStore t;
  const std::string path = (t.dir / "store.db").string();
  SqliteStoreOptions options{path, true, 1024};
  options.wal_restart_frames = 64;
  options.checkpoint_interval = std::chrono::milliseconds(5);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  {
    auto store = SqliteStore::Open(options);
    BOOST_REQUIRE(store.ok());
    // Restarts stop commits while they run: each shows in the checkpoint timings.
    auto checkpoints = std::make_shared<std::atomic<std::int64_t>>(0);
    auto timings = std::make_shared<StoreTimings>();
    timings->checkpoint = [checkpoints](std::chrono::nanoseconds) { ++*checkpoints; };
    (*store)->SetTimings(timings);
    const StoreCounters before = (*store)->Counters();
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        for (int j = 0; j < kPerThread; ++j) {
          const std::string id = std::to_string(i) + "-" + std::to_string(j);
          BOOST_CHECK((*store)->Accept(Msg("icu", id, std::string(4000, 'x') + id)).ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    // 2,000 messages wrote well over 8 MB of frames; restarted every 64 frames, the WAL file
    // stays near twice that (journal_size_limit) plus what one checkpoint interval adds.
    const StoreCounters after = (*store)->Counters();
    BOOST_CHECK_GT(after.wal_restarts, 0);
    // One background checkpoint may straddle SetTimings: counted, but timed without them.
    BOOST_CHECK_GE(checkpoints->load() + 1, (after.checkpoints - before.checkpoints) +
                                                (after.wal_restarts - before.wal_restarts));
    const auto wal_bytes = std::filesystem::file_size(path + "-wal");
    BOOST_TEST_MESSAGE("restarts: " << (*store)->Counters().wal_restarts
                                    << ", WAL bytes: " << wal_bytes);
    BOOST_CHECK_LT(wal_bytes, 4u * 1024 * 1024);
  }
  auto store = SqliteStore::Open(options);
  BOOST_REQUIRE(store.ok());
  auto pending = (*store)->PendingMappings(100000);
  BOOST_REQUIRE(pending.ok());
  BOOST_CHECK_EQUAL(pending->size(), std::size_t{kThreads * kPerThread});
}

BOOST_AUTO_TEST_CASE(a_preallocated_wal_is_overwritten_in_place_and_read_back) {
  TempStore t;
  const std::string path = (t.dir / "store.db").string();
  SqliteStoreOptions options{path, true, 1024};
  options.wal_size_bytes = 4 << 20;
  {
    auto store = SqliteStore::Open(options);
    BOOST_REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    BOOST_CHECK_EQUAL(std::filesystem::file_size(path + "-wal"), 4u << 20);
    for (int i = 0; i < 50; ++i) {
      const std::string id = "P" + std::to_string(i);
      BOOST_REQUIRE((*store)->Accept(Msg("icu", id, std::string(3000, 'p') + id)).ok());
    }
    // About 150 frames of 4 KB went into the zeros: the file did not grow.
    BOOST_CHECK_EQUAL(std::filesystem::file_size(path + "-wal"), 4u << 20);
    BOOST_CHECK_EQUAL((*store)->PendingMappings(100)->size(), 50u);
  }
  auto store = SqliteStore::Open(options);
  BOOST_REQUIRE(store.ok());
  BOOST_CHECK_EQUAL((*store)->PendingMappings(100)->size(), 50u);
  BOOST_CHECK_EQUAL((*store)->GetMessage(50)->raw, std::string(3000, 'p') + "P49");
}

BOOST_AUTO_TEST_CASE(messages_survive_reopening_and_keep_their_state) {
  TempStore t;
  std::int64_t id = 0;
  {
    auto store = t.Open();
    auto r = store->Accept(Msg("icu", "C1", "bytes"));
    BOOST_REQUIRE(r.ok());
    id = r->message_id;
    BOOST_REQUIRE(store->Reject(Msg("icu", "", "garbage"), "no MSH segment").ok());
  }
  auto store = t.Open();
  auto pending = store->PendingMappings(10);
  BOOST_REQUIRE(pending.ok());
  BOOST_REQUIRE_EQUAL(pending->size(), 1u);
  BOOST_CHECK_EQUAL((*pending)[0].id, id);
  BOOST_CHECK_EQUAL((*pending)[0].raw, "bytes");
  BOOST_CHECK_EQUAL((*pending)[0].control_id, "C1");
}

BOOST_AUTO_TEST_CASE(mapping_creates_an_outbox_row_per_destination_and_delivery_empties_it) {
  TempStore t;
  auto store = t.Open();
  auto r = store->Accept(Msg("icu", "M1", "bytes"));
  BOOST_REQUIRE(r.ok());
  MappingRecord record;
  record.message_id = r->message_id;
  record.lane = "lane-1";
  record.bundle = R"({"resourceType":"Bundle"})";
  record.destinations = {"outbox", "ehr"};
  BOOST_REQUIRE(store->RecordMappings({record}, 5).ok());
  BOOST_CHECK(store->PendingMappings(10)->empty());
  // Recording the same mapping again (a restarted worker) creates nothing twice.
  BOOST_REQUIRE(store->RecordMappings({record}, 6).ok());
  auto outbox = store->PendingDeliveries("outbox", 0, 10);
  BOOST_REQUIRE(outbox.ok());
  BOOST_REQUIRE_EQUAL(outbox->size(), 1u);
  // The Bundle itself is not stored, only its SHA-256: delivery renders it from the raw bytes.
  BOOST_CHECK((*outbox)[0].payload.empty());
  BOOST_CHECK((*outbox)[0].bundle_digest == Sha256(record.bundle));
  BOOST_CHECK_EQUAL(store->GetMessage((*outbox)[0].message_id)->raw, "bytes");
  BOOST_CHECK(store->GetMessage(999).status().code() == Status::Code::kNotFound);
  BOOST_CHECK_EQUAL((*outbox)[0].lane, "lane-1");
  BOOST_CHECK_EQUAL(store->Queue("ehr")->pending, 1);
  BOOST_REQUIRE(store
                    ->RecordDelivered("outbox", {{(*outbox)[0].id, 0, ""}}, 7,
                                      SinkCheckpoint{"file_length", "42"})
                    .ok());
  BOOST_CHECK(store->PendingDeliveries("outbox", 0, 10)->empty());
  BOOST_CHECK_EQUAL(*store->SinkState("outbox", "file_length"), "42");
  BOOST_CHECK_EQUAL(store->Queue("outbox")->pending, 0);

  auto ehr = store->PendingDeliveries("ehr", 0, 10);
  BOOST_REQUIRE_EQUAL(ehr->size(), 1u);
  BOOST_REQUIRE(store->RecordRetry((*ehr)[0].id, 1000, "HTTP 503").ok());
  ehr = store->PendingDeliveries("ehr", 0, 10);
  BOOST_CHECK_EQUAL((*ehr)[0].attempts, 1);
  BOOST_CHECK_EQUAL((*ehr)[0].next_attempt_us, 1000);
  BOOST_REQUIRE(store->RecordDeadLetter((*ehr)[0].id, 2000, "HTTP 422", 422, "{}").ok());
  BOOST_CHECK(store->PendingDeliveries("ehr", 0, 10)->empty());
  BOOST_CHECK_EQUAL(store->Queue("ehr")->dead, 1);
}

std::int64_t LastAuditId(SqliteStore& store) {
  auto entries = store.ReadAudit(0, 100000);
  BOOST_REQUIRE(entries.ok());
  return entries->empty() ? 0 : entries->back().id;
}

MappingRecord Mapped(std::int64_t message_id) {
  MappingRecord record;
  record.message_id = message_id;
  record.lane = "l";
  record.bundle = "{}";
  record.destinations = {"outbox"};
  return record;
}

// /metrics shows what an ACK waits for: each commit, each fdatasync and each checkpoint is
// reported with its duration, from the moment timings are set until they are taken away.
BOOST_AUTO_TEST_CASE(timings_report_each_commit_sync_and_checkpoint) {
  Checkpointing c(1, std::chrono::milliseconds(50));
  struct Seen {
    std::atomic<int> commits{0}, syncs{0}, checkpoints{0};
    std::atomic<int> not_positive{0};  ///< durations of 0 or less: the work was not timed
    void Took(std::atomic<int>& n, std::chrono::nanoseconds d) {
      ++n;
      if (d.count() <= 0) ++not_positive;
    }
  };
  auto seen = std::make_shared<Seen>();
  auto timings = std::make_shared<StoreTimings>();
  timings->commit = [seen](std::chrono::nanoseconds d) { seen->Took(seen->commits, d); };
  timings->sync = [seen](std::chrono::nanoseconds d) { seen->Took(seen->syncs, d); };
  timings->checkpoint = [seen](std::chrono::nanoseconds d) { seen->Took(seen->checkpoints, d); };
  const StoreCounters before = c.store->Counters();
  c.store->SetTimings(timings);
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE(c.store->Accept(Msg("icu", "T" + std::to_string(i), "r")).ok());
  // Each sequential Accept returns after its commit and its sync were reported.
  const StoreCounters after = c.store->Counters();
  BOOST_CHECK_EQUAL(seen->commits.load(), after.commits - before.commits);
  BOOST_CHECK_EQUAL(seen->syncs.load(), after.syncs - before.syncs);
  BOOST_CHECK_EQUAL(seen->commits.load(), 3);
  BOOST_CHECK_EQUAL(seen->syncs.load(), 3);
  BOOST_CHECK_GE(c.WaitFor(before.checkpoints + 1), before.checkpoints + 1);
  BOOST_CHECK_GE(seen->checkpoints.load(), 1);
  BOOST_CHECK_EQUAL(seen->not_positive.load(), 0);
  c.store->SetTimings(nullptr);
  BOOST_REQUIRE(c.store->Accept(Msg("icu", "T3", "r")).ok());
  BOOST_CHECK_EQUAL(seen->commits.load(), 3);
  BOOST_CHECK_EQUAL(seen->syncs.load(), 3);
}

BOOST_AUTO_TEST_CASE(intake_commits_are_synced_and_pipeline_progress_rides_on_the_next_sync) {
  TempStore t;
  auto store = t.Open(std::chrono::hours(1));  // store.sync full; no timed sync in this test
  auto r = store->Accept(Msg("icu", "S1", "bytes"));
  BOOST_REQUIRE(r.ok());
  const std::int64_t commits = store->Counters().commits;
  const std::int64_t synced = store->Counters().syncs;
  BOOST_CHECK_EQUAL(synced, commits);
  const std::int64_t intake_audit = LastAuditId(*store);
  BOOST_CHECK_EQUAL(store->DurableAuditId(), intake_audit);
  BOOST_REQUIRE(store->RecordMappings({Mapped(r->message_id)}, 2).ok());
  auto rows = store->PendingDeliveries("outbox", 0, 10);
  BOOST_REQUIRE(store->RecordDelivered("outbox", {{(*rows)[0].id, 0, ""}}, 3, std::nullopt).ok());
  BOOST_CHECK_EQUAL(store->Counters().commits, commits + 2);
  BOOST_CHECK_EQUAL(store->Counters().syncs, synced);  // mapping and delivery: no own fsync
  // Their audit entries are committed but not yet known to be on disk.
  BOOST_CHECK_GT(LastAuditId(*store), intake_audit);
  BOOST_CHECK_EQUAL(store->DurableAuditId(), intake_audit);
  BOOST_REQUIRE(store->Accept(Msg("icu", "S2", "bytes2")).ok());
  BOOST_CHECK_EQUAL(store->Counters().syncs, synced + 1);
  BOOST_CHECK_EQUAL(store->DurableAuditId(), LastAuditId(*store));
  // Reopened, everything committed is there, synced or not (a process crash keeps the WAL).
  store.reset();
  store = t.Open();
  BOOST_CHECK(store->PendingDeliveries("outbox", 0, 10)->empty());
  BOOST_CHECK_EQUAL(store->PendingMappings(10)->size(), 1u);
}

BOOST_AUTO_TEST_CASE(pipeline_commits_alone_are_synced_within_the_interval) {
  TempStore t;
  auto store = t.Open(std::chrono::milliseconds(20));
  auto r = store->Accept(Msg("icu", "S1", "bytes"));
  BOOST_REQUIRE(r.ok());
  const std::int64_t synced = store->Counters().syncs;
  BOOST_REQUIRE(store->RecordMappings({Mapped(r->message_id)}, 2).ok());
  const std::int64_t mapped_audit = LastAuditId(*store);
  // Bounded wait: the syncer runs every 20 ms; 10 s is only the point at which to give up.
  for (int i = 0; i < 1000 && store->DurableAuditId() < mapped_audit; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_CHECK_EQUAL(store->DurableAuditId(), mapped_audit);
  BOOST_CHECK_EQUAL(store->Counters().syncs, synced + 1);
  // Nothing new: no further sync.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_CHECK_EQUAL(store->Counters().syncs, synced + 1);
}

BOOST_AUTO_TEST_CASE(a_reprocessed_dead_letter_is_mapped_again_for_the_refusing_destination_only) {
  TempStore t;
  auto store = t.Open();
  auto r = store->Accept(Msg("icu", "M1", "bytes"));
  MappingRecord record;
  record.message_id = r->message_id;
  record.lane = "lane-1";
  record.bundle = R"({"resourceType":"Bundle","v":1})";
  record.destinations = {"outbox", "ehr"};
  BOOST_REQUIRE(store->RecordMappings({record}, 5).ok());
  auto outbox = store->PendingDeliveries("outbox", 0, 10);
  BOOST_REQUIRE(
      store->RecordDelivered("outbox", {{(*outbox)[0].id, 201, "Observation/1"}}, 6, std::nullopt)
          .ok());
  auto ehr = store->PendingDeliveries("ehr", 0, 10);
  BOOST_REQUIRE(
      store->RecordDeadLetter((*ehr)[0].id, 7, "HTTP 422", 422, R"({"resourceType":"x"})").ok());

  auto open = store->ListDeadLetters("open", 0, 10);
  BOOST_REQUIRE(open.ok());
  BOOST_REQUIRE_EQUAL(open->size(), 1u);
  const DeadLetterSummary& letter = (*open)[0];
  BOOST_CHECK_EQUAL(letter.destination, "ehr");
  BOOST_CHECK_EQUAL(letter.control_id, "M1");
  BOOST_CHECK_EQUAL(letter.source, "icu");
  BOOST_CHECK_EQUAL(letter.http_status, 422);
  BOOST_CHECK_EQUAL(letter.reason, "HTTP 422");
  BOOST_CHECK_EQUAL(store->GetDeadLetter(letter.id)->outcome, R"({"resourceType":"x"})");
  BOOST_CHECK(store->GetDeadLetter(letter.id + 100).status().code() == Status::Code::kNotFound);

  BOOST_REQUIRE(store->ReprocessDeadLetter(letter.id, 8, "cli:tester").ok());
  // Reprocessing twice is refused: the first one already queued the message again.
  BOOST_CHECK(store->ReprocessDeadLetter(letter.id, 9, "cli:tester").code() ==
              Status::Code::kFailedPrecondition);
  BOOST_CHECK(store->ListDeadLetters("open", 0, 10)->empty());
  auto done = store->ListDeadLetters("reprocessed", 0, 10);
  BOOST_REQUIRE_EQUAL(done->size(), 1u);
  BOOST_CHECK_EQUAL((*done)[0].resolved_by, "cli:tester");
  BOOST_CHECK_EQUAL((*done)[0].resolved_at_us, 8);

  auto again = store->PendingMappings(10);
  BOOST_REQUIRE_EQUAL(again->size(), 1u);
  BOOST_CHECK_EQUAL((*again)[0].id, r->message_id);
  record.bundle = R"({"resourceType":"Bundle","v":2})";
  BOOST_REQUIRE(store->RecordMappings({record}, 10).ok());
  // Only the destination that refused it gets the new mapping; "outbox" had it already.
  BOOST_CHECK(store->PendingDeliveries("outbox", 0, 10)->empty());
  ehr = store->PendingDeliveries("ehr", 0, 10);
  BOOST_REQUIRE_EQUAL(ehr->size(), 1u);
  BOOST_CHECK((*ehr)[0].bundle_digest == Sha256(record.bundle));
}

BOOST_AUTO_TEST_CASE(a_discarded_dead_letter_is_closed_and_nothing_is_queued) {
  TempStore t;
  auto store = t.Open();
  auto r = store->Accept(Msg("icu", "F1", "a"));
  MappingRecord failed;
  failed.message_id = r->message_id;
  failed.result = MappingRecord::Result::kFailed;
  failed.lane = "l";
  failed.destinations = {"outbox"};
  failed.outcome = R"({"resourceType":"OperationOutcome"})";
  BOOST_REQUIRE(store->RecordMappings({failed}, 1).ok());
  auto open = store->ListDeadLetters("", 0, 10);
  BOOST_REQUIRE_EQUAL(open->size(), 1u);
  BOOST_CHECK_EQUAL((*open)[0].destination, "");
  BOOST_CHECK_EQUAL((*open)[0].status, "open");
  BOOST_REQUIRE(store->DiscardDeadLetter((*open)[0].id, 2, "admin-token:abc").ok());
  BOOST_CHECK_EQUAL(store->ListDeadLetters("", 0, 10)->front().status, "discarded");
  BOOST_CHECK(store->PendingMappings(10)->empty());
  BOOST_CHECK(store->ListDeadLetters("nonsense", 0, 10).status().code() ==
              Status::Code::kInvalidArgument);
}

BOOST_AUTO_TEST_CASE(the_mapping_backlog_counts_what_waits_for_the_mapper_and_its_oldest) {
  TempStore t;
  auto store = t.Open();
  BOOST_CHECK_EQUAL(store->Unmapped()->messages, 0);
  BOOST_CHECK_EQUAL(store->Unmapped()->oldest_received_us, 0);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    Message m = Msg("icu", "B" + std::to_string(i), "raw " + std::to_string(i));
    m.received_at_us = 1'000 + i;
    auto r = store->Accept(std::move(m));
    BOOST_REQUIRE(r.ok());
    ids.push_back(r->message_id);
  }
  BOOST_CHECK_EQUAL(store->Unmapped()->messages, 3);
  BOOST_CHECK_EQUAL(store->Unmapped()->oldest_received_us, 1'000);
  // Mapped (into a queue) and held (waiting for a patient identity) both leave the backlog.
  MappingRecord held{ids[1], MappingRecord::Result::kHeld, "l", "", {"outbox"}, "", 0, "", 0, 0,
                     ""};
  BOOST_REQUIRE(store->RecordMappings({Mapped(ids[0]), held}, 5).ok());
  BOOST_CHECK_EQUAL(store->Unmapped()->messages, 1);
  BOOST_CHECK_EQUAL(store->Unmapped()->oldest_received_us, 1'002);
  BOOST_CHECK_EQUAL(store->Queue("outbox")->pending, 1);
  BOOST_REQUIRE(store->RecordMappings({Mapped(ids[2])}, 6).ok());
  BOOST_CHECK_EQUAL(store->Unmapped()->messages, 0);
  BOOST_CHECK_EQUAL(store->Unmapped()->oldest_received_us, 0);
}

BOOST_AUTO_TEST_CASE(failed_and_held_mappings_are_listed_without_outbox_rows) {
  TempStore t;
  auto store = t.Open();
  auto a = store->Accept(Msg("icu", "F1", "a"));
  auto b = store->Accept(Msg("icu", "H1", "b"));
  MappingRecord failed{a->message_id,
                       MappingRecord::Result::kFailed,
                       "l",
                       "",
                       {"outbox"},
                       "{\"resourceType\":\"OperationOutcome\"}",
                       0,
                       "",
                       1,
                       0,
                       ""};
  MappingRecord held{
      b->message_id, MappingRecord::Result::kHeld, "l", "", {"outbox"}, "", 0, "", 0, 0, ""};
  BOOST_REQUIRE(store->RecordMappings({failed, held}, 1).ok());
  BOOST_CHECK(store->PendingDeliveries("outbox", 0, 10)->empty());
  auto list = store->ListMessages("failed", 0, 10);
  BOOST_REQUIRE(list.ok());
  BOOST_REQUIRE_EQUAL(list->size(), 1u);
  BOOST_CHECK_EQUAL((*list)[0].control_id, "F1");
  BOOST_CHECK_EQUAL(store->ListMessages("held", 0, 10)->size(), 1u);
  BOOST_CHECK_EQUAL(store->ListMessages("", 0, 10)->size(), 2u);
  BOOST_CHECK(store->ListMessages("bogus", 0, 10).status().IsInvalidArgument());
}

BOOST_AUTO_TEST_CASE(closed_store_refuses_intake) {
  TempStore t;
  auto store = t.Open();
  store->Close();
  auto r = store->Accept(Msg("icu", "X", "x"));
  BOOST_CHECK(!r.ok());
  BOOST_CHECK(r.status().IsUnavailable());
}

BOOST_AUTO_TEST_CASE(a_store_from_a_newer_build_is_refused) {
  TempStore t;
  { auto store = t.Open(); }
  {
    auto db = SqliteDb::Open((t.dir / "store.db").string(), false);
    BOOST_REQUIRE(db.ok());
    BOOST_REQUIRE((*db)->Exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'").ok());
  }
  auto store = SqliteStore::Open({(t.dir / "store.db").string(), true, 16});
  BOOST_REQUIRE(!store.ok());
  BOOST_CHECK(store.status().code() == Status::Code::kFailedPrecondition);
  BOOST_CHECK_NE(store.status().message().find("schema version 99"), std::string::npos);
}

// Turns a store back into what versions 1-4 wrote: raw bytes in messages.raw.
constexpr const char* kRawBackIntoMessages =
    "UPDATE messages SET raw = (SELECT raw FROM message_raw WHERE message_id = messages.id); "
    "DROP TABLE message_raw;";

BOOST_AUTO_TEST_CASE(a_version_3_store_is_upgraded_and_its_stored_bundles_are_delivered) {
  TempStore t;
  {
    auto store = t.Open();
    auto r = store->Accept(Msg("icu", "V3", "bytes"));
    MappingRecord record;
    record.message_id = r->message_id;
    record.lane = "l";
    record.bundle = "{}";
    record.destinations = {"outbox"};
    BOOST_REQUIRE(store->RecordMappings({record}, 5).ok());
  }
  {
    // What version 3 wrote: the Bundle itself, no digest column, raw bytes in the messages row.
    auto db = SqliteDb::Open((t.dir / "store.db").string(), false);
    BOOST_REQUIRE(db.ok());
    BOOST_REQUIRE((*db)->Exec(kRawBackIntoMessages).ok());
    BOOST_REQUIRE((*db)->Exec("UPDATE messages SET bundle = CAST('{\"v\":3}' AS BLOB)").ok());
    BOOST_REQUIRE((*db)->Exec("ALTER TABLE messages DROP COLUMN bundle_digest").ok());
    BOOST_REQUIRE((*db)->Exec("UPDATE meta SET value = '3' WHERE key = 'schema_version'").ok());
  }
  auto store = t.Open();
  auto rows = store->PendingDeliveries("outbox", 0, 10);
  BOOST_REQUIRE(rows.ok());
  BOOST_REQUIRE_EQUAL(rows->size(), 1u);
  BOOST_CHECK_EQUAL((*rows)[0].payload, "{\"v\":3}");
  BOOST_CHECK((*rows)[0].bundle_digest.empty());
}

BOOST_AUTO_TEST_CASE(a_version_4_store_keeps_its_raw_bytes_in_messages_and_reads_them) {
  TempStore t;
  std::int64_t id = 0;
  {
    auto store = t.Open();
    auto r = store->Accept(Msg("icu", "V4", "version 4 bytes"));
    BOOST_REQUIRE(r.ok());
    id = r->message_id;
  }
  {
    // What version 4 wrote: the raw bytes in the messages row, no message_raw table.
    auto db = SqliteDb::Open((t.dir / "store.db").string(), false);
    BOOST_REQUIRE(db.ok());
    BOOST_REQUIRE((*db)->Exec(kRawBackIntoMessages).ok());
    BOOST_REQUIRE((*db)->Exec("UPDATE meta SET value = '4' WHERE key = 'schema_version'").ok());
  }
  auto store = t.Open();
  auto pending = store->PendingMappings(10);
  BOOST_REQUIRE(pending.ok());
  BOOST_REQUIRE_EQUAL(pending->size(), 1u);
  BOOST_CHECK_EQUAL((*pending)[0].raw, "version 4 bytes");
  auto r = store->Accept(Msg("icu", "V5", "version 5 bytes"));
  BOOST_REQUIRE(r.ok());
  BOOST_CHECK_EQUAL(store->GetMessage(id)->raw, "version 4 bytes");
  BOOST_CHECK_EQUAL(store->GetMessage(r->message_id)->raw, "version 5 bytes");
}

BOOST_AUTO_TEST_CASE(an_unwritable_store_gives_no_receipt_and_recovers) {
  TempStore t;
  auto store = t.Open();
  // Simulate the disk filling up: SQLite's page limit makes the next write fail with
  // SQLITE_FULL, which is what a full file system gives too.
  std::string big(64 * 1024, 'x');
  BOOST_REQUIRE(store->Accept(Msg("icu", "B0", big)).ok());
  BOOST_REQUIRE(store->SetMaxPagesForTest(1).ok());
  auto refused = store->Accept(Msg("icu", "B1", big + "1"));
  BOOST_REQUIRE(!refused.ok());
  BOOST_CHECK_MESSAGE(refused.status().IsResourceExhausted(), refused.status().ToString());
  BOOST_REQUIRE(store->SetMaxPagesForTest(1 << 30).ok());
  auto accepted = store->Accept(Msg("icu", "B1", big + "1"));
  BOOST_REQUIRE_MESSAGE(accepted.ok(), accepted.status().ToString());
  BOOST_CHECK(store->ProbeWritable().ok());
  BOOST_CHECK_EQUAL(store->PendingMappings(10)->size(), 2u);
}

}  // namespace
}  // namespace fhirbridge::store
