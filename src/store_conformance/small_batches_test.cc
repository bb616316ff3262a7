// Many small batches into one series, as a client with a short flush period sends them: the
// SQLite writer then stores the open tail as a base chunk plus a delta chunk
// (store_sqlite/series_cache.h). Reads, restarts, refused batches and run sizes must not see the
// difference on any backend.
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "store_conformance/store_fixture.h"

namespace nereid::store_conformance {
namespace {
using testing::B;
using testing::StoreTest;

struct Expected {
  double step;
  double value;
  std::string text;
};

// Every point of a series through the paged raw read.
std::vector<Expected> ReadAll(store::Store& store, const std::string& run,
                              const std::string& path) {
  std::vector<Expected> out;
  store::SeriesQuery q = testing::SQ(run, path);
  q.limit = 997;  // pages end inside chunks, and inside runs of equal steps
  for (;;) {
    auto page = store.ReadSeries(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return out;
    for (auto& p : page->floats) out.push_back({p.step, p.value, ""});
    for (auto& p : page->strings) out.push_back({p.step, 0, p.value});
    if (page->next_cursor.empty()) return out;
    q.cursor = page->next_cursor;
  }
}

// The stored order: by step, ties in arrival order.
std::vector<Expected> Sorted(std::vector<Expected> v) {
  std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.step < b.step; });
  return v;
}

void ExpectSame(const std::vector<Expected>& got, const std::vector<Expected>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].step, want[i].step) << i;
    ASSERT_TRUE(got[i].value == want[i].value ||
                (std::isnan(got[i].value) && std::isnan(want[i].value)))
        << i;
    ASSERT_EQ(got[i].text, want[i].text) << i;
  }
}

TEST_P(StoreTest, SmallBatchesAcrossRestartsRefusalsAndSeals) {
  std::string run = NewRun();
  std::mt19937 rng(5);
  std::vector<Expected> floats, strings;               // arrival order
  const size_t n = series::kTargetChunkPoints + 1700;  // one seal, then a second open tail
  uint64_t seq = 1;
  double step = 0;
  for (int batch = 0; floats.size() < n; ++batch) {
    B b("w", seq);
    std::vector<double> steps, values;
    std::vector<Expected> added;
    for (uint32_t i = 0, k = 1 + rng() % 7; i < k; ++i) {
      // Mostly increasing, sometimes a repeat (a tie that may straddle base and delta), rarely
      // going back below points already in the base.
      uint32_t r = rng() % 30;
      step = r == 0 ? step - 300 : (r < 3 ? step : step + 1);
      steps.push_back(step);
      values.push_back(r == 4 ? std::nan("") : static_cast<double>(floats.size() + i));
      added.push_back({steps.back(), values.back(), ""});
    }
    b.Floats("x", steps, values);
    if (batch % 3 == 0) b.Strings("log", {step}, {"s" + std::to_string(batch)});
    if (batch % 97 == 50) {
      // Refused as a whole (the series cannot be assigned a float): none of its points stay, and
      // the same sequence is then free for the next batch.
      B bad = b;
      bad.Float("x", 1);
      EXPECT_EQ(store_->Ingest(run, bad.batch).status().code(), StatusCode::kTypeConflict);
    }
    auto r = store_->Ingest(run, b.batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_FALSE(r->duplicate);
    // A retry of the batch just stored is recognised, not applied twice.
    if (batch % 41 == 7) {
      auto again = store_->Ingest(run, b.batch);
      ASSERT_TRUE(again.ok());
      EXPECT_TRUE(again->duplicate);
    }
    ++seq;
    floats.insert(floats.end(), added.begin(), added.end());
    if (batch % 3 == 0) strings.push_back({step, 0, "s" + std::to_string(batch)});
    // Restarts with the tail in every state: a base alone, a base with a delta, just sealed.
    if (batch % 211 == 100) Reopen();
  }
  ExpectSame(ReadAll(*store_, run, "x"), Sorted(floats));
  ExpectSame(ReadAll(*store_, run, "log"), Sorted(strings));
  Reopen();
  ExpectSame(ReadAll(*store_, run, "x"), Sorted(floats));
  // After a restart the writer's last sequence comes from the database again.
  auto resent = store_->Ingest(run, B("w", seq - 1).Floats("x", {}, {1}).batch);
  ASSERT_TRUE(resent.ok());
  EXPECT_TRUE(resent->duplicate);
  ExpectSame(ReadAll(*store_, run, "x"), Sorted(floats));

  // One bucket over everything equals the points' own fold.
  store::BucketQuery q = testing::BQ(run, "x");
  q.buckets = 1;
  auto buckets = store_->ReadBuckets(q);
  ASSERT_TRUE(buckets.ok()) << buckets.status().ToString();
  ASSERT_EQ(buckets->size(), 1u);
  uint64_t nans = 0;
  double lo = INFINITY, hi = -INFINITY;
  for (auto& p : floats) {
    if (std::isnan(p.value)) {
      ++nans;
    } else {
      lo = std::min(lo, p.value);
      hi = std::max(hi, p.value);
    }
  }
  EXPECT_EQ((*buckets)[0].count, floats.size());
  EXPECT_EQ((*buckets)[0].nan_count, nans);
  EXPECT_EQ((*buckets)[0].min, lo);
  EXPECT_EQ((*buckets)[0].max, hi);

  auto fields = store_->GetFields(run, "x");
  ASSERT_TRUE(fields.ok());
  ASSERT_EQ(fields->size(), 1u);
  EXPECT_EQ((*fields)[0].series->count, floats.size());

  if (GetParam() == "sqlite") {
    // The run's size is kept incrementally through delta writes, merges and seals: it must equal
    // the chunks actually stored (the run has no other sized content; its series fields count 0).
    auto info = store_->GetRun(run);
    ASSERT_TRUE(info.ok());
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2((dir_ / "nereid.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT SUM(length(data)) FROM chunk_data", -1, &st, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(info->size_bytes, sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
}

TEST_P(StoreTest, WriterSequenceDoesNotOutliveItsRun) {
  // A deleted run's row id may be given to the next run; the same writer id starting again at 1
  // there is new data, not a duplicate.
  std::string first = NewRun();
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    ASSERT_TRUE(store_->Ingest(first, B("w", seq).Floats("x", {}, {1}).batch).ok());
  }
  ASSERT_TRUE(store_->TrashRuns("ws/vision", {first}).ok());
  auto in_trash = store_->Ingest(first, B("w", 4).Floats("x", {}, {1}).batch);
  EXPECT_EQ(in_trash.status().code(), StatusCode::kFailedPrecondition)
      << in_trash.status().ToString();
  auto retry = store_->Ingest(first, B("w", 3).Floats("x", {}, {1}).batch);  // stored before
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->duplicate);
  ASSERT_TRUE(store_->DeleteRuns("ws/vision", {first}).ok());
  std::string second = NewRun();
  auto r = store_->Ingest(second, B("w", 1).Floats("x", {}, {7}).batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->duplicate);
  auto page = store_->ReadSeries(testing::SQ(second, "x"));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->floats.size(), 1u);
  EXPECT_EQ(page->floats[0].value, 7);
}

// Instantiated with the other StoreTest tests in store_test.cc.
}  // namespace
}  // namespace nereid::store_conformance
