// The cost of one log call: a float point written into the memory-mapped spool (offline mode,
// so the sender does not compete for the CPU; the spool write is the same in every mode).
//
//   build/bench/client_log_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
//
// Figures in docs/performance.md. Each run logs into a fresh spool under $TMPDIR, deleted after.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <optional>

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
