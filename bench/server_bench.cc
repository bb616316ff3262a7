// End-to-end figures for the tracking server, over loopback HTTP with durable acks:
//   1. ingest throughput: W concurrent writers, batches of B float points (protobuf, no zstd);
//   2. the 1,000-bucket view of a 10 M-point series (median of repeated requests);
//   3. a raw read of 100k points (median);
//   4. stored bytes per point for a realistic loss curve and for random values.
// Runs an in-process server on a temp data directory (SQLite, or the PostgreSQL database given by
// --store); prints one line per figure. bench/pg_bench.sh runs it against both backends.
// Usage: server_bench [--writers 8] [--batch 10000] [--seconds 10] [--series-points 10000000]
//                     [--store postgres://...] [--data DIR] [--only buckets] [--bucket-requests 21]
// --data keeps the data directory (default: a temp one, removed at the end) and reuses the loaded
// series on the next run with the same DIR; with --only buckets the program loads (or reuses) the
// series and times the full 1,000-bucket view only, so a profiler sees little else.
#include <curl/curl.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "nereid/v1/batch.pb.h"
#include "server/app.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int writers = 8;
  int batch = 10000;
  double seconds = 10;
  int64_t series_points = 10'000'000;
  std::string store;  // empty: SQLite in the temp data directory
  std::string data;   // empty: a temp directory, removed at the end
  bool only_buckets = false;
  int bucket_requests = 21;
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One keep-alive connection.
class Client {
 public:
  Client(std::string base, std::string token) : base_(std::move(base)) {
    curl_ = curl_easy_init();
    auth_ = curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str());
    proto_ = curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str());
    proto_ = curl_slist_append(proto_, "Content-Type: application/x-protobuf");
  }
  ~Client() {
    curl_slist_free_all(auth_);
    curl_slist_free_all(proto_);
    curl_easy_cleanup(curl_);
  }
  long Post(const std::string& path, const std::string& body, bool protobuf, std::string* out) {
    curl_easy_reset(curl_);
    out->clear();
    std::string url = base_ + path;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, protobuf ? proto_ : auth_);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Append);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, out);
    return Perform();
  }
  long Get(const std::string& path, std::string* out) {
    curl_easy_reset(curl_);
    out->clear();
    std::string url = base_ + path;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, auth_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Append);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, out);
    return Perform();
  }

 private:
  long Perform() {
    if (curl_easy_perform(curl_) != CURLE_OK) return -1;
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }
  std::string base_;
  CURL* curl_;
  curl_slist* auth_;
  curl_slist* proto_;
};

std::string CreateRun(Client& c, const std::string& name) {
  std::string out;
  long s =
      c.Post("/api/v1/projects/default/sandbox/runs", R"({"name":")" + name + R"("})", false, &out);
  if (s != 201) {
    std::fprintf(stderr, "create run failed: %ld %s\n", s, out.c_str());
    std::exit(1);
  }
  return nlohmann::json::parse(out)["id"];
}

// A realistic loss curve: noisy exponential decay, values rounded to float32 as loss.item() gives,
// one point per step, a timestamp every 20 ms with +-500 us of jitter.
void LossCurve(int64_t first_step, int n, std::mt19937_64& rng, nereid::v1::FloatPoints* p) {
  std::normal_distribution<double> noise(0, 0.01);
  std::uniform_int_distribution<int64_t> jitter(-500, 500);
  const int64_t t0 = 1767225600000000;  // 2026-01-01
  for (int i = 0; i < n; ++i) {
    int64_t step = first_step + i;
    double v = 2.5 * std::exp(-static_cast<double>(step) / 20000.0) + 0.05 + noise(rng);
    p->add_steps(static_cast<double>(step));
    p->add_timestamps_us(t0 + step * 20000 + jitter(rng));
    p->add_values(static_cast<double>(static_cast<float>(v)));
  }
}

std::string Batch(const std::string& writer, uint64_t seq, const std::string& path,
                  const nereid::v1::FloatPoints& points) {
  nereid::v1::Batch b;
  b.set_writer_id(writer);
  b.set_sequence(seq);
  auto* op = b.add_operations();
  op->set_path(path);
  *op->mutable_append_floats() = points;
  return b.SerializeAsString();
}

