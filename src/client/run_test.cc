#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "client/fake_server_test_util.h"
#include "client/records.h"
#include "client/refused_log.h"
#include "client/spool_writer.h"
#include "client/uploader.h"
#include "client/writer_dir.h"
#include "common/field_rules.h"
#include "nereid/nereid.h"

namespace nereid::client {
namespace {

namespace fs = std::filesystem;
using Fault = FakeServer::Fault;
using namespace std::chrono_literals;

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override { home_ = fs::temp_directory_path() / ("nereid-run-" + NewWriterId()); }
  void TearDown() override { fs::remove_all(home_); }

  RunOptions Options() {
    RunOptions o;
    o.url = server_.url();
    o.api_token = "t";
    o.project = "default/sandbox";
    o.mode = Mode::kAsync;
    o.spool_dir = home_;
    o.flush_period = 50ms;
    o.segment_bytes = 256 << 10;
    o.stop_timeout = 20s;
    o.capture_git = false;  // ctest runs inside Nereid's own checkout; client_git_test covers it
    o.on_error = [this](const Status& s) {
      std::lock_guard lk(mu_);
      errors_.push_back(s.message());
    };
    return o;
  }
  // Points 0..n-1 of "y" arrived once and in order; one record was set aside and counted, and
  // every other record logged was acknowledged.
  void ExpectAllOfYAndOneRefused(nereid::Run& run, int n) {
    RunStats st = run.stats();
    EXPECT_EQ(st.records_refused, 1u);
    EXPECT_EQ(st.records_acked + st.records_refused, st.records_logged);
    std::vector<double> expected(n);
    for (int i = 0; i < n; ++i) expected[i] = i;
    EXPECT_EQ(server_.floats()["y"], expected);
  }
  std::string Errors() {
    std::lock_guard lk(mu_);
    std::string all;
    for (auto& e : errors_) all += e + "\n";
    return all;
  }

  // A writer folder for the fake server's run `name`, its spool written by `write` (as an older
  // or a faulty client would have left it), and an offline uploader for it whose on_error
  // reports land in reported_.
  std::unique_ptr<Uploader> LeftBehindSpool(const std::string& name,
                                            const std::function<void(SpoolWriter&)>& write) {
    std::string dir = home_ + "/" + name + "/" + NewWriterId();
    fs::create_directories(dir);
    WriterInfo info;
    info.url = server_.url();
    info.project = "default/sandbox";
    info.custom_run_id = name;
    info.writer_id = NewWriterId();
    EXPECT_TRUE(WriteWriterInfo(dir, info).ok());
    {
      auto w = SpoolWriter::Open(dir, 64 << 10, 1ull << 30);
      EXPECT_TRUE(w.ok());
      if (!w.ok()) return nullptr;
      write(**w);
      (*w)->StopPreparing();
    }
    UploaderConfig c;
    c.dir = dir;
    c.token = "t";
    c.live = false;
    c.on_error = [this](const Status& s) { reported_.push_back(s); };
    auto up = Uploader::Open(c, nullptr);
    EXPECT_TRUE(up.ok());
    return up.ok() ? std::move(*up) : nullptr;
  }
  static void AppendCounting(SpoolWriter& w, int n) {
    std::vector<double> v(n);
    for (int i = 0; i < n; ++i) v[i] = i;
    ASSERT_EQ(w.AppendFloats("x", v.data(), nullptr, nullptr, n, 0), static_cast<size_t>(n));
  }

