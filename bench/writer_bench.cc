// The SQLite group-commit writer's cost per small batch, without HTTP or client processes: the
// load test's shape (many runs, one float series each, a few points per batch, one batch in flight
// per run) applied straight through store::Store::Ingest from handler-like threads.
//
// Prints batches/s, the writer's apply and COMMIT time per batch and per group, batches per
// commit and the process's CPU per batch (the driver threads only build small protobufs, so this
// is mostly the writer). With --rate R the threads offer R batches/s in total (the load test's
// 200 runs give about 200-700/s); without, they send back to back (the writer's capacity).
//
// Usage: writer_bench [--runs 200] [--threads 32] [--seconds 10] [--points 5] [--rate 0]
//                     [--prefill 2000] [--sync full|normal]
// --prefill: points each run's series holds before the timed window, i.e. the open tail chunk's
// size (a chunk seals at 4,096 points; the load test's 60 s at 100 points/s averages about 2,000).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nereid/v1/batch.pb.h"
#include "store/write_timing.h"
#include "store_sqlite/sqlite_store.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int runs = 200;
  int threads = 32;
  double seconds = 10;
  int points = 5;
  double rate = 0;     // batches/s over all threads; 0: back to back
  int prefill = 2000;  // points per run stored before the timed window (the tail chunk's size)
  std::string sync = "full";
};

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Totals {
  std::mutex mu;
  uint64_t batches = 0, errors = 0;
  double queue_s = 0;  // summed over batches
  // Each group commit once, by its start: (started, applied, committed) in ns of Clock.
  std::vector<std::array<int64_t, 3>> groups;
};

