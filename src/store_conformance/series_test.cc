#include <cmath>
#include <random>

#include "series/buckets.h"
#include "store_conformance/store_fixture.h"

namespace nereid::store_conformance {
namespace {
using testing::B;
using testing::StoreTest;

TEST_P(StoreTest, SeriesReadBackInStepOrderWithTiesByArrival) {
  std::string run = NewRun();
  ASSERT_TRUE(
      store_->Ingest(run, B("w", 1).Floats("x", {5, 3, 3, 9}, {50, 30, 31, 90}).batch).ok());
  ASSERT_TRUE(store_->Ingest(run, B("w", 2).Floats("x", {3, 1}, {32, 10}).batch).ok());
  auto page = store_->ReadSeries(testing::SQ(run, "x"));
  ASSERT_TRUE(page.ok());
  std::vector<double> steps, values;
  for (auto& p : page->floats) {
    steps.push_back(p.step);
    values.push_back(p.value);
  }
  EXPECT_EQ(steps, (std::vector<double>{1, 3, 3, 3, 5, 9}));
  EXPECT_EQ(values, (std::vector<double>{10, 30, 31, 32, 50, 90}));
  EXPECT_TRUE(page->next_cursor.empty());
  // Summary: last at the highest step; auto-numbered steps continue after it.
  ASSERT_TRUE(store_->Ingest(run, B("w", 3).Floats("x", {9}, {91}).batch).ok());
  ASSERT_TRUE(store_->Ingest(run, B("w", 4).Floats("x", {}, {100, 101}).batch).ok());
  auto fields = store_->GetFields(run, "x");
  ASSERT_TRUE(fields.ok());
  ASSERT_EQ(fields->size(), 1u);
  const store::SeriesSummary& s = *(*fields)[0].series;
  EXPECT_EQ(s.count, 9u);
  EXPECT_EQ(s.last_step, 11);
  EXPECT_EQ(s.last, 101);
  EXPECT_EQ(s.min, 10);
  EXPECT_EQ(s.max, 101);

  ASSERT_TRUE(store_->Ingest(run, B("w", 5).Strings("log", {}, {"a", "b"}).batch).ok());
  ASSERT_TRUE(store_->Ingest(run, B("w", 6).Strings("log", {0}, {"c"}).batch).ok());
  auto strings = store_->ReadSeries(testing::SQ(run, "log"));
  ASSERT_TRUE(strings.ok());
  ASSERT_EQ(strings->strings.size(), 3u);
  EXPECT_EQ(strings->strings[0].value, "a");
  EXPECT_EQ(strings->strings[1].value, "c");
  EXPECT_EQ(strings->strings[2].value, "b");
}

TEST_P(StoreTest, PagingCursorSurvivesTiesAndChunks) {
  std::string run = NewRun();
  // Many points at few steps, out of order, spread over several chunks and batches.
  std::mt19937 rng(7);
  std::vector<std::pair<double, double>> expected;  // (step, value) in arrival order
  const size_t n = series::kTargetChunkPoints * 2 + 500;
  int seq = 1;
  for (size_t done = 0; done < n; ++seq) {
    std::vector<double> steps, values;
    for (size_t i = 0; i < 700 && done < n; ++i, ++done) {
      steps.push_back(static_cast<double>(rng() % 50));
      values.push_back(static_cast<double>(done));
      expected.emplace_back(steps.back(), values.back());
    }
    ASSERT_TRUE(store_->Ingest(run, B("w", seq).Floats("x", steps, values).batch).ok());
  }
  std::stable_sort(expected.begin(), expected.end(),
                   [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<std::pair<double, double>> got;
  store::SeriesQuery q = testing::SQ(run, "x");
  q.limit = 333;
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = store_->ReadSeries(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->floats.size(), 333u);
    for (auto& p : page->floats) got.emplace_back(p.step, p.value);
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  EXPECT_EQ(got, expected);
  // A range read.
  store::SeriesQuery range = testing::SQ(run, "x");
  range.step_from = 10;
  range.step_to = 12;
  auto page = store_->ReadSeries(range);
  ASSERT_TRUE(page.ok());
  size_t in_range = 0;
  for (auto& e : expected) in_range += e.first >= 10 && e.first <= 12;
  EXPECT_EQ(page->floats.size(), in_range);
  q.cursor = "not-a-cursor";
  EXPECT_EQ(store_->ReadSeries(q).status().code(), StatusCode::kInvalidArgument);
}

// Buckets computed from the raw points, independently of the chunk summaries.
std::vector<series::Bucket> BruteBuckets(const std::vector<series::FloatPoint>& points, double from,
                                         double to, uint32_t n) {
  series::BucketBuilder indexer(from, to, n);
  std::map<int64_t, series::Bucket> acc;
  std::map<int64_t, double> sums;
  for (const auto& p : points) {  // arrival order
    int64_t i = indexer.IndexOf(p.step);
    if (i < 0) continue;
    auto [it, fresh] = acc.try_emplace(i);
    series::Bucket& b = it->second;
    bool nan = std::isnan(p.value);
    if (fresh || p.step < b.first_step) {
      b.first_step = p.step;
      b.first = p.value;
    }
    if (fresh || p.step >= b.last_step) {
      b.last_step = p.step;
      b.last = p.value;
    }
    if (!nan) {
      bool first_value = b.count == b.nan_count;
      b.min = first_value ? p.value : std::min(b.min, p.value);
      b.max = first_value ? p.value : std::max(b.max, p.value);
      sums[i] += p.value;
    }
    b.count++;
    b.nan_count += nan ? 1 : 0;
  }
  std::vector<series::Bucket> out;
  for (auto& [i, b] : acc) {
    b.mean = b.count > b.nan_count ? sums[i] / static_cast<double>(b.count - b.nan_count) : 0;
    out.push_back(b);
  }
  return out;
}

// Every bucket of `got` equals brute force's: counts, edges and extremes exactly, the mean to a
// relative tolerance (the store adds chunk and block sums, brute force adds points one by one).
void ExpectSameBuckets(const std::vector<series::Bucket>& got,
                       const std::vector<series::Bucket>& want, double mean_tolerance) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("bucket " + std::to_string(i));
    const auto &g = got[i], &w = want[i];
    ASSERT_EQ(g.count, w.count);
    EXPECT_EQ(g.nan_count, w.nan_count);
    EXPECT_EQ(g.first_step, w.first_step);
    EXPECT_EQ(g.last_step, w.last_step);
    EXPECT_TRUE(g.first == w.first || (std::isnan(g.first) && std::isnan(w.first)));
    EXPECT_TRUE(g.last == w.last || (std::isnan(g.last) && std::isnan(w.last)));
    if (w.count > w.nan_count) {
      EXPECT_EQ(g.min, w.min);
      EXPECT_EQ(g.max, w.max);
      EXPECT_NEAR(g.mean, w.mean, mean_tolerance * (1 + std::abs(w.mean)));
    }
  }
}

// The store's view of series "x" of `run` over [from, to] in `buckets` buckets, against brute
// force over `points`.
void ExpectBucketsOfRange(store::Store& store, const std::string& run,
                          const std::vector<series::FloatPoint>& points, double from, double to,
                          uint32_t buckets, double mean_tolerance) {
  store::BucketQuery q = testing::BQ(run, "x");
  q.step_from = from;
  q.step_to = to;
  q.buckets = buckets;
  auto got = store.ReadBuckets(q);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameBuckets(*got, BruteBuckets(points, from, to, buckets), mean_tolerance);
}

TEST_P(StoreTest, BucketsMatchBruteForce) {
  std::string run = NewRun();
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> value(-5, 5);
  std::vector<series::FloatPoint> points;
  const size_t n = series::kTargetChunkPoints * 3 + 123;
  int seq = 1;
  double step = 0;
  while (points.size() < n) {
    std::vector<double> steps, values;
    for (int i = 0; i < 1000 && points.size() < n; ++i) {
      // Mostly increasing, sometimes going back, sometimes repeating.
      uint32_t r = rng() % 20;
      step = r == 0 ? step - 40 : (r == 1 ? step : step + 1);
      steps.push_back(step);
      values.push_back(rng() % 50 == 0 ? std::nan("") : value(rng));
      points.push_back({steps.back(), 1000 + i, values.back()});
    }
    ASSERT_TRUE(store_->Ingest(run, B("w", seq++).Floats("x", steps, values).batch).ok());
  }
  double lo = points[0].step, hi = points[0].step;
  for (auto& p : points) {
    lo = std::min(lo, p.step);
    hi = std::max(hi, p.step);
  }
  for (auto [from, to, buckets] :
       {std::tuple{lo, hi, 1000u}, {lo, hi, 7u}, {100.0, 2000.0, 13u}, {lo, hi, 1u}}) {
    store::BucketQuery q = testing::BQ(run, "x");
    if (from != lo || to != hi) {
      q.step_from = from;
      q.step_to = to;
    }
    q.buckets = buckets;
    auto got = store_->ReadBuckets(q);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    SCOPED_TRACE("buckets " + std::to_string(buckets));
    ExpectSameBuckets(*got, BruteBuckets(points, from, to, buckets), 1e-9);
  }
  ASSERT_TRUE(store_->Ingest(run, B("w", seq).Strings("s", {}, {"a"}).batch).ok());
  EXPECT_EQ(store_->ReadBuckets(testing::BQ(run, "s")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ReadBuckets(testing::BQ(run, "nope")).status().code(), StatusCode::kNotFound);
}

// The decoded path (chunks that straddle bucket boundaries, split into per-bucket runs on two
// threads) against brute force: fractional and repeated steps arriving out of order across many
// chunks, NaN values, and many bucket counts and ranges (inside, across and outside the data).
TEST_P(StoreTest, StraddlingChunksMatchBruteForceForManyBucketings) {
  std::string run = NewRun();
  std::mt19937 rng(23);
  std::uniform_real_distribution<double> value(-1e3, 1e3);
  std::vector<series::FloatPoint> points;
  const size_t n = series::kTargetChunkPoints * 9 + 77;
  int seq = 1;
  double step = 0;
  while (points.size() < n) {
    std::vector<double> steps, values;
    for (int i = 0; i < 3000 && points.size() < n; ++i) {
      uint32_t r = rng() % 50;
      step = r == 0 ? step - static_cast<double>(rng() % 5000) : (r == 1 ? step : step + 0.25);
      steps.push_back(step);
      values.push_back(rng() % 40 == 0 ? std::nan("") : value(rng));
      points.push_back({steps.back(), 0, values.back()});
    }
    ASSERT_TRUE(store_->Ingest(run, B("w", seq++).Floats("x", steps, values).batch).ok());
  }
  double lo = points[0].step, hi = points[0].step;
  for (auto& p : points) {
    lo = std::min(lo, p.step);
    hi = std::max(hi, p.step);
  }
  std::uniform_real_distribution<double> where(lo - 100, hi + 100);
  for (int trial = 0; trial < 40; ++trial) {
    uint32_t buckets = std::vector<uint32_t>{1, 2, 3, 7, 64, 333, 1000, 4096, 10000}[trial % 9];
    double from = lo, to = hi;
    if (trial >= 9) {
      from = where(rng);
      to = where(rng);
      if (from > to) std::swap(from, to);
      if (trial % 7 == 0) to = from;  // zero-width range: one bucket
    }
    SCOPED_TRACE("trial " + std::to_string(trial));
    ExpectBucketsOfRange(*store_, run, points, from, to, buckets, 1e-6);
  }
}

// The usual log (one point per integer step, so chunks with consecutive steps, whose split into
// buckets computes steps instead of decoding them), with a restart that logs some
// steps again (ties resolved by arrival), against brute force for many bucketings and ranges.
TEST_P(StoreTest, ConsecutiveStepChunksMatchBruteForce) {
  std::string run = NewRun();
  std::mt19937 rng(31);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<series::FloatPoint> points;
  int seq = 1;
  // Steps 0..29999, then a resumed run from 21000 to 40999.
  for (auto [first, last] : {std::pair{0, 29999}, std::pair{21000, 40999}}) {
    for (int b = first; b <= last; b += 2500) {
      std::vector<double> steps, values;
      for (int step = b; step <= std::min(last, b + 2499); ++step) {
        double v = static_cast<float>(2.5 * std::exp(-step / 2e4) + 0.05 + noise(rng));
        if (rng() % 500 == 0) v = std::nan("");
        steps.push_back(step);
        values.push_back(v);
        points.push_back({static_cast<double>(step), 0, v});
      }
      ASSERT_TRUE(store_->Ingest(run, B("w", seq++).Floats("x", steps, values).batch).ok());
    }
  }
  std::uniform_real_distribution<double> where(-100, 41100);
  for (int trial = 0; trial < 30; ++trial) {
    uint32_t buckets = std::vector<uint32_t>{1, 3, 7, 64, 333, 1000, 4096}[trial % 7];
    double from = 0, to = 40999;
    if (trial >= 7) {
      from = where(rng);
      to = where(rng);
      if (from > to) std::swap(from, to);
    }
    SCOPED_TRACE("trial " + std::to_string(trial));
    ExpectBucketsOfRange(*store_, run, points, from, to, buckets, 1e-9);
  }
}

// StoreTest is instantiated for every backend once, in store_test.cc.

}  // namespace
}  // namespace nereid::store_conformance
