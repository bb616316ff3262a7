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

}  // namespace

BENCHMARK_MAIN();
