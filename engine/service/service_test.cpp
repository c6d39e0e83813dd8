// The pipeline behind the store: file sink exactly-once across crashes, dispatcher lane order
// and retries, Bundles rendered at delivery, metrics rendering.

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "engine/service/bundle_renderer.h"
#include "engine/service/dispatcher.h"
#include "engine/service/file_sink.h"
#include "engine/service/metrics.h"
#include "engine/store/sqlite_store.h"
#include "engine/testing/temp_dir.h"

namespace fhirbridge::service {
namespace {

struct TempDir : testing::TempDir {
  TempDir() : testing::TempDir("fhirbridge-service") {}
};

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A mapper whose Bundle is the raw message itself (raw "unmappable…" fails), counting its calls:
// enough to see when delivery renders from the store and when it uses what mapping kept.
class EchoMapper final : public Mapper {
 public:
  MapOutput Map(std::string_view raw) const override {
    ++calls;
    MapOutput out;
    if (raw.rfind("unmappable", 0) == 0) {
      out.issues.push_back(DataIssue::Error("invalid", "", "cannot map"));
      return out;
    }
    out.result = MapOutput::Result::kMapped;
    out.bundle = std::string(raw) + suffix;
    return out;
  }
  mutable std::atomic<int> calls{0};
  std::string suffix;  ///< a changed mapping, for the digest check
};

std::map<std::string, SourceRoute, std::less<>> EchoRoutes(std::shared_ptr<EchoMapper> mapper) {
  std::map<std::string, SourceRoute, std::less<>> routes;
  routes["icu"].mapper = std::move(mapper);
  return routes;
}

/// Stores one message of source "icu" with `raw` and records its mapping (Bundle = raw) with
/// one outbox row for "ehr".
std::int64_t StoreMapped(store::SqliteStore& store, const std::string& raw,
                         const std::string& lane) {
  Message m;
  m.source = "icu";
  m.format = "hl7v2";
  m.control_id = raw;
  m.raw = raw;
  auto r = store.Accept(m);
  BOOST_REQUIRE(r.ok());
  MappingRecord record;
  record.message_id = r->message_id;
  record.lane = lane;
  record.bundle = raw;
  record.destinations = {"ehr"};
  BOOST_REQUIRE(store.RecordMappings({record}, 1).ok());
  return r->message_id;
}

OutboxItem Item(std::int64_t id, std::string lane, std::string payload) {
  OutboxItem item;
  item.id = id;
  item.lane = std::move(lane);
  item.payload = std::move(payload);
  return item;
}

BOOST_AUTO_TEST_CASE(file_sink_appends_lines_and_trims_what_was_not_committed) {
  TempDir t;
  std::string committed;
  {
    auto sink = FileSink::Open(t.dir.string(), "outbox", "");
    BOOST_REQUIRE(sink.ok());
    SinkResult r = (*sink)->Deliver({Item(1, "a", "{\"n\":1}"), Item(2, "b", "{\"n\":2}")});
    BOOST_REQUIRE_EQUAL(r.outcomes.size(), 2u);
    BOOST_CHECK(r.outcomes[0].kind == DeliveryOutcome::Kind::kDelivered);
    BOOST_REQUIRE(r.checkpoint);
    committed = r.checkpoint->value;
    (*sink)->Committed();
    // A batch written but never committed (the process dies before the store commit).
    SinkResult lost = (*sink)->Deliver({Item(3, "a", "{\"n\":3}")});
    BOOST_CHECK(lost.checkpoint);
    BOOST_CHECK_EQUAL(Lines((*sink)->file_path()).size(), 3u);
  }
  auto reopened = FileSink::Open(t.dir.string(), "outbox", committed);
  BOOST_REQUIRE(reopened.ok());
  const std::vector<std::string> lines = Lines((*reopened)->file_path());
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_CHECK_EQUAL(lines[1], "{\"n\":2}");
}

BOOST_AUTO_TEST_CASE(file_sink_commit_failure_removes_the_batch) {
  TempDir t;
  auto sink = FileSink::Open(t.dir.string(), "outbox", "");
  BOOST_REQUIRE(sink.ok());
  (void)(*sink)->Deliver({Item(1, "a", "one")});
  (*sink)->Committed();
  (void)(*sink)->Deliver({Item(2, "a", "two")});
  (*sink)->CommitFailed();
  (void)(*sink)->Deliver({Item(2, "a", "two")});
  (*sink)->Committed();
  const std::vector<std::string> lines = Lines((*sink)->file_path());
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_CHECK_EQUAL(lines[1], "two");
}

BOOST_AUTO_TEST_CASE(file_sink_refuses_a_file_shorter_than_the_store_says) {
  TempDir t;
  auto sink = FileSink::Open(t.dir.string(), "outbox", "1000");
  BOOST_REQUIRE(!sink.ok());
  BOOST_CHECK(sink.status().code() == Status::Code::kDataLoss);
}

// A sink that answers from a script per payload ("ok", "retry", "dead"), keeping lane order as
// the Sink contract demands; it records what it was asked to deliver.
class ScriptedSink : public Sink {
 public:
  std::map<std::string, std::vector<std::string>> script;  // payload → answers, in turn
  std::vector<std::string> delivered;

