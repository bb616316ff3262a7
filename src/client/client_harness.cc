// A small program that logs through the client library, for the system tests (tests/
// test_client*.py) which drive it against the real server and the fault proxy, and kill it.
//
//   client_harness --project P --custom-id C [--mode async] [--points N] [--start K]
//                  [--path train/loss] [--rate PTS_PER_S] [--hang] [--flush-ms 200]
//                  [--stop-timeout-ms 60000] [--segment-bytes B] [--threads T] [--extras]
//                  [--chunk N [--extend] [--ack] [--until-stdin-closes]]
//
// URL, token and spool root come from NEREID_URL, NEREID_API_TOKEN, NEREID_HOME. Point i has the
// value and step start+i. Prints "LOGGED <n>" once every point is logged (kill -9 after it: they
// must all arrive after `nereid sync`), then, unless --hang, stops the run and prints
// "STOP <ok|message>" and "ID <run id>". Every error callback prints "ERROR <message>".
//
// With --chunk N (one thread; for the crash tests, tests/test_crash_consistency.py) the points are
// logged N at a time: "INTENT <k>" is printed before the chunk that ends at point k and "DONE <k>"
// once its log calls returned, so after a kill -9 the points [0, DONE) must survive and none at or
// past INTENT can exist. --ack then waits (retrying while the server is down) until the chunk is
// acknowledged and prints "ACKED <k>". --until-stdin-closes keeps logging past --points until
// stdin reaches EOF, then stops the run as usual. --extend logs each chunk with one
// Field::Extend(values, steps) call (multi-point spool records) instead of one Append per point.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "nereid/nereid.h"

namespace {

void PrintLine(const char* tag, long k) {
  std::printf("%s %ld\n", tag, k);
  std::fflush(stdout);
}

// The --chunk mode; returns how many points were logged.
long LogInChunks(nereid::Run& run, nereid::Field& field, long chunk, long points, long start,
                 double rate, bool ack, bool until_stdin_closes, bool extend) {
  std::vector<double> values;
  std::atomic<bool> stdin_closed{false};
  std::thread watcher;
  if (until_stdin_closes) {
    watcher = std::thread([&] {
      char buf[256];
      while (read(0, buf, sizeof buf) > 0) {
      }
      stdin_closed.store(true);
    });
  }
  auto t0 = std::chrono::steady_clock::now();
  long i = 0;
  while (until_stdin_closes ? !stdin_closed.load() : i < points) {
    long end = until_stdin_closes ? i + chunk : std::min(points, i + chunk);
    PrintLine("INTENT", end);
    if (extend) {
      values.clear();
      for (long k = i; k < end; ++k) values.push_back(static_cast<double>(start + k));
      field.Extend(values, values);
      i = end;
    }
    for (; i < end; ++i) {
      double v = static_cast<double>(start + i);
      field.Append(v, v);
    }
    PrintLine("DONE", end);
    if (ack) {
      bool acked = false;
      while (!(acked = run.Wait(std::chrono::milliseconds(2000)).ok()) && !stdin_closed.load()) {
      }
      if (acked) PrintLine("ACKED", end);
    }
    if (rate > 0) {
      auto due = t0 + std::chrono::duration<double>(static_cast<double>(i) / rate);
      std::this_thread::sleep_until(
          std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
    }
  }
  if (watcher.joinable()) watcher.join();
  return i;
}

}  // namespace

int main(int argc, char** argv) {
  nereid::RunOptions o;
  // The system tests count what a run holds; a harness started inside a checkout would add that
  // checkout's git fields. Its git capture is covered by client_git_test.
  o.capture_git = false;
  long points = 1000, start = 0, threads = 1;
  double rate = 0;
  long chunk = 0;
  bool hang = false, extras = false, ack = false, until_stdin_closes = false, extend = false;
  std::string path = "train/loss";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return std::string(i + 1 < argc ? argv[++i] : ""); };
    if (a == "--project")
      o.project = next();
    else if (a == "--custom-id")
      o.custom_run_id = next();
    else if (a == "--mode")
      o.mode = *nereid::ParseMode(next());
    else if (a == "--points")
      points = std::atol(next().c_str());
    else if (a == "--start")
      start = std::atol(next().c_str());
    else if (a == "--path")
      path = next();
    else if (a == "--rate")
      rate = std::atof(next().c_str());
    else if (a == "--hang")
      hang = true;
    else if (a == "--extras")
      extras = true;
    else if (a == "--chunk")
      chunk = std::atol(next().c_str());
    else if (a == "--ack")
      ack = true;
    else if (a == "--extend")
      extend = true;
    else if (a == "--until-stdin-closes")
      until_stdin_closes = true;
    else if (a == "--threads")
      threads = std::atol(next().c_str());
    else if (a == "--flush-ms")
      o.flush_period = std::chrono::milliseconds(std::atol(next().c_str()));
    else if (a == "--stop-timeout-ms")
      o.stop_timeout = std::chrono::milliseconds(std::atol(next().c_str()));
    else if (a == "--segment-bytes")
      o.segment_bytes = std::strtoull(next().c_str(), nullptr, 10);
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  o.on_error = [](const nereid::Status& s) {
    std::printf("ERROR %s\n", s.message().c_str());
    std::fflush(stdout);
  };
  auto created = nereid::Run::Create(o);
  if (!created.ok()) {
    std::printf("CREATE %s\n", created.status().message().c_str());
    return 1;
  }
  nereid::Run run = std::move(created).value();
  if (extras) {
    run["params/lr"] = 0.01;
    run["params/epochs"] = 3;
    run["params/optimizer"] = "adam";
    run["params/use_amp"] = true;
    run["sys/tags"].Add({"harness", "test"});
    run["logs/text"].Append("hello");
    run["eval/img"].Append(nereid::File::image(std::string("\x89PNG fake image bytes", 21)));
  }
  auto field = run[path];
  auto t0 = std::chrono::steady_clock::now();
  if (chunk > 0) {
    points = LogInChunks(run, field, chunk, points, start, rate, ack, until_stdin_closes, extend);
    threads = 0;
  }
  std::vector<std::thread> pool;
  for (long t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (long i = t; i < points; i += threads) {
        if (rate > 0 && (i / threads) % 100 == 0) {
          auto due = t0 + std::chrono::duration<double>(static_cast<double>(i) / rate);
          std::this_thread::sleep_until(
              std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
        }
        double v = static_cast<double>(start + i);
        field.Append(v, v);
      }
    });
  }
  for (auto& th : pool) th.join();
  std::printf("LOGGED %ld\nSPOOL %s\n", points, run.spool_path().c_str());
  std::fflush(stdout);
  if (hang) {
    for (;;) pause();
  }
  nereid::Status s = run.Stop();
  std::printf("STOP %s\nID %s\n", s.ok() ? "ok" : s.message().c_str(), run.id().c_str());
  std::fflush(stdout);
  return 0;
}
