#include "common/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <utility>

namespace nereid::common {
namespace {

enum class Type { kUnknown, kCounter, kHistogram, kGauge };

// A double updated without a lock (atomic<double>::fetch_add is not available everywhere).
void AtomicAdd(std::atomic<double>& target, double value) {
  double old = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(old, old + value, std::memory_order_relaxed)) {
  }
}

// Prometheus floats: Go-style +Inf/-Inf/NaN, otherwise the shortest round-trip form.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// Label values escape backslash, double quote and newline; HELP text escapes only the first and
// the last (text format 0.0.4).
std::string Escape(std::string_view s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="x",b="y"}` (empty when there are no labels); `extra` is appended last (histogram `le`).
std::string LabelText(const Metrics::Labels& labels, std::string_view extra = {}) {
  if (labels.empty() && extra.empty()) return {};
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ',';
    out += k;
    out += "=\"";
    out += Escape(v, true);
    out += '"';
  }
  if (!extra.empty()) {
    if (out.size() > 1) out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

struct Series {
  Metrics::Labels labels;
  std::atomic<double> value{0};                // counters
  std::vector<std::atomic<uint64_t>> buckets;  // histograms: per-bucket (not cumulative) counts
  std::atomic<double> sum{0};
  std::atomic<uint64_t> count{0};
};

struct Family {
  Type type = Type::kUnknown;
  std::string help;
  std::vector<double> bounds;  // histograms, sorted ascending
  // Keyed by the rendered label text so that equal label sets share a series. Series are
  // heap-allocated and never removed, so pointers to them stay valid without the lock.
  std::map<std::string, std::unique_ptr<Series>> series;
  std::function<double()> read;  // gauges
};

}  // namespace

struct Metrics::Impl {
  // Guards `families` and the maps inside them; series values are atomics updated outside it.
  mutable std::shared_mutex mu;
  std::map<std::string, Family, std::less<>> families;

  // The series for (name, labels) of the given type, created on first use; null when the name is
  // already used by a metric of another type (the update is dropped rather than corrupting it).
  Series* Find(std::string_view name, const Labels& labels, Type type,
               const std::vector<double>* bounds) {
    std::string key = LabelText(labels);
    {
      std::shared_lock lock(mu);
      auto f = families.find(name);
      if (f != families.end() && f->second.type == type) {
        auto s = f->second.series.find(key);
        if (s != f->second.series.end()) return s->second.get();
      }
    }
    std::unique_lock lock(mu);
    auto f = families.find(name);
    if (f == families.end()) f = families.emplace(std::string(name), Family{}).first;
    Family& family = f->second;
    if (family.type == Type::kUnknown) {
      family.type = type;
      if (bounds) {
        family.bounds = *bounds;
        std::sort(family.bounds.begin(), family.bounds.end());
        family.bounds.erase(std::unique(family.bounds.begin(), family.bounds.end()),
                            family.bounds.end());
        // +Inf is implicit; an explicit one would duplicate the last bucket.
        while (!family.bounds.empty() && std::isinf(family.bounds.back())) family.bounds.pop_back();
      }
    }
    if (family.type != type) return nullptr;
    auto& slot = family.series[key];
    if (!slot) {
      slot = std::make_unique<Series>();
      slot->labels = labels;
      if (type == Type::kHistogram) {
        slot->buckets = std::vector<std::atomic<uint64_t>>(family.bounds.size() + 1);
      }
    }
    return slot.get();
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::Describe(std::string_view name, std::string_view help) {
  std::unique_lock lock(impl_->mu);
  auto f = impl_->families.find(name);
  if (f == impl_->families.end()) f = impl_->families.emplace(std::string(name), Family{}).first;
  f->second.help = std::string(help);
}

void Metrics::Add(std::string_view counter, const Labels& labels, double value) {
  if (Series* s = impl_->Find(counter, labels, Type::kCounter, nullptr)) AtomicAdd(s->value, value);
}

void Metrics::Observe(std::string_view histogram, const Labels& labels, double value,
                      const std::vector<double>& bounds) {
  Series* s = impl_->Find(histogram, labels, Type::kHistogram, &bounds);
  if (!s) return;
  // The bounds are fixed once the series exists, so reading them needs the lock only briefly;
  // the bucket index is found against the family's own (sorted) copy.
  size_t index;
  {
    std::shared_lock lock(impl_->mu);
    const auto& b = impl_->families.find(histogram)->second.bounds;
    index = std::lower_bound(b.begin(), b.end(), value) - b.begin();
  }
  s->buckets[index].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(s->sum, value);
  s->count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::Gauge(std::string_view name, std::function<double()> read) {
  std::unique_lock lock(impl_->mu);
  auto f = impl_->families.find(name);
  if (f == impl_->families.end()) f = impl_->families.emplace(std::string(name), Family{}).first;
  if (f->second.type != Type::kUnknown && f->second.type != Type::kGauge) return;
  f->second.type = Type::kGauge;
  f->second.read = std::move(read);
}

std::string Metrics::Render() const {
  // Gauge callbacks run without the lock held, so a callback may itself use this registry.
  std::vector<std::pair<std::string, std::function<double()>>> gauges;
  std::string out;
  {
    std::shared_lock lock(impl_->mu);
    for (const auto& [name, family] : impl_->families) {
      if (family.type == Type::kUnknown) continue;
      if (family.type == Type::kGauge) {
        gauges.emplace_back(name, family.read);
        continue;
      }
      if (family.series.empty()) continue;
      if (!family.help.empty())
        out += fmt::format("# HELP {} {}\n", name, Escape(family.help, false));
      out += fmt::format("# TYPE {} {}\n", name,
                         family.type == Type::kCounter ? "counter" : "histogram");
      for (const auto& [key, s] : family.series) {
        if (family.type == Type::kCounter) {
          out += fmt::format("{}{} {}\n", name, key, FormatValue(s->value.load()));
          continue;
        }
        uint64_t cumulative = 0;
        for (size_t i = 0; i < s->buckets.size(); ++i) {
          cumulative += s->buckets[i].load(std::memory_order_relaxed);
          std::string le = i < family.bounds.size() ? FormatValue(family.bounds[i]) : "+Inf";
          out += fmt::format("{}_bucket{} {}\n", name,
                             LabelText(s->labels, fmt::format("le=\"{}\"", le)), cumulative);
        }
        out += fmt::format("{}_sum{} {}\n", name, key, FormatValue(s->sum.load()));
        // _count equals the +Inf bucket by definition; reusing it keeps a scrape consistent
        // even while observations race with it.
        out += fmt::format("{}_count{} {}\n", name, key, cumulative);
      }
    }
  }
  std::string help;
  for (auto& [name, read] : gauges) {
    {
      std::shared_lock lock(impl_->mu);
      help = impl_->families.find(name)->second.help;
    }
    if (!help.empty()) out += fmt::format("# HELP {} {}\n", name, Escape(help, false));
    out += fmt::format("# TYPE {} gauge\n{} {}\n", name, name, FormatValue(read ? read() : 0));
  }
  return out;
}

}  // namespace nereid::common