  SinkResult Deliver(const std::vector<OutboxItem>& batch) override {
    SinkResult result;
    std::set<std::string> stopped;
    for (const OutboxItem& item : batch) {
      DeliveryOutcome o;
      if (stopped.count(item.lane)) {
        o.kind = DeliveryOutcome::Kind::kNotAttempted;
      } else {
        std::string answer = "ok";
        auto& answers = script[item.payload];
        if (!answers.empty()) {
          answer = answers.front();
          answers.erase(answers.begin());
        }
        if (answer == "ok") {
          o.kind = DeliveryOutcome::Kind::kDelivered;
          delivered.push_back(item.payload);
        } else if (answer == "retry") {
          o.kind = DeliveryOutcome::Kind::kRetry;
          o.http_status = 503;
          o.reason = "HTTP 503";
          stopped.insert(item.lane);
        } else {
          o.kind = DeliveryOutcome::Kind::kPermanent;
          o.http_status = 422;
          o.reason = "HTTP 422";
          o.outcome = "{\"resourceType\":\"OperationOutcome\"}";
        }
      }
      result.outcomes.push_back(o);
    }
    return result;
  }
};

BOOST_AUTO_TEST_CASE(dispatcher_keeps_lane_order_through_retries_and_dead_letters) {
  TempDir t;
  auto opened = store::SqliteStore::Open({(t.dir / "s.db").string(), false, 64});
  BOOST_REQUIRE(opened.ok());
  store::SqliteStore& store = **opened;
  // Lane P: p1 p2 p3; lane Q: q1 q2. p1 fails once (retry), q1 is permanent.
  std::vector<std::pair<std::string, std::string>> messages = {
      {"P", "p1"}, {"Q", "q1"}, {"P", "p2"}, {"Q", "q2"}, {"P", "p3"}};
  for (const auto& [lane, payload] : messages) StoreMapped(store, payload, lane);
  auto sink = std::make_unique<ScriptedSink>();
  ScriptedSink* script = sink.get();
  script->script["p1"] = {"retry"};
  script->script["q1"] = {"dead"};
  Metrics metrics;
  BundleRenderer renderer(store, EchoRoutes(std::make_shared<EchoMapper>()), metrics);
  std::int64_t now = 1'000'000;
  DispatcherOptions options;
  options.retry.jitter = 0;
  Dispatcher dispatcher(
      "ehr", store, std::move(sink), metrics, options, [&] { return now; }, &renderer);

  dispatcher.RunOnce();
  // p1 failed, so p2 and p3 wait; q1 is dead-lettered and q2 goes on.
  BOOST_CHECK((script->delivered == std::vector<std::string>{"q2"}));
  dispatcher.RunOnce();  // p1 not due yet: nothing happens
  BOOST_CHECK_EQUAL(script->delivered.size(), 1u);
  now += options.retry.initial_us;
  while (dispatcher.RunOnce() > 0) {
  }
  BOOST_CHECK((script->delivered == std::vector<std::string>{"q2", "p1", "p2", "p3"}));
  BOOST_CHECK_EQUAL(store.Queue("ehr")->pending, 0);
  BOOST_CHECK_EQUAL(store.Queue("ehr")->dead, 1);
  const std::string text = metrics.Render();
  BOOST_CHECK_NE(
      text.find("fhirbridge_deliveries_total{destination=\"ehr\",result=\"delivered\"} 4"),
      std::string::npos);
  BOOST_CHECK_NE(
      text.find("fhirbridge_deliveries_total{destination=\"ehr\",result=\"dead_letter\"} 1"),
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(circuit_opens_after_failing_rounds_probes_one_row_and_closes) {
  TempDir t;
  auto opened = store::SqliteStore::Open({(t.dir / "s.db").string(), false, 64});
  BOOST_REQUIRE(opened.ok());
  store::SqliteStore& store = **opened;
  for (int i = 0; i < 6; ++i) {
    // Six lanes: a round tries them all.
    StoreMapped(store, "c" + std::to_string(i), "lane" + std::to_string(i));
  }
  auto sink = std::make_unique<ScriptedSink>();
  ScriptedSink* script = sink.get();
  for (int i = 0; i < 6; ++i) script->script["c" + std::to_string(i)] = {"retry", "retry", "retry"};
  Metrics metrics;
  BundleRenderer renderer(store, EchoRoutes(std::make_shared<EchoMapper>()), metrics);
  std::int64_t now = 1'000'000;
  DispatcherOptions options;
  options.retry.jitter = 0;
  options.retry.initial_us = 1000;
  options.retry.max_us = 1000;
  options.breaker.failures = 2;
  options.breaker.probe_interval_us = 60'000'000;
  Dispatcher dispatcher(
      "ehr", store, std::move(sink), metrics, options, [&] { return now; }, &renderer);

  dispatcher.RunOnce();  // round 1: all six retried
  BOOST_CHECK(!dispatcher.health().circuit_open);
  now += 1000;
  dispatcher.RunOnce();  // round 2: all six retried again → open
  BOOST_CHECK(dispatcher.health().circuit_open);
  BOOST_CHECK_EQUAL(dispatcher.health().last_error, "HTTP 503");
  BOOST_CHECK_EQUAL(dispatcher.health().open_since_us, now);
  now += 1000;
  // Open: nothing is sent before the probe is due, although every row is due.
  BOOST_CHECK_EQUAL(dispatcher.RunOnce(), 0u);
  BOOST_CHECK_EQUAL(store.PendingDeliveries("ehr", 0, 10)->front().attempts, 2);
  now += options.breaker.probe_interval_us;
  // The probe is one row (its third answer is another retry: the circuit stays open).
  BOOST_CHECK_EQUAL(dispatcher.RunOnce(), 1u);
  BOOST_CHECK(dispatcher.health().circuit_open);
  BOOST_CHECK_EQUAL(dispatcher.RunOnce(), 0u);
  now += options.breaker.probe_interval_us;
  // The probe takes the first row again; c0 has had its three retries, so it is delivered
  // and the circuit closes.
  BOOST_CHECK_EQUAL(dispatcher.RunOnce(), 1u);
  BOOST_CHECK(!dispatcher.health().circuit_open);
  BOOST_CHECK_EQUAL(script->delivered.size(), 1u);
  BOOST_CHECK_NE(metrics.Render().find("fhirbridge_circuit_trips_total{destination=\"ehr\"} 1"),
                 std::string::npos);
}

// A store, and a renderer with room for two 4-byte Bundles that renders with an EchoMapper.
struct SmallCache {
  TempDir t;
  std::unique_ptr<store::SqliteStore> opened = Open(t);
  store::SqliteStore& store = *opened;
  std::shared_ptr<EchoMapper> mapper = std::make_shared<EchoMapper>();
  Metrics metrics;
  BundleRenderer renderer{store, EchoRoutes(mapper), metrics, 8};

  static std::unique_ptr<store::SqliteStore> Open(const TempDir& t) {
    auto s = store::SqliteStore::Open({(t.dir / "s.db").string(), false, 64});
    BOOST_REQUIRE(s.ok());
    return std::move(s).value();
  }
};

BOOST_FIXTURE_TEST_CASE(bundles_come_from_memory_or_are_rendered_from_the_raw_message, SmallCache) {
  const std::int64_t a = StoreMapped(store, "aaaa", "A");
  const std::int64_t b = StoreMapped(store, "bbbb", "B");
  const std::int64_t c = StoreMapped(store, "cccc", "C");
  renderer.Remember(a, "aaaa", 1);
  renderer.Remember(b, "bbbb", 2);  // two destinations
  // Over the budget: c, the newest and so the last to be delivered, is not kept.
  renderer.Remember(c, "cccc", 1);
  BOOST_CHECK_EQUAL(renderer.cached(), 2u);
  BOOST_CHECK_EQUAL(renderer.cached_bytes(), 8u);

  auto rows = store.PendingDeliveries("ehr", 0, 10);
  BOOST_REQUIRE_EQUAL(rows->size(), 3u);
  for (OutboxItem& row : *rows) BOOST_REQUIRE(renderer.Render(row).ok());
  BOOST_CHECK_EQUAL((*rows)[0].payload, "aaaa");  // from memory
  BOOST_CHECK_EQUAL((*rows)[1].payload, "bbbb");
  BOOST_CHECK_EQUAL((*rows)[2].payload, "cccc");  // rendered from the store
  BOOST_CHECK_EQUAL(mapper->calls.load(), 1);
  renderer.Done(a);
  renderer.Done(b);
  BOOST_CHECK_EQUAL(renderer.cached(), 1u);  // b still has a destination to go
  renderer.Done(b);
  renderer.Done(c);
  BOOST_CHECK_EQUAL(renderer.cached(), 0u);
  BOOST_CHECK_EQUAL(renderer.cached_bytes(), 0u);

  // The mapping changed since (digest differs): the new rendering is delivered, and counted.
  mapper->suffix = "+v2";
  OutboxItem again = (*rows)[1];
  again.payload.clear();
  BOOST_REQUIRE(renderer.Render(again).ok());
  BOOST_CHECK_EQUAL(again.payload, "bbbb+v2");
  const std::string text = metrics.Render();
  BOOST_CHECK_NE(text.find("fhirbridge_bundles_changed_total 1\n"), std::string::npos);
  BOOST_CHECK_NE(text.find("fhirbridge_bundles_rendered_total 2\n"), std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(behind_a_backlog_longer_than_the_cache_the_kept_bundles_are_used,
                        SmallCache) {
  // A backlog of four messages, then a steady stream: each delivery of the oldest is followed
  // by the mapping of a new one.
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(StoreMapped(store, "m" + std::to_string(10 + i), "L"));
  for (int i = 0; i < 4; ++i) renderer.Remember(ids[i], "m" + std::to_string(10 + i), 1);
  std::int64_t after = 0;
  for (int i = 0; i < 8; ++i) {
    auto rows = store.PendingDeliveries("ehr", after, 1);
    BOOST_REQUIRE_EQUAL(rows->size(), 1u);
    OutboxItem& row = rows->front();
    BOOST_REQUIRE_EQUAL(row.message_id, ids[i]);
    BOOST_REQUIRE(renderer.Render(row).ok());
    BOOST_CHECK_EQUAL(row.payload, "m" + std::to_string(10 + i));
    after = row.id;
    renderer.Done(ids[i]);
    renderer.Remember(ids[i + 4], "m" + std::to_string(14 + i), 1);
  }
  // Kept: 1, 2 (at the start), 5, 6 (mapped as 1 and 2 left), 9, 10. Rendered again: 3, 4, 7,
  // 8. Dropping the oldest when full kept only Bundles that were dropped again before their
  // turn, and rendered all eight.
  BOOST_CHECK_EQUAL(mapper->calls.load(), 4);
  BOOST_CHECK_EQUAL(renderer.cached(), 2u);
}

// The Bundle of a message this process mapped (and so validated) but did not keep is rendered
// again without validating when the rendering has the recorded digest. One this process did not
// map (as after a restart), or a rendering with other bytes, goes through the validating mapper.
BOOST_AUTO_TEST_CASE(a_bundle_validated_here_and_not_kept_is_not_validated_again) {
  TempDir t;
  std::unique_ptr<store::SqliteStore> opened = SmallCache::Open(t);
  store::SqliteStore& store = *opened;
  auto validating = std::make_shared<EchoMapper>();
  auto plain = std::make_shared<EchoMapper>();
  std::map<std::string, SourceRoute, std::less<>> routes;
  routes["icu"].mapper = validating;
  routes["icu"].unvalidated = plain;
  Metrics metrics;
  BundleRenderer renderer{store, routes, metrics, 8};
  const std::int64_t a = StoreMapped(store, "aaaa", "A");
  const std::int64_t b = StoreMapped(store, "bbbb", "B");
  const std::int64_t c = StoreMapped(store, "cccc", "C");
  StoreMapped(store, "dddd", "D");  // mapped by an earlier run: never remembered here
  const std::int64_t e = StoreMapped(store, "eeeeeeeee", "E");
  renderer.Remember(a, "aaaa", 1);
  renderer.Remember(c, "cccc", 1);
  renderer.Remember(b, "bbbb", 2);           // c, newer, gives way
  renderer.Remember(e, "eeeeeeeee", 1);      // larger than the whole cache
  BOOST_CHECK_EQUAL(renderer.cached(), 2u);  // a and b
  BOOST_CHECK_EQUAL(renderer.validated_not_held(), 2u);

  auto rows = store.PendingDeliveries("ehr", 0, 10);
  BOOST_REQUIRE_EQUAL(rows->size(), 5u);
  for (OutboxItem& row : *rows) BOOST_REQUIRE(renderer.Render(row).ok());
  BOOST_CHECK_EQUAL((*rows)[2].payload, "cccc");
  BOOST_CHECK_EQUAL((*rows)[3].payload, "dddd");
  BOOST_CHECK_EQUAL((*rows)[4].payload, "eeeeeeeee");
  BOOST_CHECK_EQUAL(plain->calls.load(), 2);       // c and e
  BOOST_CHECK_EQUAL(validating->calls.load(), 1);  // d

  // The mapping changed: the plain rendering of c is not what was validated, so it is
  // rendered and validated again, and delivered as it is now.
  plain->suffix = validating->suffix = "+v2";
  OutboxItem again = (*rows)[2];
  again.payload.clear();
  BOOST_REQUIRE(renderer.Render(again).ok());
  BOOST_CHECK_EQUAL(again.payload, "cccc+v2");
  BOOST_CHECK_EQUAL(plain->calls.load(), 3);
  BOOST_CHECK_EQUAL(validating->calls.load(), 2);

  // c's only row is finished: it is forgotten, and a later rendering is validated.
  renderer.Done(c);
  BOOST_CHECK_EQUAL(renderer.validated_not_held(), 1u);
  plain->suffix = validating->suffix = "";
  again.payload.clear();
  BOOST_REQUIRE(renderer.Render(again).ok());
  BOOST_CHECK_EQUAL(plain->calls.load(), 3);
  BOOST_CHECK_EQUAL(validating->calls.load(), 3);
  renderer.Forget(e);
  BOOST_CHECK_EQUAL(renderer.validated_not_held(), 0u);

  const std::string text = metrics.Render();
  BOOST_CHECK_NE(text.find("fhirbridge_bundles_rendered_unvalidated_total 2\n"), std::string::npos);
  BOOST_CHECK_NE(text.find("fhirbridge_bundles_rendered_total 5\n"), std::string::npos);
  BOOST_CHECK_NE(text.find("fhirbridge_bundles_changed_total 1\n"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_row_that_no_longer_renders_is_dead_lettered_and_its_lane_goes_on) {
  TempDir t;
  auto opened = store::SqliteStore::Open({(t.dir / "s.db").string(), false, 64});
  BOOST_REQUIRE(opened.ok());
  store::SqliteStore& store = **opened;
  StoreMapped(store, "unmappable-1", "P");
  StoreMapped(store, "p2", "P");
  auto sink = std::make_unique<ScriptedSink>();
  ScriptedSink* script = sink.get();
  Metrics metrics;
  BundleRenderer renderer(store, EchoRoutes(std::make_shared<EchoMapper>()), metrics);
  Dispatcher dispatcher(
      "ehr", store, std::move(sink), metrics, DispatcherOptions{},
      [] { return std::int64_t{1'000'000}; }, &renderer);
  BOOST_CHECK_EQUAL(dispatcher.RunOnce(), 2u);
  BOOST_CHECK((script->delivered == std::vector<std::string>{"p2"}));
  auto letters = store.ListDeadLetters("open", 0, 10);
  BOOST_REQUIRE_EQUAL(letters->size(), 1u);
  BOOST_CHECK_EQUAL((*letters)[0].destination, "ehr");
  BOOST_CHECK_EQUAL((*letters)[0].control_id, "unmappable-1");
  BOOST_CHECK_NE((*letters)[0].reason.find("no longer maps"), std::string::npos);
  BOOST_CHECK_EQUAL(store.Queue("ehr")->pending, 0);
}

BOOST_AUTO_TEST_CASE(retry_delay_grows_is_capped_and_honours_retry_after) {
  RetryPolicy policy;
  policy.jitter = 0;
  std::mt19937_64 rng(1);
  BOOST_CHECK_EQUAL(policy.Delay(1, 0, rng), 1'000'000);
  BOOST_CHECK_EQUAL(policy.Delay(3, 0, rng), 4'000'000);
  BOOST_CHECK_EQUAL(policy.Delay(40, 0, rng), policy.max_us);
  BOOST_CHECK_EQUAL(policy.Delay(1, 30'000'000, rng), 30'000'000);
  policy.jitter = 0.2;
  for (int i = 0; i < 100; ++i) {
    const std::int64_t d = policy.Delay(2, 0, rng);
    BOOST_CHECK(d >= 1'600'000 && d <= 2'400'000);
  }
}

BOOST_AUTO_TEST_CASE(metrics_render_in_prometheus_text_format) {
  Metrics m;
  m.GetCounter("x_total", "Things.", {{"source", "a\"b"}}).Add(3);
  Histogram& h = m.GetHistogram("lat_seconds", "Latency.", {{"source", "icu"}});
  h.Observe(0.0003);
  h.Observe(0.002);
  m.AddGauge("depth", "Depth.", [] {
    return std::vector<std::pair<Labels, double>>{{{{"destination", "d"}}, 7}};
  });
  const std::string text = m.Render();
  BOOST_CHECK_NE(text.find("# TYPE x_total counter\nx_total{source=\"a\\\"b\"} 3\n"),
                 std::string::npos);
  BOOST_CHECK_NE(text.find("lat_seconds_bucket{source=\"icu\",le=\"0.0005\"} 1\n"),
                 std::string::npos);
  BOOST_CHECK_NE(text.find("lat_seconds_bucket{source=\"icu\",le=\"+Inf\"} 2\n"),
                 std::string::npos);
  BOOST_CHECK_NE(text.find("lat_seconds_count{source=\"icu\"} 2\n"), std::string::npos);
  BOOST_CHECK_NE(text.find("depth{destination=\"d\"} 7\n"), std::string::npos);
  BOOST_CHECK_CLOSE(h.Quantile(0.5), 0.0005, 1e-6);
}

// Gauges that show the same store figures share one read per scrape: a render hook starts
// each scrape afresh, before any reader runs.
BOOST_AUTO_TEST_CASE(render_hooks_run_once_per_render_before_the_readers) {
  Metrics m;
  int reads = 0;
  std::optional<int> snapshot;  // what a scrape read, shared by the gauges below
  m.OnRender([&] { snapshot.reset(); });
  const auto shared = [&] {
    if (!snapshot) snapshot = ++reads;
    return std::vector<std::pair<Labels, double>>{{{}, static_cast<double>(*snapshot)}};
  };
  m.AddGauge("a", "A.", shared);
  m.AddGauge("b", "B.", shared);
  std::string text = m.Render();
  BOOST_CHECK_EQUAL(reads, 1);
  BOOST_CHECK_NE(text.find("\na 1\n"), std::string::npos);
  BOOST_CHECK_NE(text.find("\nb 1\n"), std::string::npos);
  text = m.Render();
  BOOST_CHECK_EQUAL(reads, 2);
  BOOST_CHECK_NE(text.find("\nb 2\n"), std::string::npos);
}

// The store's threads observe into histograms they share with the registry: the same series as
// GetHistogram's, and still there for them if the registry goes first.
BOOST_AUTO_TEST_CASE(a_shared_histogram_is_the_series_and_outlives_the_registry) {
  std::shared_ptr<Histogram> shared;
  {
    Metrics m;
    shared = m.SharedHistogram("sync_seconds", "Syncs.", {});
    shared->Observe(0.0002);
    BOOST_CHECK_EQUAL(&m.GetHistogram("sync_seconds", "Syncs.", {}), shared.get());
    BOOST_CHECK_NE(m.Render().find("sync_seconds_count 1\n"), std::string::npos);
  }
  shared->Observe(0.0002);
  BOOST_CHECK_EQUAL(shared->count(), 2);
}

}  // namespace
}  // namespace fhirbridge::service