  FakeServer server_;
  std::vector<Status> reported_;
  std::string home_;
  std::mutex mu_;
  std::vector<std::string> errors_;
};

TEST_F(RunTest, ManyThreadsEveryPointOnce) {
  auto run = Run::Create(Options());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const uint64_t logged_before = run->stats().records_logged;  // records Create wrote
  constexpr int kThreads = 4, kPer = 20000;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      auto f = (*run)["train/loss"];
      for (int i = 0; i < kPer; ++i) f.Append(t * kPer + i);
    });
  }
  (*run)["params/name"] = "resnet";
  for (auto& t : ts) t.join();
  ASSERT_TRUE(run->Wait(20s).ok());
  // stats() counts what this process logged and what the server acknowledged of it.
  RunStats stats = run->stats();
  EXPECT_EQ(stats.records_logged - logged_before, uint64_t{kThreads * kPer + 1});
  EXPECT_EQ(stats.records_acked, stats.records_logged);
  EXPECT_GT(stats.batches_acked, 0u);
  auto values = server_.floats()["train/loss"];
  std::set<double> unique(values.begin(), values.end());
  EXPECT_EQ(values.size(), size_t{kThreads * kPer});
  EXPECT_EQ(unique.size(), size_t{kThreads * kPer});
  EXPECT_EQ(server_.strings()["params/name"], "resnet");
  EXPECT_EQ(run->id(), "FAKE-1");
  std::string dir = run->spool_path();
  ASSERT_TRUE(run->Stop().ok());
  EXPECT_EQ(server_.strings()["sys/state"], "succeeded");
  EXPECT_FALSE(fs::exists(dir));  // everything acknowledged: the spool is gone
  EXPECT_EQ(server_.duplicates(), 0);
}

