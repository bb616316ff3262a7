// Load test of a real `nereid server` process (issue 7 §5): R concurrent runs, each logging from
// its own client process through the C++ client library (nereid::Run, async mode), plus reader
// threads hitting the runs table (sort + filter + columns) and the bucket endpoint.
//
// Figures printed (docs/reliability.md records them):
//  - accepted points/s: float points of the measured window that the server acknowledged,
//    divided by the window length;
//  - request -> ack latency: for every batch request a client made, the time from sending it to
//    reading the server's durable 200 (RunStats::ack_latency_counts, a histogram, so p50/p99 are
//    bucket bounds; the max is exact), with the batch requests, 429s and failures. This is the
//    server's ack latency as a client sees it (network, queueing, the durable commit);
//  - log -> ack latency: for every log call, the time from the call until the child process saw the
//    server acknowledge the batch holding that point (RunStats::records_acked passing the
//    record's index, checked every --poll-ms, 10 ms, by the child's logging thread). This is
//    end-to-end: spool, sender pacing (flush period), HTTP, the server's durable commit, plus at
//    most poll-ms of check granularity;
//  - the server's own view, from its /metrics histograms: HTTP duration of the batch route and
//    the ingest (decode + commit) duration, as bucket bounds ("≤ X ms");
//  - reader request latency (whole HTTP request, measured by the reader thread);
//  - errors by kind, server peak RSS (VmHWM) and CPU seconds (utime + stime over the window).
//
// The server runs on a temporary data dir and a free port; child processes are forked before the
// parent starts any thread. All processes share CLOCK_MONOTONIC (std::chrono::steady_clock), so
// the children start logging together at a time the parent picked.
//
// Usage: load_bench --nereid build/src/cli/nereid [--runs 200] [--seconds 60] [--rate 100]
//                   [--readers 4] [--flush-ms 1000] [--poll-ms 10] [--client-nice 0]
//                   [--server-arg FLAG]... [--segment-mib N] [--server-group-nice N]
//                   [--as-user] [--keep] [--reader-pause-ms 0] [--client-dir DIR]
//
// --client-dir: where the children keep their spools (default: beside the server's data, on the
// same disk). A stand-in for clients on other machines: the server's fsync flushes the whole
// device's write cache, so the clients' spool writeback on the server's disk lengthens it
// (docs/reliability.md, "Disk flushes"). /dev/shm keeps their writes off every disk.
//
// --reader-pause-ms: each reader waits this long between its requests (default 0: back to back).
// People looking at the UI ask now and then; back-to-back readers measure the server's read
// capacity and take CPU from the ingest.
//
// --as-user: the children log with the token of an ordinary user (a service account, contributor
// of default/sandbox) instead of the server administrator's, so the server's per-user request
// limit (default 1,000/minute, shared by all the runs) applies and the client paces itself on
// it: how the lag from log call to acknowledgement behaves for one user's runs (issue 3 §4).
#include <curl/curl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nereid/nereid.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
  std::string nereid;
  int runs = 200;
  double seconds = 60;
  double rate = 100;  // points per second per run
  int readers = 4;
  int flush_ms = 1000;                   // RunOptions::flush_period (the library default)
  int reader_pause_ms = 0;               // --reader-pause-ms
  int poll_ms = 10;                      // how often a child checks for acks (latency resolution)
  std::vector<std::string> server_args;  // extra `nereid server` flags (--server-arg)
  bool keep = false;
  std::string client_dir;  // --client-dir; empty: beside the server's data
  // nice(2) increment for the client processes (--client-nice). 0: as the bench. Raising it
  // stands in for clients on other machines: the 200 children no longer take the server's cores.
  int client_nice = 0;
  bool as_user = false;  // log as an ordinary, rate-limited user (--as-user)
  // RunOptions::segment_bytes in MiB (--segment-mib). 0: the library default (8 MiB). Each run
  // faults in its first segment and a spare when it starts: 200 runs x 2 x 8 MiB of page faults
  // and zeroing land in the first seconds of the window.
  int segment_mib = 0;
  // Nice value of the server's autogroup (--server-group-nice; needs root for < 0). Stands in for
  // a server machine whose CPU the server gets when it needs it.
  int server_group_nice = 0;
};

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

// ---- child: one run in its own process ----

struct ChildSummary {
  uint64_t logged = 0;
  uint64_t acked = 0;
  uint64_t dropped = 0;
  std::vector<std::string> errors;
};

