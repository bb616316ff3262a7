// A small program that logs through the client library, for the system tests (tests/
// test_client*.py) which drive it against the real server and the fault proxy, and kill it.
//
//   client_harness --project P --custom-id C [--mode async] [--points N] [--start K]
//                  [--path train/loss] [--rate PTS_PER_S] [--hang] [--flush-ms 200]
//                  [--stop-timeout-ms 60000] [--segment-bytes B] [--threads T] [--extras]
//
// URL, token and spool root come from NEREID_URL, NEREID_API_TOKEN, NEREID_HOME. Point i has the
// value and step start+i. Prints "LOGGED <n>" once every point is logged (kill -9 after it: they
// must all arrive after `nereid sync`), then, unless --hang, stops the run and prints
// "STOP <ok|message>" and "ID <run id>". Every error callback prints "ERROR <message>".
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "nereid/nereid.h"

int main(int argc, char** argv) {
  nereid::RunOptions o;
  long points = 1000, start = 0, threads = 1;
  double rate = 0;
  bool hang = false, extras = false;
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
