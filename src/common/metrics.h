// Prometheus metrics: counters and histograms with labels, gauges read at scrape time, rendered in
// the Prometheus text exposition format for GET /metrics.
//
// Thread-safety: all methods may be called from any thread; increments are lock-free after a
// series (name + labels) exists.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nereid::common {

class Metrics {
 public:
  Metrics();
  ~Metrics();

  using Labels = std::vector<std::pair<std::string, std::string>>;

  void Describe(std::string_view name, std::string_view help);
  void Add(std::string_view counter, const Labels& labels, double value = 1);
  // Histogram with the given upper bounds (set on first use of the name).
  void Observe(std::string_view histogram, const Labels& labels, double value,
               const std::vector<double>& bounds);
  // A gauge computed when scraped.
  void Gauge(std::string_view name, std::function<double()> read);

  std::string Render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nereid::common