// Short kind of an error message: its first few words, without numbers, so counts aggregate.
std::string Kind(const std::string& message) {
  std::string k = std::regex_replace(message.substr(0, 60), std::regex("[0-9]+"), "N");
  return k;
}

int ChildMain(const Options& o, int index, const std::string& url, const std::string& token,
              const std::string& out_dir, int64_t start_us) {
  std::mutex mu;
  ChildSummary sum;
  nereid::RunOptions ro;
  ro.url = url;
  ro.api_token = token;
  ro.project = "default/sandbox";
  ro.mode = nereid::Mode::kAsync;
  ro.spool_dir = out_dir + "/spool-" + std::to_string(index);
  ro.name = "load-" + std::to_string(index);
  ro.flush_period = std::chrono::milliseconds(o.flush_ms);
  ro.stop_timeout = 60s;
  if (o.segment_mib > 0) ro.segment_bytes = uint64_t(o.segment_mib) << 20;
  ro.on_error = [&](const nereid::Status& s) {
    std::lock_guard lk(mu);
    sum.errors.push_back("client: " + Kind(s.message()));
  };
  auto run = nereid::Run::Create(ro);
  if (!run.ok()) {
    std::fprintf(stderr, "child %d: %s\n", index, run.status().ToString().c_str());
    return 2;
  }
  (*run)["params/index"] = index;
  (*run)["params/lr"] = 0.001 * (index % 10 + 1);
  auto loss = (*run)["train/loss"];

  const size_t points = static_cast<size_t>(o.rate * o.seconds);
  std::vector<int64_t> logged_at(points);  // steady clock, us
  std::vector<int32_t> latency_us(points, -1);

  // One thread does everything, waking every poll_ms: it logs the points due by then, then
  // checks how many records the server acknowledged and stamps the newly acknowledged points.
  // (A separate 1 ms poller per child made 200 children eat both cores and starve the server.)
  // An ack is seen at the first check after it happened: latencies are over-estimated by at most
  // poll_ms. The i-th call of this one logging thread is record base + i + 1 of the spool.
  std::this_thread::sleep_until(Clock::time_point(std::chrono::microseconds(start_us)));
  const uint64_t base = run->stats().records_logged;
  const double period_us = 1e6 / o.rate;
  std::mt19937_64 rng(index);
  std::uniform_real_distribution<double> noise(0, 0.05);
  const int64_t give_up_us = start_us + static_cast<int64_t>((o.seconds + 60) * 1e6);
  size_t logged = 0, resolved = 0;
  for (auto tick = Clock::now(); resolved < points; tick += std::chrono::milliseconds(o.poll_ms)) {
    std::this_thread::sleep_until(tick);
    int64_t now = NowUs();
    while (logged < points &&
           start_us + static_cast<int64_t>(static_cast<double>(logged) * period_us) <= now) {
      logged_at[logged] = NowUs();
      loss.Append(1.0 / (1.0 + static_cast<double>(logged) / 100.0) + noise(rng));
      ++logged;
    }
    uint64_t acked = run->stats().records_acked;
    now = NowUs();
    while (resolved < logged && base + resolved + 1 <= acked) {
      latency_us[resolved] = static_cast<int32_t>(
          std::min<int64_t>(now - logged_at[resolved], std::numeric_limits<int32_t>::max()));
      ++resolved;
    }
    if (logged == points && now > give_up_us) break;  // the rest never acknowledged: an error
  }
  nereid::RunStats st = run->stats();
  nereid::Status s = run->Stop();
  {
    // The batch requests' own figures, after Stop so that they cover every request the run made.
    nereid::RunStats after = run->stats();
    std::ofstream req(out_dir + "/child-" + std::to_string(index) + ".req");
    req << after.batch_requests << " " << after.batch_requests_rate_limited << " "
        << after.batch_requests_failed << " " << after.ack_latency_max_us;
    for (uint64_t c : after.ack_latency_counts) req << " " << c;
    req << "\n";
  }
  // The whole child (logging thread, sender, the library's other threads): what the clients take
  // from the cores the server runs on.
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::lock_guard lk(mu);  // (on_error ran on the sender thread until Stop)
  sum.logged = st.records_logged - base;
  sum.dropped = st.records_dropped;
  if (!s.ok()) sum.errors.push_back("client: Stop: " + Kind(s.message()));
  if (sum.logged != points) sum.errors.push_back("client: records_logged differs from log calls");
  std::ofstream lat(out_dir + "/child-" + std::to_string(index) + ".lat", std::ios::binary);
  for (int32_t l : latency_us) {
    if (l >= 0) {
      ++sum.acked;
      lat.write(reinterpret_cast<const char*>(&l), sizeof l);
    }
  }
  if (sum.acked != points) sum.errors.push_back("client: points never acknowledged");
  std::ofstream txt(out_dir + "/child-" + std::to_string(index) + ".txt");
  txt << sum.logged << " " << sum.acked << " " << sum.dropped << " " << cpu_s << "\n";
  for (const auto& e : sum.errors) txt << e << "\n";
  return 0;
}

