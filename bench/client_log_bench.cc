// The cost of one log call: a float point written into the memory-mapped spool (offline mode,
// so the sender does not compete for the CPU; the spool write is the same in every mode).
//
//   build/bench/client_log_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
//   build/bench/client_log_bench --benchmark_filter=Latency   # the per-call distribution
//
// Figures in docs/performance.md. Each run logs into a fresh spool under $TMPDIR, deleted after.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "nereid/nereid.h"

namespace {

std::optional<nereid::Run> g_run;
std::string g_dir;

void Setup(const benchmark::State&) {
  g_dir = (std::filesystem::temp_directory_path() / "nereid-client-bench").string();
  std::filesystem::remove_all(g_dir);
  nereid::RunOptions o;
  o.mode = nereid::Mode::kOffline;
  o.spool_dir = g_dir;
  o.custom_run_id = "bench";
  o.segment_bytes = 64 << 20;
  o.on_error = [](const nereid::Status&) {};
  auto r = nereid::Run::Create(o);
  if (!r.ok()) std::abort();
  g_run.emplace(std::move(r).value());
}

void Teardown(const benchmark::State&) {
  g_run.reset();
  std::filesystem::remove_all(g_dir);
}

// The recommended loop: a handle made once, one Append per point (time stamped per call).
void BM_AppendFloat(benchmark::State& state) {
  auto loss = (*g_run)["train/loss"];
  double v = state.thread_index();
  for (auto _ : state) {
    loss.Append(v);
    v += 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AppendFloat)
    ->Setup(Setup)
    ->Teardown(Teardown)
    ->Iterations(2'000'000)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

// The distribution of a log call's latency, not only its mean (the target is a median).
//
// Each benchmark iteration is a group of kGroup calls timed as one: a clock read costs as much
// as a call or more (clock_gettime on this VM's kvm-clock: 20-40 ns; rdtsc: ~8 ns), so timing
// each call alone would measure the clock. The group's time divided by kGroup stands for each of
// its calls; a slow call shows as a slow group. The clock is the TSC (constant and invariant on
// the machines we use), converted to ns with the ratio of steady_clock to TSC over the thread's
// run; elsewhere steady_clock.
//
// The tail: a call that is the first to touch a page of the spool (85 float-point records per
// 4 KiB) takes a page fault, which on a VM that shadows page tables costs 5-13 us unless the
// segment preparer touched the page first; a call whose reservation crosses a segment's end
// seals it and takes the next one; with more threads than CPUs, a thread preempted inside a
// group. The counters (ns per call, all threads' groups pooled): p50, p90, p99, p99.9, max and
// the mean of the same samples; clock_ns is the cost of the clock read pair per group, included
// in every sample (divide by kGroup for its share of a call).
//
// Arg: a pause in ns between groups, outside the timed part. 0 is a tight loop, far faster than
// any training loop, so the preparer can fall behind the logger; 2000 (~250 ns per call) is
// closer to a Python loop or a training step logging a few values.
constexpr int kGroup = 8;

#if defined(__x86_64__)
inline uint64_t Ticks() {
  return __rdtsc();
}
#else
inline uint64_t Ticks() {
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}
#endif

struct LatencyPool {
  std::mutex mu;
  std::vector<double> ns;  // per call, one sample per group, every thread's
  double clock_ns = 0;
  int done = 0;
};
LatencyPool g_latency;

void LatencySetup(const benchmark::State& state) {
  Setup(state);
  std::lock_guard lock(g_latency.mu);
  g_latency.ns.clear();
  g_latency.clock_ns = 0;
  g_latency.done = 0;
}

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

template <typename Call>
void LatencyLoop(benchmark::State& state, Call call) {
  double v = state.thread_index();
  const auto pause = static_cast<uint64_t>(state.range(0));
  std::vector<uint64_t> ticks;
  ticks.reserve(static_cast<size_t>(state.max_iterations));
  // The clock pair's own cost, the median of a few thousand empty groups.
  std::vector<uint64_t> empty(4096);
  for (auto& e : empty) {
    uint64_t a = Ticks();
    benchmark::ClobberMemory();
    e = Ticks() - a;
  }
  std::nth_element(empty.begin(), empty.begin() + 2048, empty.end());
  const auto wall0 = std::chrono::steady_clock::now();
  const uint64_t tick0 = Ticks();
  for (auto _ : state) {
    uint64_t a = Ticks();
    for (int i = 0; i < kGroup; ++i) {
      call(v);
      v += 1;
    }
    uint64_t b = Ticks();
    ticks.push_back(b - a);
    if (pause != 0) {
      state.PauseTiming();
      const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(pause);
      while (std::chrono::steady_clock::now() < until) {
      }
      state.ResumeTiming();
    }
  }
  const double ns_per_tick =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - wall0).count() /
      static_cast<double>(Ticks() - tick0);
  state.SetItemsProcessed(state.iterations() * kGroup);

  std::lock_guard lock(g_latency.mu);
  for (uint64_t t : ticks) g_latency.ns.push_back(static_cast<double>(t) * ns_per_tick / kGroup);
  g_latency.clock_ns = std::max(g_latency.clock_ns, static_cast<double>(empty[2048]) * ns_per_tick);
  if (++g_latency.done < state.threads()) return;
  // The last thread to finish reports for all: counters of the other threads are absent, and
  // Google Benchmark sums a counter over threads.
  std::vector<double>& ns = g_latency.ns;
  double sum = 0;
  for (double x : ns) sum += x;
  std::sort(ns.begin(), ns.end());
  state.counters["mean_ns"] = sum / static_cast<double>(ns.size());
  state.counters["p50_ns"] = Percentile(ns, 0.50);
  state.counters["p90_ns"] = Percentile(ns, 0.90);
  state.counters["p99_ns"] = Percentile(ns, 0.99);
  state.counters["p99.9_ns"] = Percentile(ns, 0.999);
  state.counters["max_ns"] = ns.back();
  state.counters["clock_ns"] = g_latency.clock_ns;
}
void BM_AppendFloatLatency(benchmark::State& state) {
  auto loss = (*g_run)["train/loss"];
  LatencyLoop(state, [&](double v) { loss.Append(v); });
}
BENCHMARK(BM_AppendFloatLatency)
    ->Setup(LatencySetup)
    ->Teardown(Teardown)
    ->Iterations(2'000'000 / kGroup)
    ->Arg(0)
    ->Arg(2000)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

// The same for run["train/loss"].Append(v), which validates the path on every call.
void BM_IndexThenAppendLatency(benchmark::State& state) {
  LatencyLoop(state, [&](double v) { (*g_run)["train/loss"].Append(v); });
}
BENCHMARK(BM_IndexThenAppendLatency)
    ->Setup(LatencySetup)
    ->Teardown(Teardown)
    ->Iterations(2'000'000 / kGroup)
    ->Arg(0)
    ->UseRealTime();

// With an explicit step.
void BM_AppendFloatWithStep(benchmark::State& state) {
  auto loss = (*g_run)["train/loss"];
  double v = 0;
  for (auto _ : state) {
    loss.Append(v, v);
    v += 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AppendFloatWithStep)->Setup(Setup)->Teardown(Teardown)->Iterations(2'000'000);

// run["path"].Append(v) in the loop: the path is checked on every call.
void BM_IndexThenAppend(benchmark::State& state) {
  double v = 0;
  for (auto _ : state) {
    (*g_run)["train/loss"].Append(v);
    v += 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexThenAppend)->Setup(Setup)->Teardown(Teardown)->Iterations(2'000'000);

// Extend: 64 points per call.
void BM_Extend64(benchmark::State& state) {
  auto loss = (*g_run)["train/loss"];
  std::vector<double> values(64, 0.5);
  for (auto _ : state) loss.Extend(values);
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_Extend64)->Setup(Setup)->Teardown(Teardown)->Iterations(30'000);

// Extend with explicit steps: a second array per record.
void BM_Extend64WithSteps(benchmark::State& state) {
  auto loss = (*g_run)["train/loss"];
  std::vector<double> values(64, 0.5), steps(64);
  for (auto _ : state) {
    for (size_t i = 0; i < steps.size(); ++i) steps[i] += 64;
    loss.Extend(values, steps);
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_Extend64WithSteps)->Setup(Setup)->Teardown(Teardown)->Iterations(30'000);

// Large arrays (Python's extend of a numpy array lands here): 64k and 1M points per call, i.e.
// 4 and 61 multi-point records, and a segment roll every 16 and 8 calls (64 MiB segments).
void BM_ExtendLarge(benchmark::State& state) {
  auto loss = (*g_run)["train/loss"];
  std::vector<double> values(static_cast<size_t>(state.range(0)));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) * 0.5;
  for (auto _ : state) loss.Extend(values);
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * state.range(0) * 8);
}
BENCHMARK(BM_ExtendLarge)
    ->Setup(Setup)
    ->Teardown(Teardown)
    ->Arg(65536)
    ->Iterations(500)
    ->UseRealTime();
BENCHMARK(BM_ExtendLarge)
    ->Setup(Setup)
    ->Teardown(Teardown)
    ->Arg(1 << 20)
    ->Iterations(40)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