TEST_F(RunTest, LostAnswers503And429AreRetriedAndAppliedOnce) {
  server_.Script({Fault::kDropAfterCommit, Fault::k503, Fault::k429, Fault::kDropAfterCommit});
  auto run = Run::Create(Options());
  ASSERT_TRUE(run.ok());
  auto f = (*run)["x"];
  for (int i = 0; i < 5000; ++i) {
    f.Append(i);
    if (i % 1000 == 0) std::this_thread::sleep_for(60ms);  // several batches
  }
  ASSERT_TRUE(run->Stop().ok()) << Errors();
  auto values = server_.floats()["x"];
  ASSERT_EQ(values.size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(values[i], i);
  EXPECT_GE(server_.duplicates(), 2);  // the two batches whose answers were lost
  EXPECT_NE(Errors().find("rate limit is delaying upload"), std::string::npos) << Errors();
  // Every try is counted: the 429 apart, the 503 as a failure (a lost answer too, unless libcurl
  // retried it on a fresh connection itself), and each ack in the latency histogram.
  RunStats st = run->stats();
  EXPECT_EQ(st.batch_requests_rate_limited, 1u);
  EXPECT_GE(st.batch_requests_failed, 1u);
  uint64_t timed = 0;
  for (uint64_t c : st.ack_latency_counts) timed += c;
  EXPECT_EQ(timed, st.batches_acked);
  EXPECT_EQ(st.batch_requests,
            st.batches_acked + st.batch_requests_rate_limited + st.batch_requests_failed);
  EXPECT_GT(st.ack_latency_max_us, 0u);
}

// A record logged into an idle run goes after a short linger, not at the next periodic look; while
// records keep coming, the sender batches them by the flush period instead of sending back to
// back. (Bounds are halves of the period: on the old sender the point waited for the next look,
// about 7.5 s here.)
TEST_F(RunTest, IdleRunSendsAtOnceBusyRunBatchesByThePeriod) {
  RunOptions o = Options();
  o.flush_period = 8s;
  auto run = Run::Create(o);
  ASSERT_TRUE(run.ok());
  auto acked_all = [&] { return run->stats().records_acked == run->stats().records_logged; };
  while (!acked_all()) std::this_thread::sleep_for(10ms);  // what Create logged
  std::this_thread::sleep_for(8500ms);  // a flush period without a send: the run is idle
  auto f = (*run)["x"];
  const auto logged = std::chrono::steady_clock::now();
  f.Append(1);
  while (!acked_all() && std::chrono::steady_clock::now() - logged < 20s) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - logged, 4s) << "waited for the periodic look";
  EXPECT_EQ(server_.floats()["x"].size(), 1u);
  // Busy now (just sent): points logged for the next 2 s wait for the period and go as one batch.
  const int requests = server_.requests();
  for (int i = 0; i < 20; ++i) {
    f.Append(i);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(server_.requests(), requests) << "sent before the flush period";
  ASSERT_TRUE(run->Stop().ok()) << Errors();
  EXPECT_EQ(server_.floats()["x"].size(), 21u);
}

// A client pacing itself on RateLimit-* is never refused, so the user must hear from it why the
// upload falls behind: once, while data waits, in words that say nothing is lost.
TEST_F(RunTest, PacedUploadTellsTheUserOnceThatTheRateLimitIsPacingIt) {
  server_.SetRateLimitHeaders(60, 0, 2);  // an empty budget, refilled in 2 s
  RunOptions o = Options();
  o.max_batch_bytes = 16 << 10;  // paced batches of 64 KiB: 100k points need many requests
  auto run = Run::Create(o);
  ASSERT_TRUE(run.ok());
  auto f = (*run)["x"];
  for (int i = 0; i < 100000; ++i) f.Append(i);
  Status waited = run->Wait(3000ms);  // two paced requests, far from all of them
  EXPECT_FALSE(waited.ok());
  std::string errors = Errors();
  size_t at = errors.find("is pacing upload");
  ASSERT_NE(at, std::string::npos) << errors;
  EXPECT_EQ(errors.find("is pacing upload", at + 1), std::string::npos) << "said once: " << errors;
  EXPECT_NE(errors.find("60 requests per minute"), std::string::npos) << errors;
  EXPECT_NE(errors.find("nothing is lost"), std::string::npos) << errors;
  server_.SetRateLimitHeaders(1000, 900, 30);  // the budget comes back: the rest goes at once
  ASSERT_TRUE(run->Stop().ok()) << Errors();
  EXPECT_EQ(server_.floats()["x"].size(), 100000u);
}

// Extend writes multi-point records; a batch holds whole records only, so with batches of about
// one record and answers lost after commit, every point still arrives once, in order.
TEST_F(RunTest, ExtendArrivesOnceThroughSmallBatchesAndLostAnswers) {
  server_.Script({Fault::kDropAfterCommit, Fault::k503, Fault::kDropAfterCommit});
  RunOptions o = Options();
  o.max_batch_bytes = 4 << 10;  // records of 256 KiB segments: 4 KiB, ~500 points
  auto run = Run::Create(o);
  ASSERT_TRUE(run.ok());
  const uint64_t logged_before = run->stats().records_logged;
  auto f = (*run)["x"];
  std::vector<double> v(10000);
  for (int c = 0; c < 5; ++c) {
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(c * 10000 + i);
    f.Extend(v);
  }
  EXPECT_EQ(run->stats().records_logged - logged_before, 50000u);  // counted in points
  ASSERT_TRUE(run->Wait(20s).ok()) << Errors();
  EXPECT_EQ(run->stats().records_acked, run->stats().records_logged);
  auto values = server_.floats()["x"];
  ASSERT_EQ(values.size(), 50000u);
  for (int i = 0; i < 50000; ++i) ASSERT_EQ(values[i], i);
  EXPECT_GE(server_.duplicates(), 2);  // the two lost answers were resent and not applied twice
  EXPECT_GT(server_.applied(), 50);    // many batches, so record boundaries were exercised
  ASSERT_TRUE(run->Stop().ok()) << Errors();
}

// A spool written by a newer client may hold a record type this reader does not know. Sync
// uploads what comes before it, then stops and says so; the record and what follows it stay in
// the spool (skipping it as torn would lose its data without a word).
TEST_F(RunTest, SyncStopsInFrontOfANewerRecordTypeAndKeepsTheRest) {
  auto up = LeftBehindSpool("newer", [](SpoolWriter& w) {
    AppendCounting(w, 100);
    ASSERT_TRUE(w.Append(static_cast<RecordType>(kLastRecordType + 1), 0, "future"));
    AppendCounting(w, 100);
  });
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->Attempt(), AttemptResult::kSent);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(up->Attempt(), AttemptResult::kRetry);
  EXPECT_EQ(up->last_error().code(), StatusCode::kFailedPrecondition);
  ASSERT_EQ(reported_.size(), 1u);  // said once
  EXPECT_NE(reported_[0].message().find("newer version of nereid"), std::string::npos);
  EXPECT_EQ(server_.floats()["x"].size(), 100u);  // only the points before the record
  EXPECT_EQ(up->records_acked(), 100u);
  EXPECT_TRUE(fs::exists(SegmentPath(up->dir(), 1)));
}