// ---- parent ----

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Reply {
  long status = 0;
  std::string body;
  std::string error;
};

class Http {
 public:
  Http(std::string base, const std::string& token) : base_(std::move(base)) {
    curl_ = curl_easy_init();
    headers_ = curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str());
  }
  ~Http() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }
  Reply Get(const std::string& path_and_query) {
    Reply r;
    std::string url = base_ + path_and_query;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
    CURLcode c = curl_easy_perform(curl_);
    if (c != CURLE_OK) {
      r.error = curl_easy_strerror(c);
      return r;
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
    return r;
  }
  std::string Escape(const std::string& s) {
    char* e = curl_easy_escape(curl_, s.c_str(), static_cast<int>(s.size()));
    std::string out(e);
    curl_free(e);
    return out;
  }

 private:
  std::string base_;
  CURL* curl_;
  curl_slist* headers_;
};

struct ProcStat {
  double cpu_seconds = 0;
  uint64_t hwm_kib = 0;
  uint64_t rss_kib = 0;
};

ProcStat ReadProc(pid_t pid) {
  ProcStat p;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t close = all.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(all.substr(close + 2));
    std::vector<std::string> f;
    std::string x;
    while (rest >> x) f.push_back(x);
    // Fields after the comm: state(3) ... utime(14) stime(15); index = field - 3.
    if (f.size() > 12) {
      double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      p.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) p.hwm_kib = std::stoull(line.substr(6));
    if (line.rfind("VmRSS:", 0) == 0) p.rss_kib = std::stoull(line.substr(6));
  }
  return p;
}

// Whole-machine CPU time from /proc/stat, in seconds: busy (everything but idle and iowait).
struct MachineCpu {
  double busy = 0, total = 0;
};

MachineCpu ReadMachineCpu() {
  MachineCpu m;
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (int i = 0; i < 8; ++i) {
    double v = 0;
    if (!(in >> v)) break;
    m.total += v / ticks;
    if (i != 3 && i != 4) m.busy += v / ticks;  // 3: idle, 4: iowait
  }
  return m;
}

double Percentile(std::vector<int32_t>* v, double q) {
  if (v->empty()) return 0;
  size_t k = static_cast<size_t>(q * static_cast<double>(v->size() - 1));
  std::nth_element(v->begin(), v->begin() + static_cast<long>(k), v->end());
  return (*v)[k] / 1000.0;
}

// From Prometheus text: the cumulative bucket counts of histogram `name` whose labels contain
// `label`, by bucket bound in seconds (summed over matching series).
std::map<double, uint64_t> CumulativeBuckets(const std::string& metrics, const std::string& name,
                                             const std::string& label) {
  std::map<double, uint64_t> cumulative;
  std::istringstream in(metrics);
  std::string line;
  std::regex le("le=\"([^\"]+)\"\\}? ([0-9]+)");
  while (std::getline(in, line)) {
    if (line.rfind(name + "_bucket", 0) != 0 || line.find(label) == std::string::npos) continue;
    std::smatch m;
    if (!std::regex_search(line, m, le)) continue;
    double bound = m[1] == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(m[1]);
    cumulative[bound] += std::stoull(m[2]);
  }
  return cumulative;
}

// The smallest bucket bound holding fraction q of the observations. Returns the bound in ms, or
// -1.
double HistogramQuantileMs(const std::string& metrics, const std::string& name,
                           const std::string& label, double q, uint64_t* count) {
  std::map<double, uint64_t> cumulative = CumulativeBuckets(metrics, name, label);
  if (cumulative.empty()) return -1;
  uint64_t total = cumulative.rbegin()->second;
  *count = total;
  for (auto [bound, c] : cumulative) {
    if (static_cast<double>(c) >= q * static_cast<double>(total)) return bound * 1000;
  }
  return -1;
}

