#include "engine/service/metrics.h"

#include <cmath>
#include <cstdio>

namespace fhirbridge::service {

namespace {

std::string FormatNumber(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

std::string WithLabel(const std::string& labels, const std::string& extra) {
  if (labels.empty()) return "{" + extra + "}";
  return labels.substr(0, labels.size() - 1) + "," + extra + "}";
}

}  // namespace

void Histogram::Observe(double seconds) {
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::int64_t>(seconds * 1e9), std::memory_order_relaxed);
}

double Histogram::Quantile(double q) const {
  const std::int64_t total = count();
  if (total == 0) return 0;
  const auto rank = static_cast<std::int64_t>(std::ceil(q * static_cast<double>(total)));
  std::int64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return i < kBounds.size() ? kBounds[i] : INFINITY;
  }
  return INFINITY;
}

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (const auto& [key, value] : labels) {
    if (out.size() > 1) out += ',';
    out += key;
    out += "=\"";
    for (char c : value) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += '}';
  return out;
}

Metrics::Family& Metrics::GetFamily(const std::string& name, const std::string& help,
                                    const std::string& type) {
  Family& family = families_[name];
  if (family.type.empty()) {
    family.help = help;
    family.type = type;
  }
  return family;
}

Counter& Metrics::GetCounter(const std::string& family, const std::string& help,
                             const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = GetFamily(family, help, "counter").counters[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Histogram& Metrics::GetHistogram(const std::string& family, const std::string& help,
                                 const Labels& labels) {
  return *SharedHistogram(family, help, labels);
}

std::shared_ptr<Histogram> Metrics::SharedHistogram(const std::string& family,
                                                    const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = GetFamily(family, help, "histogram").histograms[RenderLabels(labels)];
  if (!slot) slot = std::make_shared<Histogram>();
  return slot;
}

void Metrics::AddReader(const std::string& family, const std::string& help, Kind kind,
                        std::function<std::vector<std::pair<Labels, double>>()> read) {
  std::lock_guard lock(mutex_);
  GetFamily(family, help, kind == Kind::kCounter ? "counter" : "gauge")
      .gauges.push_back(std::move(read));
}

void Metrics::OnRender(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  render_hooks_.push_back(std::move(hook));
}

std::string Metrics::Render() const {
  std::lock_guard lock(mutex_);
  for (const auto& hook : render_hooks_) hook();
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + family.help + "\n";
    out += "# TYPE " + name + " " + family.type + "\n";
    for (const auto& [labels, counter] : family.counters) {
      out += name + labels + " " + std::to_string(counter->value()) + "\n";
    }
    for (const auto& [labels, h] : family.histograms) {
      std::int64_t cumulative = 0;
      for (std::size_t i = 0; i < h->buckets_.size(); ++i) {
        cumulative += h->buckets_[i].load(std::memory_order_relaxed);
        const std::string le =
            i < Histogram::kBounds.size() ? FormatNumber(Histogram::kBounds[i]) : "+Inf";
        out += name + "_bucket" + WithLabel(labels, "le=\"" + le + "\"") + " " +
               std::to_string(cumulative) + "\n";
      }
      out += name + "_sum" + labels + " " +
             FormatNumber(static_cast<double>(h->sum_ns_.load(std::memory_order_relaxed)) / 1e9) +
             "\n";
      out += name + "_count" + labels + " " + std::to_string(h->count()) + "\n";
    }
    for (const auto& read : family.gauges) {
      for (const auto& [labels, value] : read()) {
        out += name + RenderLabels(labels) + " " + FormatNumber(value) + "\n";
      }
    }
  }
  return out;
}

}  // namespace fhirbridge::service