// A record whose CRC matches but whose payload does not decode (only a faulty writer makes one)
// cannot be sent; it is counted and reported as data loss, never skipped without a word.
TEST_F(RunTest, ARecordThatDoesNotDecodeIsReportedOnceAndTheRestArrives) {
  auto up = LeftBehindSpool("garbled", [](SpoolWriter& w) {
    AppendCounting(w, 50);
    // A float point's payload is 24 bytes and a path: 3 bytes cannot be one, yet its CRC is right.
    ASSERT_TRUE(w.Append(RecordType::kFloatPoint, 0, "bad"));
    AppendCounting(w, 50);
  });
  ASSERT_NE(up, nullptr);
  server_.Script({Fault::kDropAfterCommit});  // the batch is resent, and applied once
  AttemptResult r;
  int attempts = 0;
  while ((r = up->Attempt()) != AttemptResult::kIdle && ++attempts < 20) {
  }
  EXPECT_EQ(r, AttemptResult::kIdle);
  EXPECT_EQ(server_.floats()["x"].size(), 100u);  // the points on both sides of it, once each
  EXPECT_EQ(up->undecodable(), 1u);
  ASSERT_EQ(reported_.size(), 1u);
  EXPECT_EQ(reported_[0].code(), StatusCode::kDataLoss);
  EXPECT_NE(reported_[0].message().find("does not decode"), std::string::npos)
      << reported_[0].message();
}

// Drives an uploader until it has nothing left to send; false if it never gets there.
bool UploadAll(Uploader& up) {
  for (int i = 0; i < 200; ++i) {
    if (up.Attempt() == AttemptResult::kIdle) return true;
  }
  return false;
}

std::vector<nlohmann::json> RefusedLines(const std::string& dir) {
  std::vector<nlohmann::json> out;
  std::ifstream in(RefusedPath(dir));
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

// One record the server refuses for its content (a type conflict, an invalid value) must not hold
// up the rest of the run: the refused batch is halved until the record is alone, which is kept in
// the refused file, reported and skipped; every other point arrives once and in order, in a number
// of requests logarithmic in the batch (here 1,002 records in one batch). This is `nereid sync`'s
// uploader (recovered mode); the live sender uses the same one.
TEST_F(RunTest, ARecordRefusedForItsContentIsSetAsideAndTheRestArrivesOnce) {
  for (int status : {409, 400, 413}) {
    SCOPED_TRACE(status);
    reported_.clear();
    const std::string y = "y" + std::to_string(status);
    server_.RefusePath("bad", status);
    auto up = LeftBehindSpool("refused-" + std::to_string(status), [&](SpoolWriter& w) {
      for (int i = 0; i < 1000; ++i) {
        if (i == 300 || i == 601) {
          ASSERT_TRUE(w.Append(RecordType::kStringPoint, 0,
                               EncodeStringPoint("bad", "text " + std::to_string(i), 0, 1)));
        }
        ASSERT_TRUE(w.AppendFloat(y, i, 0, false, 1));
      }
    });
    ASSERT_NE(up, nullptr);
    const int before = server_.requests();
    ASSERT_TRUE(UploadAll(*up));
    const int requests = server_.requests() - before;
    // Per refused record: at most one refusal and one accepted half per halving (log2 of 1,002
    // is under 10), then the record alone; one record per request would take about 1,000.
    EXPECT_LE(requests, 2 * (2 * 10 + 2)) << "bisection, not one record per request";
    std::vector<double> expected(1000);
    for (int i = 0; i < 1000; ++i) expected[i] = i;
    EXPECT_EQ(server_.floats()[y], expected);
    EXPECT_EQ(up->records_acked(), 1000u);
    EXPECT_EQ(up->records_refused(), 2u);
    ASSERT_EQ(reported_.size(), 2u);
    for (const Status& s : reported_) {
      EXPECT_NE(s.message().find("refused a string point of 'bad'"), std::string::npos)
          << s.message();
      EXPECT_NE(s.message().find(RefusedPath(up->dir())), std::string::npos) << s.message();
      EXPECT_NE(s.message().find("HTTP " + std::to_string(status)), std::string::npos);
    }
    std::vector<nlohmann::json> kept = RefusedLines(up->dir());
    ASSERT_EQ(kept.size(), 2u);
    EXPECT_EQ(kept[0]["http_status"], status);
    EXPECT_EQ(kept[0]["operations"][0]["path"], "bad");
    EXPECT_NE(kept[0].dump().find("text 300"), std::string::npos) << kept[0].dump();
    EXPECT_NE(kept[1].dump().find("text 601"), std::string::npos) << kept[1].dump();
    EXPECT_FALSE(kept[1]["payload_base64"].get<std::string>().empty());
  }
  server_.RefusePath("", 0);
}

// The live sender goes on past a refused record too, and counts it in stats().
TEST_F(RunTest, ARunGoesOnPastARefusedRecordAndCountsIt) {
  server_.RefusePath("bad", 409);
  auto run = Run::Create(Options());
  ASSERT_TRUE(run.ok());
  auto y = (*run)["y"];
  for (int i = 0; i < 500; ++i) {
    if (i == 250) (*run)["bad"] = "a string where a float was";
    y.Append(i);
  }
  ASSERT_TRUE(run->Wait(20s).ok()) << Errors();
  ExpectAllOfYAndOneRefused(*run, 500);
  EXPECT_NE(Errors().find("refused an assignment to 'bad'"), std::string::npos) << Errors();
  const std::string dir = run->spool_path();
  ASSERT_TRUE(run->Stop().ok()) << Errors();
  EXPECT_FALSE(fs::exists(dir));  // delivered: the writer folder goes, the refused record stays
  std::vector<nlohmann::json> kept = RefusedLines(dir);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["code"], "type_conflict");
  EXPECT_EQ(kept[0]["operations"][0]["assign"]["string_value"], "a string where a float was");
}