// Fraction of the observations at most `bound_ms`, which must be one of the bucket bounds; -1
// when absent.
double HistogramFractionAtMost(const std::string& metrics, const std::string& name,
                               const std::string& label, double bound_ms) {
  std::map<double, uint64_t> cumulative = CumulativeBuckets(metrics, name, label);
  if (cumulative.empty()) return -1;
  uint64_t n = cumulative.rbegin()->second;
  auto at = cumulative.find(bound_ms / 1000);
  if (n == 0 || at == cumulative.end()) return -1;
  return static_cast<double>(at->second) / static_cast<double>(n);
}

// Sum and count of histogram `name` over the series whose labels contain `label`.
double HistogramMeanMs(const std::string& metrics, const std::string& name,
                       const std::string& label) {
  double sum = 0, count = 0;
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    bool is_sum = line.rfind(name + "_sum", 0) == 0;
    bool is_count = line.rfind(name + "_count", 0) == 0;
    if ((!is_sum && !is_count) || line.find(label) == std::string::npos) continue;
    double v = std::stod(line.substr(line.rfind(' ') + 1));
    (is_sum ? sum : count) += v;
  }
  return count > 0 ? sum / count * 1000 : -1;
}

pid_t StartServer(const Options& o, const std::string& data, int* port) {
  const std::string log = data + "/../server.out";
  pid_t pid = fork();
  if (pid == 0) {
    // Its own session, hence its own scheduler autogroup (Linux, sched_autogroup_enabled): in one
    // autogroup with the 200 clients the server's threads share that group's CPU by weight, and
    // 200 clients outweigh the server even at nice +19 (200 x 15 > 1,024). Apart, the server
    // competes as one group, as a server with its clients on other machines would.
    setsid();
    FILE* out = std::freopen(log.c_str(), "w", stdout);
    FILE* err = std::freopen((data + "/../server.err").c_str(), "w", stderr);
    (void)out;
    (void)err;
    std::vector<std::string> args = {o.nereid, "server",    "--data",         data, "--port", "0",
                                     "--host", "127.0.0.1", "--no-access-log"};
    args.insert(args.end(), o.server_args.begin(), o.server_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(o.nereid.c_str(), argv.data());
    _exit(127);
  }
  std::regex port_line("http://127\\.0\\.0\\.1:([0-9]+)/");
  for (int i = 0; i < 3000; ++i) {
    std::ifstream in(log);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch m;
    if (std::regex_search(all, m, port_line)) {
      *port = std::stoi(m[1]);
      return pid;
    }
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) break;
    std::this_thread::sleep_for(10ms);
  }
  std::fprintf(stderr, "load_bench: the server did not start; see %s\n", log.c_str());
  kill(pid, SIGKILL);
  std::exit(1);
}

struct ReaderStats {
  std::vector<int32_t> list_us, buckets_us;
  std::map<std::string, int> errors;
};

void Reader(const std::string& base, const std::string& token, Clock::time_point end, int seed,
            std::chrono::milliseconds pause, ReaderStats* out) {
  Http http(base, token);
  std::mt19937 rng(seed);
  const std::string list =
      "/api/v1/projects/default/sandbox/runs?sort=" + http.Escape("train/loss:last") +
      "&order=asc&filter=" + http.Escape("train/loss:last < 0.5 and params/lr > 0.002") +
      "&columns=" + http.Escape("params/lr,train/loss:last") + "&limit=50";
  std::vector<std::string> ids;
  for (int i = 0; Clock::now() < end; ++i) {
    if (i > 0 && pause.count() > 0) std::this_thread::sleep_for(pause);
    bool buckets = i % 2 == 1 && !ids.empty();
    std::string path = buckets ? "/api/v1/runs/" + ids[rng() % ids.size()] +
                                     "/series/buckets?path=train/loss&n=500"
                               : list;
    auto t0 = Clock::now();
    Reply r = http.Get(path);
    int32_t us = static_cast<int32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
    const char* what = buckets ? "reader buckets" : "reader runs table";
    if (!r.error.empty()) {
      ++out->errors[std::string(what) + ": " + r.error];
      std::this_thread::sleep_for(10ms);
      continue;
    }
    if (r.status != 200) {
      ++out->errors[std::string(what) + ": HTTP " + std::to_string(r.status)];
      continue;
    }
    (buckets ? out->buckets_us : out->list_us).push_back(us);
    if (!buckets) {
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (!j.is_discarded() && j.contains("runs")) {
        for (const auto& run : j["runs"]) {
          std::string id = run.value("id", "");
          if (!id.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
        }
      }
    }
  }
}

}  // namespace