int64_t Ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"The SQLite group-commit writer's cost per small batch"};
  app.add_option("--runs", o.runs, "runs, one float series each")->check(CLI::Range(1, 1000000));
  app.add_option("--threads", o.threads, "handler-like threads sending batches")
      ->check(CLI::Range(1, 4096));
  app.add_option("--seconds", o.seconds, "length of the timed window")
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--points", o.points, "points per batch")->check(CLI::Range(1, 1000000));
  app.add_option("--rate", o.rate, "batches/s over all threads; 0: back to back")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--prefill", o.prefill, "points per run stored before the timed window")
      ->check(CLI::Range(0, 100000000));
  app.add_option("--sync", o.sync, "SQLite synchronous mode")
      ->check(CLI::IsMember({"full", "normal"}));
  CLI11_PARSE(app, argc, argv);
  if (o.runs < o.threads) o.threads = o.runs;

  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("nereid-writer-bench-" + std::to_string(getpid()));
  fs::remove_all(dir);
  nereid::store::StoreOptions so;
  so.synchronous = o.sync;
  so.data_dir = dir.string();
  auto opened = nereid::store_sqlite::OpenSqliteStore(so, dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<nereid::store::Store> store = std::move(opened).value();
  if (!store->CreateWorkspace("ws").ok() || !store->CreateProject("ws", "load", "LOAD").ok()) {
    std::fprintf(stderr, "cannot create the project\n");
    return 1;
  }
  std::vector<std::string> runs;
  for (int i = 0; i < o.runs; ++i) {
    nereid::store::CreateRunRequest req;
    req.project = "ws/load";
    auto r = store->CreateRun(req);
    if (!r.ok()) {
      std::fprintf(stderr, "create run: %s\n", r.status().ToString().c_str());
      return 1;
    }
    runs.push_back(r->run.id);
    nereid::v1::Batch b;
    b.set_writer_id("writer-" + std::to_string(i));
    b.set_sequence(1);
    auto* pts = b.add_operations();
    pts->set_path("train/loss");
    auto* f = pts->mutable_append_floats();
    for (int k = 0; k < o.prefill; ++k) {
      f->add_steps(k);
      f->add_timestamps_us(1'700'000'000'000'000 + int64_t{k} * 10'000);
      f->add_values(1.0 / (1.0 + k / 100.0));
    }
    if (o.prefill > 0 && !store->Ingest(r->run.id, b).ok()) {
      std::fprintf(stderr, "prefill failed\n");
      return 1;
    }
  }

  // Thread t owns runs t, t + threads, ... and sends to them in turn, one batch at a time, like a
  // client with one request in flight; each run's first batch also assigns two fields.
  Totals totals;
  std::atomic<bool> stop{false};
  const auto begin = Clock::now();
  const double cpu_begin = CpuSeconds();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint64_t> seq(runs.size(), o.prefill > 0 ? 1 : 0);
      std::vector<double> step(runs.size(), o.prefill);
      uint64_t batches = 0, errors = 0;
      double queue = 0;
      std::vector<std::array<int64_t, 3>> groups;
      const double per_thread_rate = o.rate / o.threads;
      auto next_send = Clock::now();
      for (size_t r = static_cast<size_t>(t); !stop.load(); r += static_cast<size_t>(o.threads)) {
        if (r >= runs.size()) r = static_cast<size_t>(t);
        if (per_thread_rate > 0) {
          next_send += std::chrono::microseconds(static_cast<int64_t>(1e6 / per_thread_rate));
          std::this_thread::sleep_until(next_send);
        }
        nereid::v1::Batch b;
        b.set_writer_id("writer-" + std::to_string(r));
        b.set_sequence(++seq[r]);
        if (seq[r] == (o.prefill > 0 ? 2u : 1u)) {  // the run's first timed batch
          auto* op = b.add_operations();
          op->set_path("params/index");
          op->mutable_assign()->set_int_value(static_cast<int64_t>(r));
          op = b.add_operations();
          op->set_path("params/lr");
          op->mutable_assign()->set_float_value(0.001);
        }
        auto* pts = b.add_operations();
        pts->set_path("train/loss");
        auto* f = pts->mutable_append_floats();
        for (int i = 0; i < o.points; ++i) {
          f->add_steps(step[r]++);
          f->add_timestamps_us(1'700'000'000'000'000 + static_cast<int64_t>(step[r]) * 10'000);
          f->add_values(1.0 / (1.0 + step[r] / 100.0));
        }
        nereid::store::last_write_timing = {};
        auto res = store->Ingest(runs[r], b);
        if (!res.ok()) {
          ++errors;
          continue;
        }
        const auto& tm = nereid::store::last_write_timing;
        ++batches;
        queue += std::chrono::duration<double>(tm.started - tm.queued).count();
        groups.push_back({Ns(tm.started), Ns(tm.applied), Ns(tm.committed)});
      }
      std::lock_guard lk(totals.mu);
      totals.batches += batches;
      totals.errors += errors;
      totals.queue_s += queue;
      totals.groups.insert(totals.groups.end(), groups.begin(), groups.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop.store(true);
  for (auto& th : threads) th.join();
  const double wall = std::chrono::duration<double>(Clock::now() - begin).count();
  const double cpu = CpuSeconds() - cpu_begin;
  store.reset();
  fs::remove_all(dir);

  const double n = static_cast<double>(totals.batches);
  std::sort(totals.groups.begin(), totals.groups.end());
  totals.groups.erase(std::unique(totals.groups.begin(), totals.groups.end()), totals.groups.end());
  double apply_s = 0, commit_s = 0;
  for (const auto& g : totals.groups) {
    apply_s += static_cast<double>(g[1] - g[0]) / 1e9;
    commit_s += static_cast<double>(g[2] - g[1]) / 1e9;
  }
  const double commits = static_cast<double>(totals.groups.size());
  const double per_commit = commits > 0 ? n / commits : 0;
  std::printf(
      "writer_bench: %d runs, %d threads, %d points/batch, rate %s, sync %s, %.1f s\n"
      "  batches/s %.0f (%llu batches, %llu errors), batches per commit %.1f\n"
      "  queue for the writer %.2f ms mean per batch; per group: apply %.2f ms, COMMIT %.2f ms\n"
      "  writer busy %.1f s of %.1f s (%.0f %%): apply %.3f ms + COMMIT %.3f ms per batch\n"
      "  process CPU %.2f s (%.0f %% of a core), %.1f us per batch\n",
      o.runs, o.threads, o.points, o.rate > 0 ? std::to_string(o.rate).c_str() : "back to back",
      o.sync.c_str(), wall, n / wall, static_cast<unsigned long long>(totals.batches),
      static_cast<unsigned long long>(totals.errors), per_commit, 1e3 * totals.queue_s / n,
      1e3 * apply_s / commits, 1e3 * commit_s / commits, apply_s + commit_s, wall,
      100 * (apply_s + commit_s) / wall, 1e3 * apply_s / n, 1e3 * commit_s / n, cpu,
      100 * cpu / wall, 1e6 * cpu / n);
  return totals.errors == 0 ? 0 : 1;
}