// A file larger than the server's upload limit is refused for itself (413 on /api/v1/files) and
// would be refused forever: only the record holding it is set aside, with the file kept beside
// the refused-records file; every point around it and a file within the limit arrive.
TEST_F(RunTest, AFileOverTheUploadLimitIsSetAsideAndTheRestArrives) {
  server_.SetUploadLimit(1000);
  auto run = Run::Create(Options());
  ASSERT_TRUE(run.ok());
  auto y = (*run)["y"];
  const std::string big(5000, 'b');
  for (int i = 0; i < 300; ++i) {
    if (i == 100) (*run)["ckpt"] = File::FromBytes(big, "model.pt");
    if (i == 200) (*run)["small"] = File::FromBytes(std::string(100, 's'), "notes.txt");
    y.Append(i);
  }
  ASSERT_TRUE(run->Wait(20s).ok()) << Errors();
  ExpectAllOfYAndOneRefused(*run, 300);
  EXPECT_EQ(server_.files(), 1);  // the small file
  EXPECT_NE(Errors().find("refused an assignment to 'ckpt' (HTTP 413"), std::string::npos)
      << Errors();
  const std::string dir = run->spool_path();
  EXPECT_NE(Errors().find(RefusedFilesDir(dir)), std::string::npos) << Errors();
  ASSERT_TRUE(run->Stop().ok()) << Errors();
  EXPECT_FALSE(fs::exists(dir));  // delivered: the writer folder goes, the refused file stays
  std::vector<nlohmann::json> kept = RefusedLines(dir);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["http_status"], 413);
  EXPECT_EQ(kept[0]["operations"][0]["path"], "ckpt");
  ASSERT_EQ(kept[0]["kept_files"].size(), 1u);
  std::ifstream in(kept[0]["kept_files"][0].get<std::string>(), std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, big);
  server_.SetUploadLimit(0);
}