// Runs `nereid admin` (a child process; this process has no thread yet) to make the service
// account `load`, contributor of default/sandbox, and returns a new token of it ("" on failure).
std::string IssueUserToken(const std::string& nereid, const std::string& base,
                           const std::string& admin_token) {
  const std::string admin = nereid + " admin --url " + base + " --token " + admin_token + " ";
  if (std::system((admin + "users add load --service >/dev/null").c_str()) != 0 ||
      std::system((admin + "members set default/sandbox load contributor >/dev/null").c_str()) !=
          0) {
    return "";
  }
  FILE* out = popen((admin + "tokens issue load --name load_bench").c_str(), "r");
  if (out == nullptr) return "";
  std::string text;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, out)) text.append(buf, n);
  if (pclose(out) != 0) return "";
  // The token is the last line ("token N for 'load' (shown once; store it now):\nTOKEN\n").
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.substr(text.find_last_of('\n') + 1);
}

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "load_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--nereid") {
      o.nereid = next();
    } else if (a == "--runs") {
      o.runs = std::stoi(next());
    } else if (a == "--seconds") {
      o.seconds = std::stod(next());
    } else if (a == "--rate") {
      o.rate = std::stod(next());
    } else if (a == "--readers") {
      o.readers = std::stoi(next());
    } else if (a == "--flush-ms") {
      o.flush_ms = std::stoi(next());
    } else if (a == "--reader-pause-ms") {
      o.reader_pause_ms = std::stoi(next());
    } else if (a == "--poll-ms") {
      o.poll_ms = std::stoi(next());
    } else if (a == "--server-arg") {
      o.server_args.push_back(next());
    } else if (a == "--client-nice") {
      o.client_nice = std::stoi(next());
    } else if (a == "--server-group-nice") {
      o.server_group_nice = std::stoi(next());
    } else if (a == "--segment-mib") {
      o.segment_mib = std::stoi(next());
    } else if (a == "--as-user") {
      o.as_user = true;
    } else if (a == "--client-dir") {
      o.client_dir = next();
    } else if (a == "--keep") {
      o.keep = true;
    } else {
      std::fprintf(
          stderr,
          "usage: load_bench --nereid PATH [--runs N] [--seconds S] [--rate P] "
          "[--readers N] [--flush-ms MS] [--poll-ms MS] [--client-nice N] [--server-arg FLAG]... "
          "[--segment-mib N] [--server-group-nice N] [--as-user] [--keep] [--client-dir DIR] "
          "[--reader-pause-ms "
          "MS]\n");
      return 2;
    }
  }
  if (o.nereid.empty()) {
    const char* env = std::getenv("NEREID_BIN");
    o.nereid = env != nullptr ? env : "";
  }
  if (o.nereid.empty() || !fs::exists(o.nereid)) {
    std::fprintf(stderr, "load_bench: give the server binary with --nereid or NEREID_BIN\n");
    return 2;
  }
  std::string tmpl = (fs::temp_directory_path() / "nereid-load-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return 1;
  const std::string dir = tmpl;
  fs::create_directories(dir + "/data");
  std::string out = dir + "/out";
  if (!o.client_dir.empty()) {
    std::string t = (fs::path(o.client_dir) / "nereid-load-out-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) {
      std::fprintf(stderr, "load_bench: cannot make a folder in %s\n", o.client_dir.c_str());
      return 2;
    }
    out = t;
  }
  fs::create_directories(out);
  int port = 0;
  pid_t server = StartServer(o, dir + "/data", &port);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  if (o.server_group_nice != 0) {
    std::ofstream group("/proc/" + std::to_string(server) + "/autogroup");
    group << o.server_group_nice << std::flush;
    if (!group) {
      std::fprintf(stderr,
                   "load_bench: cannot set the server's autogroup nice (root only for < 0)\n");
      kill(server, SIGKILL);
      return 1;
    }
  }
  std::string token;
  for (int i = 0; i < 500 && token.empty(); ++i) {
    std::ifstream t(dir + "/data/admin.token");
    std::getline(t, token);
    if (token.empty()) std::this_thread::sleep_for(10ms);
  }
  std::string client_token = token;
  if (o.as_user) {
    client_token = IssueUserToken(o.nereid, base, token);
    if (client_token.empty()) {
      std::fprintf(stderr, "load_bench: could not make the rate-limited user\n");
      kill(server, SIGKILL);
      return 1;
    }
  }
  double load1 = 0;
  if (std::ifstream la("/proc/loadavg"); la) la >> load1;

  // Children first: fork() before this process has any thread. They start together, 1 s plus
  // 10 ms per run after now, so that every run exists before the measured window.
  const int64_t start_us = NowUs() + 1'000'000 + 10'000 * o.runs;
  std::vector<pid_t> children;
  for (int i = 0; i < o.runs; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      errno = 0;
      if (o.client_nice != 0 && nice(o.client_nice) == -1 && errno != 0) _exit(3);
      _exit(ChildMain(o, i, base, client_token, out, start_us));
    }
    children.push_back(pid);
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::this_thread::sleep_until(Clock::time_point(std::chrono::microseconds(start_us)));
  const ProcStat before = ReadProc(server);
  const MachineCpu machine_before = ReadMachineCpu();
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.seconds));
  std::vector<ReaderStats> readers(static_cast<size_t>(o.readers));
  std::vector<std::thread> threads;
  for (int r = 0; r < o.readers; ++r) {
    threads.emplace_back(Reader, base, token, end, r, std::chrono::milliseconds(o.reader_pause_ms),
                         &readers[static_cast<size_t>(r)]);
  }
  for (auto& t : threads) t.join();
  std::this_thread::sleep_until(end);  // the window, also with --readers 0
  const ProcStat after = ReadProc(server);
  const MachineCpu machine_after = ReadMachineCpu();
  double load1_end = 0;
  if (std::ifstream la("/proc/loadavg"); la) la >> load1_end;

  std::map<std::string, int> errors, notices;
  for (pid_t pid : children) {
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ++errors["child exited abnormally"];
  }
  const ProcStat final_stat = ReadProc(server);
  std::string metrics;
  {
    Http http(base, token);
    metrics = http.Get("/metrics").body;
  }

  std::vector<int32_t> ack;
  std::vector<double> children_cpu;
  // Batch requests as the clients saw them (RunStats): counts and the ack latency histogram.
  uint64_t requests = 0, requests_429 = 0, requests_failed = 0, request_max_us = 0;
  std::vector<uint64_t> request_hist(nereid::RunStats::kAckLatencyBoundsMs.size() + 1);
  uint64_t logged = 0, acked = 0, dropped = 0;
  for (int i = 0; i < o.runs; ++i) {
    std::ifstream txt(out + "/child-" + std::to_string(i) + ".txt");
    uint64_t l = 0, a = 0, d = 0;
    double cpu = 0;
    if (!(txt >> l >> a >> d >> cpu)) {
      ++errors["child wrote no summary"];
      continue;
    }
    logged += l;
    children_cpu.push_back(cpu);
    acked += a;
    dropped += d;
    std::string line;
    std::getline(txt, line);
    while (std::getline(txt, line)) {
      // The client telling its user that the rate limit paces the upload is expected with
      // --as-user (that is what it measures), not an error.
      ++(line.find("is pacing") != std::string::npos ? notices : errors)[line];
    }
    std::ifstream req(out + "/child-" + std::to_string(i) + ".req");
    uint64_t n = 0, n429 = 0, nfail = 0, max_us = 0;
    if (req >> n >> n429 >> nfail >> max_us) {
      requests += n;
      requests_429 += n429;
      requests_failed += nfail;
      request_max_us = std::max(request_max_us, max_us);
      for (uint64_t& c : request_hist) {
        uint64_t v = 0;
        req >> v;
        c += v;
      }
    } else {
      ++errors["child wrote no request figures"];
    }
    std::ifstream lat(out + "/child-" + std::to_string(i) + ".lat", std::ios::binary);
    int32_t v = 0;
    while (lat.read(reinterpret_cast<char*>(&v), sizeof v)) ack.push_back(v);
  }
  std::vector<int32_t> list_us, buckets_us;
  for (auto& r : readers) {
    list_us.insert(list_us.end(), r.list_us.begin(), r.list_us.end());
    buckets_us.insert(buckets_us.end(), r.buckets_us.begin(), r.buckets_us.end());
    for (auto& [k, n] : r.errors) errors[k] += n;
  }
  if (dropped > 0) errors["client: records dropped (spool cap)"] += static_cast<int>(dropped);

  kill(server, SIGTERM);
  int st = 0;
  waitpid(server, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ++errors["server did not exit cleanly on SIGTERM"];

  std::string extra;
  for (const auto& a : o.server_args) extra += " " + a;
  std::printf(
      "load_bench: %d runs x %.0f s at %.0f points/s each, %d readers (pause %d ms), flush %d ms, "
      "spool "
      "segments %d MiB, clients at nice +%d, server autogroup nice %d, logging as %s, server "
      "flags:%s; load average at start %.2f, %u cpus\n",
      o.runs, o.seconds, o.rate, o.readers, o.reader_pause_ms, o.flush_ms,
      o.segment_mib > 0 ? o.segment_mib : 8, o.client_nice, o.server_group_nice,
      o.as_user ? "a rate-limited user" : "the server admin (unlimited)",
      extra.empty() ? " (defaults)" : extra.c_str(), load1, std::thread::hardware_concurrency());
  std::printf("points: %llu logged, %llu acknowledged; accepted %.0f points/s (offered %.0f)\n",
              static_cast<unsigned long long>(logged), static_cast<unsigned long long>(acked),
              static_cast<double>(acked) / o.seconds, o.rate * o.runs);
  size_t n_ack = ack.size();
  std::printf(
      "log -> ack latency (log call -> batch acknowledged, in the child; includes the flush "
      "period): p50 %.1f ms, p99 %.1f ms,"
      " max %.1f ms over %zu points\n",
      Percentile(&ack, 0.5), Percentile(&ack, 0.99), Percentile(&ack, 1.0), n_ack);
  {
    // The server's ack latency, what issue 7's goal is about: the log call's figure above adds
    // the wait in the spool for the next send (up to the flush period) to it.
    const auto& bounds = nereid::RunStats::kAckLatencyBoundsMs;
    uint64_t total = 0, within_100 = 0;
    for (size_t b = 0; b < request_hist.size(); ++b) {
      total += request_hist[b];
      if (b < bounds.size() && bounds[b] <= 100) within_100 += request_hist[b];
    }
    auto quantile = [&](double q) -> std::string {
      uint64_t cumulative = 0;
      for (size_t b = 0; b < request_hist.size(); ++b) {
        cumulative += request_hist[b];
        if (total > 0 && static_cast<double>(cumulative) >= q * static_cast<double>(total)) {
          if (b == bounds.size()) {
            return "> " + std::to_string(static_cast<int>(bounds.back())) + " ms";
          }
          char buf[32];
          std::snprintf(buf, sizeof buf, "<= %g ms", bounds[b]);
          return buf;
        }
      }
      return "-";
    };
    std::printf(
        "request -> ack latency (batch request sent -> durable 200, in the client): p50 %s, p99 "
        "%s, max %.1f ms over %llu acks; %.2f%% of acks <= 100 ms; batch requests %llu, 429 %llu,"
        " failed %llu\n",
        quantile(0.5).c_str(), quantile(0.99).c_str(), static_cast<double>(request_max_us) / 1000,
        static_cast<unsigned long long>(total),
        total > 0 ? 100.0 * static_cast<double>(within_100) / static_cast<double>(total) : 0.0,
        static_cast<unsigned long long>(requests), static_cast<unsigned long long>(requests_429),
        static_cast<unsigned long long>(requests_failed));
    if (requests_failed > 0) {
      errors["client: batch requests failed (no answer, 5xx, refused)"] +=
          static_cast<int>(requests_failed);
    }
    // An unlimited (admin) token is never rate limited: a 429 then is a server error.
    if (requests_429 > 0 && !o.as_user) {
      errors["client: batch requests answered 429"] += static_cast<int>(requests_429);
    }
  }
  uint64_t n_http = 0, n_ingest = 0;
  const std::string route = "route=\"/api/v1/runs/{run_id}/batches\"";
  double h50 =
      HistogramQuantileMs(metrics, "nereid_http_request_duration_seconds", route, 0.5, &n_http);
  double h99 =
      HistogramQuantileMs(metrics, "nereid_http_request_duration_seconds", route, 0.99, &n_http);
  double i50 = HistogramQuantileMs(metrics, "nereid_batch_duration_seconds", "", 0.5, &n_ingest);
  double i99 = HistogramQuantileMs(metrics, "nereid_batch_duration_seconds", "", 0.99, &n_ingest);
  auto bound = [](double ms) {
    char text[32];
    std::snprintf(text, sizeof text, "<= %g ms", ms);
    return std::isinf(ms) ? std::string("> last bucket") : std::string(text);
  };
  std::printf(
      "server batch requests: %llu, HTTP duration p50 %s, p99 %s; ingest (decode+commit)"
      " p50 %s, p99 %s (histogram bucket bounds)\n",
      static_cast<unsigned long long>(n_http), bound(h50).c_str(), bound(h99).c_str(),
      bound(i50).c_str(), bound(i99).c_str());
  std::printf(
      "server batch requests answered within 100 ms (HTTP duration): %.2f%%\n",
      100 * HistogramFractionAtMost(metrics, "nereid_http_request_duration_seconds", route, 100));
  // Where a batch request's time goes inside the server (docs/reliability.md, "Load").
  auto stage_line = [&](const char* title, const std::string& name, const std::string& label) {
    uint64_t n = 0;
    double p50 = HistogramQuantileMs(metrics, name, label, 0.5, &n);
    double p99 = HistogramQuantileMs(metrics, name, label, 0.99, &n);
    if (p50 < 0) return;
    std::printf("  %-40s mean %8.3f ms, p50 %s, p99 %s\n", title,
                HistogramMeanMs(metrics, name, label), bound(p50).c_str(), bound(p99).c_str());
  };
  std::printf("server stages of a batch request (mean; bucket bounds for p50/p99):\n");
  const std::string batch_route = "route=\"/api/v1/runs/{run_id}/batches\"";
  for (const char* st : {"body", "queue", "handler", "write"}) {
    stage_line((std::string("http ") + st).c_str(), "nereid_http_stage_seconds",
               batch_route + ",stage=\"" + st + "\"");
  }
  stage_line("  handler: auth", "nereid_auth_duration_seconds", batch_route);
  for (const char* st : {"decode", "prepare", "commit_queue", "apply", "commit", "wake", "store"}) {
    stage_line((std::string("  handler: ingest ") + st).c_str(), "nereid_ingest_stage_seconds",
               std::string("stage=\"") + st + "\"");
  }
  {
    uint64_t n = 0;
    double g50 = HistogramQuantileMs(metrics, "nereid_group_commit_size", "", 0.5, &n);
    std::printf("  group commits: %llu, batches per commit mean %.1f, p50 <= %.0f\n",
                static_cast<unsigned long long>(n),
                HistogramMeanMs(metrics, "nereid_group_commit_size", "") / 1000, g50 / 1000);
  }
  std::printf(
      "readers: runs table %zu requests p50 %.1f ms p99 %.1f ms; buckets %zu requests "
      "p50 %.1f ms p99 %.1f ms\n",
      list_us.size(), Percentile(&list_us, 0.5), Percentile(&list_us, 0.99), buckets_us.size(),
      Percentile(&buckets_us, 0.5), Percentile(&buckets_us, 0.99));
  std::printf(
      "server: peak RSS %.1f MiB (VmHWM), RSS at end %.1f MiB, CPU %.1f s over the %.0f s "
      "window (%.0f%% of one core)\n",
      static_cast<double>(final_stat.hwm_kib) / 1024.0,
      static_cast<double>(final_stat.rss_kib) / 1024.0, after.cpu_seconds - before.cpu_seconds,
      o.seconds, 100.0 * (after.cpu_seconds - before.cpu_seconds) / o.seconds);
  {
    std::vector<double> c = children_cpu;
    std::sort(c.begin(), c.end());
    double total = 0;
    for (double x : c) total += x;
    const double window_s = o.seconds;
    const double machine_busy = machine_after.busy - machine_before.busy;
    const double machine_total = machine_after.total - machine_before.total;
    std::printf(
        "clients: %zu processes, CPU %.1f s in all over their life (mean %.2f s, max %.2f s per "
        "child; %.0f%% of one core over the window)\n",
        c.size(), total, c.empty() ? 0.0 : total / static_cast<double>(c.size()),
        c.empty() ? 0.0 : c.back(), 100.0 * total / window_s);
    std::printf(
        "machine: %.0f%% busy over the window (all processes, all users, %.1f of %.1f cpu-s); "
        "load average at end %.2f\n",
        machine_total > 0 ? 100.0 * machine_busy / machine_total : 0.0, machine_busy, machine_total,
        load1_end);
  }
  int total_errors = 0;
  for (auto& [k, n] : errors) total_errors += n;
  std::printf("errors: %d\n", total_errors);
  for (auto& [k, n] : errors) std::printf("  %6d  %s\n", n, k.c_str());
  for (auto& [k, n] : notices) std::printf("client notice (not an error): %d x %s\n", n, k.c_str());
  if (o.keep) {
    std::printf("kept %s and %s\n", dir.c_str(), out.c_str());
  } else {
    fs::remove_all(out);
    fs::remove_all(dir);
  }
  curl_global_cleanup();
  return total_errors == 0 ? 0 : 1;
}
