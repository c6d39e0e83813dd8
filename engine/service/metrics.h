#pragma once

// Counters and histograms for GET /metrics, in the Prometheus text exposition format (0.0.4).
// Updating is lock-free (atomics); the registry lock is taken only to add a series or render.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace fhirbridge::service {

class Counter {
 public:
  void Add(std::int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

/// Latencies in seconds, cumulative buckets from 100 µs to 10 s.
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 10.0};
  void Observe(double seconds);
  /// Estimated quantile (0..1) from the buckets: the upper bound of the bucket holding it.
  double Quantile(double q) const;
  std::int64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  friend class Metrics;
  std::array<std::atomic<std::int64_t>, kBounds.size() + 1> buckets_{};  // last: +Inf
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::int64_t> sum_ns_{0};
};

/// Labels as `key="value"` pairs, in the order given.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  /// The counter of a family for these labels, created at first use; the reference stays valid.
  Counter& GetCounter(const std::string& family, const std::string& help, const Labels& labels);
  Histogram& GetHistogram(const std::string& family, const std::string& help, const Labels& labels);
  /// The same, shared with whoever observes into it from outside (the store's threads): it stays
  /// valid for them even after this registry is gone.
  std::shared_ptr<Histogram> SharedHistogram(const std::string& family, const std::string& help,
                                             const Labels& labels);
  /// Series computed when /metrics is rendered: a gauge (queue depth, oldest age), or a counter
  /// kept elsewhere (the store's).
  enum class Kind { kGauge, kCounter };
  void AddReader(const std::string& family, const std::string& help, Kind kind,
                 std::function<std::vector<std::pair<Labels, double>>()> read);
  void AddGauge(const std::string& family, const std::string& help,
                std::function<std::vector<std::pair<Labels, double>>()> read) {
    AddReader(family, help, Kind::kGauge, std::move(read));
  }
  void AddCounterReader(const std::string& family, const std::string& help,
                        std::function<std::vector<std::pair<Labels, double>>()> read) {
    AddReader(family, help, Kind::kCounter, std::move(read));
  }

  /// Runs `hook` at the start of every Render, before any reader: readers that share one costly
  /// read (the store's queue figures) then take it once per scrape.
  void OnRender(std::function<void()> hook);

  /// Every family in the text exposition format.
  std::string Render() const;

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // key: rendered labels
    std::map<std::string, std::shared_ptr<Histogram>> histograms;
    std::vector<std::function<std::vector<std::pair<Labels, double>>()>> gauges;
  };
  Family& GetFamily(const std::string& name, const std::string& help, const std::string& type);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
  std::vector<std::function<void()>> render_hooks_;
};

/// `{a="x",b="y"}` with the text format's escapes; "" for no labels.
std::string RenderLabels(const Labels& labels);

}  // namespace fhirbridge::service