// Refusals whose cause is outside the spool (a token, a run in the trash) drop nothing: the data
// waits and arrives, all of it, once the cause is gone.
TEST_F(RunTest, AuthAndTrashRefusalsKeepEveryRecord) {
  for (Fault f : {Fault::k401, Fault::k409Trashed}) {
    server_.SetAlways(f);
    const std::string name = f == Fault::k401 ? "auth" : "trash";
    auto up = LeftBehindSpool(name, [](SpoolWriter& w) { AppendCounting(w, 100); });
    ASSERT_NE(up, nullptr);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(up->Attempt(), AttemptResult::kRetry);
    EXPECT_EQ(up->records_refused(), 0u);
    EXPECT_FALSE(fs::exists(RefusedPath(up->dir())));
    server_.SetAlways(Fault::kNone);
    ASSERT_TRUE(UploadAll(*up));
    EXPECT_EQ(up->records_acked(), 100u);
  }
  EXPECT_EQ(server_.floats()["x"].size(), 200u);
}

TEST_F(RunTest, WaitAndStopTimeOutWithCountAndSyncCommand) {
  server_.SetAlways(Fault::k503);
  RunOptions o = Options();
  o.stop_timeout = 300ms;
  auto run = Run::Create(o);
  ASSERT_TRUE(run.ok());
  for (int i = 0; i < 10; ++i) (*run)["y"].Append(i);
  Status w = run->Wait(200ms);
  EXPECT_EQ(w.code(), StatusCode::kUnavailable);
  EXPECT_NE(w.message().find("10 entries"), std::string::npos) << w.message();
  std::string dir = run->spool_path();
  Status s = run->Stop();
  EXPECT_NE(s.message().find("nereid sync " + dir), std::string::npos) << s.message();
  EXPECT_TRUE(fs::exists(dir));  // kept for `nereid sync`
  EXPECT_TRUE(server_.floats()["y"].empty());
}

TEST_F(RunTest, StopWithATimeoutWaitsThatLongNotTheStopTimeout) {
  server_.SetAlways(Fault::k503);
  RunOptions o = Options();
  o.stop_timeout = std::chrono::hours(1);  // were it used, the test would not end
  auto run = Run::Create(o);
  ASSERT_TRUE(run.ok());
  (*run)["y"].Append(1.0);
  std::string dir = run->spool_path();
  Status s = run->Stop(RunState::kAborted, 100ms);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("nereid sync " + dir), std::string::npos) << s.message();
  EXPECT_TRUE(fs::exists(dir));
}

TEST_F(RunTest, UnfixableErrorIsReportedAndDataKept) {
  server_.SetAlways(Fault::k401);
  RunOptions o = Options();
  o.stop_timeout = 500ms;
  auto run = Run::Create(o);
  ASSERT_TRUE(run.ok());
  (*run)["z"].Append(1.0);
  EXPECT_FALSE(run->Wait(400ms).ok());
  std::string dir = run->spool_path();
  EXPECT_FALSE(run->Stop().ok());
  EXPECT_NE(Errors().find("unknown token"), std::string::npos) << Errors();
  EXPECT_NE(Errors().find("nereid sync"), std::string::npos) << Errors();
  EXPECT_TRUE(fs::exists(dir));
}

TEST_F(RunTest, InvalidCallsAreReportedAndDebugModeStoresNothing) {
  RunOptions o = Options();
  o.mode = Mode::kDebug;
  auto run = Run::Create(o);
  ASSERT_TRUE(run.ok());
  (*run)["a//b"].Append(1.0);
  (*run)["ok"].Append(1.0, std::nan(""));
  (*run)["ok"].Append(2.0);
  // Every kind of point: a non-finite step in a batch would make the server refuse all of it.
  (*run)["text"].Append(std::string_view("x"), HUGE_VAL);
  (*run)["images"].Append(File::FromBytes("png", "a.png"), std::nan(""));
  EXPECT_NE(Errors().find("empty segment"), std::string::npos) << Errors();
  for (const char* path : {"step of ok ", "step of text ", "step of images "}) {
    EXPECT_NE(Errors().find(path), std::string::npos) << Errors();
  }
  EXPECT_TRUE(run->Stop().ok());
  EXPECT_FALSE(fs::exists(home_));
  EXPECT_EQ(server_.requests(), 0);
}