// CPU time of the whole process (server and bench client), in ms. On a shared, noisy VM the
// CPU a request costs is steadier than its wall time, which waits for whatever else runs.
double ProcessCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void IngestThroughput(const Options& o, const std::string& base, const std::string& token) {
  std::atomic<int64_t> points{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::vector<double> latencies_ms[64];
  Client setup(base, token);
  std::vector<std::string> runs;
  for (int w = 0; w < o.writers; ++w)
    runs.push_back(CreateRun(setup, "ingest-" + std::to_string(w)));
  auto started = Clock::now();
  for (int w = 0; w < o.writers; ++w) {
    threads.emplace_back([&, w] {
      Client c(base, token);
      std::mt19937_64 rng(w);
      std::string out;
      uint64_t seq = 0;
      int64_t step = 0;
      // The curve is generated once and shifted along the step and time axes per batch: drawing
      // fresh noise costs ~40 ns a point, CPU this 2-core machine would take from the server.
      nereid::v1::FloatPoints curve;
      LossCurve(0, o.batch, rng, &curve);
      while (!stop.load()) {
        nereid::v1::FloatPoints p = curve;
        double* steps = p.mutable_steps()->mutable_data();
        int64_t* times = p.mutable_timestamps_us()->mutable_data();
        for (int i = 0; i < o.batch; ++i) {
          steps[i] += static_cast<double>(step);
          times[i] += step * 20000;
        }
        step += o.batch;
        std::string body = Batch("bench-" + std::to_string(w), ++seq, "train/loss", p);
        auto t = Clock::now();
        long s = c.Post("/api/v1/runs/" + runs[w] + "/batches", body, true, &out);
        latencies_ms[w].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        if (s != 200) {
          std::fprintf(stderr, "batch failed: %ld %s\n", s, out.c_str());
          std::exit(1);
        }
        points += o.batch;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - started).count();
  std::vector<double> all;
  for (int w = 0; w < o.writers; ++w)
    all.insert(all.end(), latencies_ms[w].begin(), latencies_ms[w].end());
  std::sort(all.begin(), all.end());
  std::printf(
      "ingest: %d writers x %d-point batches: %.2f M points/s (%lld points in %.1f s), "
      "batch ack p50 %.1f ms p99 %.1f ms\n",
      o.writers, o.batch, points.load() / secs / 1e6, static_cast<long long>(points.load()), secs,
      all[all.size() / 2], all[all.size() * 99 / 100]);
}

void SeriesReads(const Options& o, const std::filesystem::path& dir, const std::string& base,
                 const std::string& token) {
  Client c(base, token);
  std::mt19937_64 rng(42);
  std::string out;
  uint64_t seq = 0;
  // A kept data directory remembers its loaded series (and how many points it has) here.
  const auto saved = dir / ("bench-series-" + std::to_string(o.series_points));
  std::string run;
  if (!o.data.empty()) std::ifstream(saved) >> run;
  const bool reuse = !run.empty();
  if (!reuse) run = CreateRun(c, "big-series");
  auto t = Clock::now();
  for (int64_t step = 0; !reuse && step < o.series_points; step += 10000) {
    nereid::v1::FloatPoints p;
    LossCurve(step, static_cast<int>(std::min<int64_t>(10000, o.series_points - step)), rng, &p);
    if (c.Post("/api/v1/runs/" + run + "/batches", Batch("big", ++seq, "train/loss", p), true,
               &out) != 200) {
      std::fprintf(stderr, "load failed: %s\n", out.c_str());
      std::exit(1);
    }
  }
  double load_s = std::chrono::duration<double>(Clock::now() - t).count();
  if (reuse) {
    std::printf("reusing the %lld-point series %s in %s\n", static_cast<long long>(o.series_points),
                run.c_str(), dir.c_str());
  } else {
    std::printf("loaded a %lld-point series with one writer in %.1f s (%.2f M points/s)\n",
                static_cast<long long>(o.series_points), load_s, o.series_points / load_s / 1e6);
    if (!o.data.empty()) std::ofstream(saved) << run;
  }

  std::vector<double> ms, cpu;
  for (int i = 0; i < o.bucket_requests; ++i) {
    auto t0 = Clock::now();
    double c0 = ProcessCpuMs();
    long s = c.Get("/api/v1/runs/" + run + "/series/buckets?path=train/loss&n=1000", &out);
    cpu.push_back(ProcessCpuMs() - c0);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (s != 200) std::exit(1);
  }
  auto buckets = nlohmann::json::parse(out)["buckets"].size();
  std::printf(
      "buckets: 1,000-bucket view of %lld points: median %.2f ms wall, %.2f ms CPU (%zu "
      "buckets)\n",
      static_cast<long long>(o.series_points), Median(ms), Median(cpu), buckets);
  if (o.only_buckets) return;
  // A zoomed view: a random 1% window, as a chart zoom asks.
  ms.clear();
  cpu.clear();
  for (int i = 0; i < 21; ++i) {
    int64_t from = static_cast<int64_t>(rng() % static_cast<uint64_t>(o.series_points * 99 / 100));
    auto t0 = Clock::now();
    double c0 = ProcessCpuMs();
    c.Get("/api/v1/runs/" + run + "/series/buckets?path=train/loss&n=1000&from=" +
              std::to_string(from) + "&to=" + std::to_string(from + o.series_points / 100),
          &out);
    cpu.push_back(ProcessCpuMs() - c0);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::printf("buckets: 1,000-bucket view of a 1%% zoom window: median %.2f ms wall, %.2f ms CPU\n",
              Median(ms), Median(cpu));

  ms.clear();
  size_t n = 0;
  for (int i = 0; i < 11; ++i) {
    int64_t from = static_cast<int64_t>(rng() % static_cast<uint64_t>(o.series_points - 100000));
    auto t0 = Clock::now();
    c.Get(
        "/api/v1/runs/" + run + "/series?path=train/loss&limit=100000&from=" + std::to_string(from),
        &out);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    n = nlohmann::json::parse(out)["values"].size();
  }
  std::printf("raw read: %zu points (JSON): median %.1f ms\n", n, Median(ms));
}

void BytesPerPoint(const std::string& base, const std::string& token) {
  Client c(base, token);
  std::mt19937_64 rng(7);
  std::string out;
  const int kPoints = 1'000'000;
  for (int kind = 0; kind < 2; ++kind) {
    std::string run = CreateRun(c, kind == 0 ? "bytes-loss" : "bytes-random");
    uint64_t seq = 0;
    std::uniform_real_distribution<double> uni(-1e6, 1e6);
    for (int step = 0; step < kPoints; step += 10000) {
      nereid::v1::FloatPoints p;
      if (kind == 0) {
        LossCurve(step, 10000, rng, &p);
      } else {
        for (int i = 0; i < 10000; ++i) {
          p.add_steps(step + i);
          p.add_timestamps_us(1767225600000000 + (step + i) * 20000LL);
          p.add_values(uni(rng));
        }
      }
      c.Post("/api/v1/runs/" + run + "/batches", Batch("b", ++seq, "series", p), true, &out);
    }
    c.Get("/api/v1/runs/" + run, &out);
    double size = nlohmann::json::parse(out)["size"].get<double>();
    std::printf("stored bytes per point, %s: %.2f (run size %.0f bytes / %d points)\n",
                kind == 0 ? "realistic loss curve (float32 values, 20 ms +-0.5 ms timestamps)"
                          : "random doubles",
                size / kPoints, size, kPoints);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--writers")
      o.writers = std::atoi(argv[i + 1]);
    else if (a == "--batch")
      o.batch = std::atoi(argv[i + 1]);
    else if (a == "--seconds")
      o.seconds = std::atof(argv[i + 1]);
    else if (a == "--series-points")
      o.series_points = std::atoll(argv[i + 1]);
    else if (a == "--store")
      o.store = argv[i + 1];
    else if (a == "--data")
      o.data = argv[i + 1];
    else if (a == "--only" && std::string(argv[i + 1]) == "buckets")
      o.only_buckets = true;
    else if (a == "--bucket-requests")
      o.bucket_requests = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "server_bench: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto dir = o.data.empty() ? std::filesystem::temp_directory_path() /
                                  ("nereid-bench-" + std::to_string(getpid()))
                            : std::filesystem::path(o.data);
  nereid::server::Config config;
  config.data_dir = dir.string();
  config.port = 0;
  config.access_log = false;
  config.store_url = o.store;
  nereid::server::App app(config);
  if (auto s = app.Start(); !s.ok()) {
    std::fprintf(stderr, "server: %s\n", s.ToString().c_str());
    return 1;
  }
  std::string token;
  std::ifstream(dir / "admin.token") >> token;
  std::string base = "http://127.0.0.1:" + std::to_string(app.port());
  std::printf("server_bench: %u cores, data in %s, store %s, synchronous=full\n",
              std::thread::hardware_concurrency(), dir.c_str(),
              o.store.empty() ? "sqlite" : "postgres");
  if (!o.only_buckets) IngestThroughput(o, base, token);
  SeriesReads(o, dir, base, token);
  if (!o.only_buckets) BytesPerPoint(base, token);
  app.Stop();
  if (o.data.empty()) std::filesystem::remove_all(dir);
  return 0;
}