// Writes the server refuses (wire/validate.cc) would hold up the whole batch, and every later
// record behind it; they are refused at the call instead, and the rest arrives.
TEST_F(RunTest, WritesTheServerWouldRefuseAreRefusedAtTheCall) {
  auto run = Run::Create(Options());
  ASSERT_TRUE(run.ok());
  (*run)["sys/state"] = "done";
  (*run)["sys/id"] = "MINE-1";
  (*run)["sys/name"] = 5.0;
  (*run)["sys/tags"] = "x";
  (*run)["sys/failed"].Append(1.0);
  (*run)["notes"].Append(std::string(common::kMaxStringBytes + 1, 'x'));
  (*run)["notes"] = std::string_view("\xff\xfe");
  (*run)["tags"].Add({"ok", "\xc3"});
  (*run)["model"] = File::FromBytes("weights", "");
  (*run)["images"].Append(File::FromBytes("png", "a/b.png"));
  const std::string refused = Errors();
  for (const char* why : {"'sys/state' takes one of", "'sys/id' is set by the server",
                          "'sys/name' takes a string", "'sys/tags' is a string set",
                          "'sys/failed' takes a bool", "is 1048577 bytes; the limit is 1048576",
                          "is not valid UTF-8", "the file has no name", "contains '/'"}) {
    EXPECT_NE(refused.find(why), std::string::npos) << why << "\n" << refused;
  }
  // What the server takes under sys/ still goes, and so does everything after.
  (*run)["sys/name"] = "named";
  (*run)["sys/tags"].Add({"resnet"});
  (*run)["notes"] = "fine";
  (*run)["x"].Append(1.0);
  ASSERT_TRUE(run->Wait(20s).ok()) << Errors();
  EXPECT_EQ(server_.strings()["sys/name"], "named");
  EXPECT_EQ(server_.strings()["notes"], "fine");
  EXPECT_EQ(server_.floats()["x"], std::vector<double>{1.0});
  EXPECT_TRUE(run->Stop().ok());
}

// A file copied into a spool on a full disk: the copy must fail loudly, never leave a short blob
// under the full content's sha256 (std::ofstream reports the failure only when it flushes). The
// full disk is RLIMIT_FSIZE, which cuts writes short the same way.
TEST_F(RunTest, FileCopyOnAFullDiskIsReportedNotTruncated) {
  RunOptions o = Options();
  o.mode = Mode::kOffline;
  auto run = Run::Create(o);
  ASSERT_TRUE(run.ok());
  std::string content(500, 'x');  // below libstdc++'s 1 KiB: buffered, written at close
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  rlimit low = old;
  low.rlim_cur = 100;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &low), 0);
  (*run)["f"] = File::FromBytes(content, "f.bin");
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, old_handler);
  EXPECT_NE(Errors().find("cannot copy f.bin"), std::string::npos) << Errors();
  for (const auto& e : fs::directory_iterator(run->spool_path() + "/blobs")) {
    ADD_FAILURE() << "left in the spool: " << e.path() << " (" << fs::file_size(e.path())
                  << " bytes)";
  }
  (*run)["f"] = File::FromBytes(content, "f.bin");
  size_t blobs = 0;
  for (const auto& e : fs::directory_iterator(run->spool_path() + "/blobs")) {
    EXPECT_EQ(fs::file_size(e.path()), content.size());
    ++blobs;
  }
  EXPECT_EQ(blobs, 1u);
  (void)run->Stop();
}

TEST_F(RunTest, OptionsComeFromTheEnvironment) {
  setenv("NEREID_PROJECT", "acme/vision", 1);
  setenv("NEREID_MODE", "offline", 1);
  RunOptions r = ResolveOptions(RunOptions{});
  unsetenv("NEREID_PROJECT");
  unsetenv("NEREID_MODE");
  EXPECT_EQ(r.project, "acme/vision");
  EXPECT_EQ(*r.mode, Mode::kOffline);
  EXPECT_EQ(r.url, "http://127.0.0.1:4870");
  EXPECT_EQ(r.spool_dir, ".nereid");
  EXPECT_FALSE(ParseMode("fast").ok());
}

}  // namespace
}  // namespace nereid::client
