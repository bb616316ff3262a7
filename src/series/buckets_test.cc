#include "series/buckets.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

namespace nereid::series {
namespace {

bool SameDouble(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

void ExpectSameBuckets(const std::vector<Bucket>& a, const std::vector<Bucket>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].step_from, b[i].step_from);
    EXPECT_EQ(a[i].count, b[i].count);
    EXPECT_EQ(a[i].nan_count, b[i].nan_count);
    EXPECT_TRUE(SameDouble(a[i].min, b[i].min)) << i;
    EXPECT_TRUE(SameDouble(a[i].max, b[i].max)) << i;
    EXPECT_TRUE(SameDouble(a[i].first, b[i].first)) << i;
    EXPECT_TRUE(SameDouble(a[i].last, b[i].last)) << i;
    EXPECT_EQ(a[i].first_step, b[i].first_step);
    EXPECT_EQ(a[i].last_step, b[i].last_step);
    if (std::isnan(a[i].mean)) {
      EXPECT_TRUE(std::isnan(b[i].mean)) << i;
    } else {
      EXPECT_NEAR(a[i].mean, b[i].mean, 1e-9 * std::fabs(a[i].mean)) << i;
    }
  }
}

TEST(Buckets, IndexOfEdges) {
  BucketBuilder b(0, 100, 10);
  EXPECT_EQ(b.IndexOf(-0.001), -1);
  EXPECT_EQ(b.IndexOf(100.001), -1);
  EXPECT_EQ(b.IndexOf(std::nan("")), -1);
  EXPECT_EQ(b.IndexOf(0), 0);
  EXPECT_EQ(b.IndexOf(9.999), 0);
  EXPECT_EQ(b.IndexOf(10), 1);
  EXPECT_EQ(b.IndexOf(99.9), 9);
  EXPECT_EQ(b.IndexOf(100), 9);  // the last bucket includes step_to
  BucketBuilder one(5, 5, 7);
  EXPECT_EQ(one.IndexOf(5), 0);
  EXPECT_EQ(one.IndexOf(5.5), -1);
  one.AddPoint({5, 0, 1});
  one.AddPoint({5, 0, 2});
  auto out = one.Finish();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].count, 2u);
  EXPECT_EQ(out[0].first, 1);
  EXPECT_EQ(out[0].last, 2);
}

TEST(Buckets, FitsOneBucket) {
  BucketBuilder b(0, 100, 10);
  ChunkSummary s;
  s.count = 3;
  s.step_min = 10;
  s.step_max = 19.5;
  EXPECT_TRUE(b.FitsOneBucket(s));
  s.step_max = 20;
  EXPECT_FALSE(b.FitsOneBucket(s));
  s.step_min = -5;
  s.step_max = 5;
  EXPECT_FALSE(b.FitsOneBucket(s));
}

// Feeding chunks through summaries where they fit and points where they straddle must give the
// same buckets as feeding every point.
TEST(Buckets, SummariesAgreeWithPoints) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 1);
  std::vector<std::vector<FloatPoint>> chunks;
  double step = 0;
  for (int c = 0; c < 60; ++c) {
    std::vector<FloatPoint> chunk;
    size_t n = 1 + rng() % 50;
    for (size_t i = 0; i < n; ++i) {
      if (rng() % 4) step += 1;  // some equal steps
      double v = rng() % 17 == 0 ? std::nan("") : noise(rng);
      chunk.push_back({step, static_cast<int64_t>(step), v});
    }
    chunks.push_back(chunk);
  }
  for (uint32_t n : {1u, 7u, 40u, 1000u}) {
    BucketBuilder by_points(0, step, n), mixed(0, step, n);
    int summarized = 0;
    for (const auto& chunk : chunks) {
      by_points.AddPoints(chunk);
      ChunkSummary s = Summarize(chunk);
      if (mixed.FitsOneBucket(s)) {
        mixed.AddSummary(s);
        ++summarized;
      } else {
        mixed.AddPoints(chunk);
      }
    }
    EXPECT_GT(summarized, 0);
    ExpectSameBuckets(by_points.Finish(), mixed.Finish());
  }
}

TEST(Buckets, SpikeSurvivesInMinMax) {
  BucketBuilder b(0, 9999, 10);
  for (int i = 0; i < 10000; ++i)
    b.AddPoint({double(i), 0, i == 4321 ? 1e9 : (i == 77 ? -1e9 : 1.0)});
  auto out = b.Finish();
  ASSERT_EQ(out.size(), 10u);
  EXPECT_EQ(out[4].max, 1e9);
  EXPECT_EQ(out[0].min, -1e9);
  EXPECT_EQ(out[5].max, 1.0);
  EXPECT_EQ(out[9].count, 1000u);
}

TEST(Buckets, TiesResolveByArrival) {
  BucketBuilder b(0, 10, 1);
  ChunkSummary s1;
  s1.count = 2;
  s1.step_min = 3;
  s1.step_max = 8;
  s1.first = 1;
  s1.last = 2;
  s1.min = 1;
  s1.max = 2;
  s1.sum = 3;
  ChunkSummary s2 = s1;  // same steps, arrives later
  s2.first = 10;
  s2.last = 20;
  b.AddSummary(s1);
  b.AddSummary(s2);
  b.AddPoint({3, 0, 100});  // later still, equal lowest step: must not become first
  b.AddPoint({8, 0, 200});  // equal highest step: becomes last
  auto out = b.Finish();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, 1);
  EXPECT_EQ(out[0].last, 200);
  EXPECT_EQ(out[0].count, 6u);
  EXPECT_EQ(out[0].max, 200);
  EXPECT_DOUBLE_EQ(out[0].mean, (3 + 3 + 100 + 200) / 6.0);
}

TEST(Buckets, NaNHandling) {
  BucketBuilder b(0, 10, 2);
  double nan = std::nan("");
  b.AddPoint({1, 0, nan});
  b.AddPoint({2, 0, 4});
  b.AddPoint({3, 0, nan});
  b.AddPoint({4, 0, -2});
  b.AddPoint({6, 0, nan});  // second bucket: only NaN
  auto out = b.Finish();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].count, 4u);
  EXPECT_EQ(out[0].nan_count, 2u);
  EXPECT_EQ(out[0].min, -2);
  EXPECT_EQ(out[0].max, 4);
  EXPECT_EQ(out[0].mean, 1);
  EXPECT_TRUE(std::isnan(out[0].first));
  EXPECT_EQ(out[0].last, -2);
  EXPECT_EQ(out[1].count, 1u);
  EXPECT_TRUE(std::isnan(out[1].mean));
  EXPECT_TRUE(std::isnan(out[1].min));
  EXPECT_EQ(out[1].step_from, 5);
  EXPECT_EQ(out[1].step_to, 10);
}

TEST(Buckets, OutOfRangeIgnoredAndEmptyBucketsSkipped) {
  BucketBuilder b(10, 20, 5);
  b.AddPoint({9, 0, 1});
  b.AddPoint({21, 0, 1});
  b.AddPoint({20, 0, 7});
  auto out = b.Finish();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].step_from, 18);
  EXPECT_EQ(out[0].step_to, 20);
  EXPECT_EQ(out[0].first, 7);
}

// SplitIntoParts + AddParts must agree with AddPoint bit for bit on min/max/first/last (signed
// zeros, NaN steps and values included), for sorted chunks (binary-searched runs) and
// unsorted ones (point by point), whatever came before in the builder.
TEST(Buckets, PartsAgreeWithPoints) {
  std::mt19937 rng(5);
  const double kSpecial[] = {0.0, -0.0, 1.5, -1.5, std::nan(""), 2.5, -7.0};
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<FloatPoint> pts(1 + rng() % 300);
    for (auto& p : pts) {
      p.step = static_cast<double>(rng() % 120) - 10 + (rng() % 4 == 0 ? 0.5 : 0);
      if (rng() % 50 == 0) p.step = std::nan("");
      p.value = kSpecial[rng() % 7];
    }
    if (trial % 3 != 0) SortByStep(pts);
    double from = static_cast<double>(rng() % 20), to = from + static_cast<double>(rng() % 100);
    uint32_t n = 1 + rng() % 40;
    BucketBuilder by_point(from, to, n), by_part(from, to, n);
    FloatPoint before{from + 1, 0, -0.0};  // something already in a bucket
    by_point.AddPoint(before);
    by_part.AddPoint(before);
    by_point.AddPoints(pts);
    std::vector<double> steps, values;
    for (auto& p : pts) steps.push_back(p.step), values.push_back(p.value);
    std::vector<BucketBuilder::Part> parts;
    by_part.SplitIntoParts(steps, values, &parts);
    by_part.AddParts(parts);
    ExpectSameBuckets(by_point.Finish(), by_part.Finish());
  }
}

}  // namespace
}  // namespace nereid::series

namespace nereid::series {
namespace {

// Block summaries must give the same buckets as folding every point: chunks of several blocks
// with runs of equal steps, NaN values, all-NaN blocks, and ranges that cut through blocks,
// cover a few blocks, or hold many buckets per block.
TEST(Buckets, ChunkBlocksAgreeWithPoints) {
  std::mt19937 rng(9);
  for (int trial = 0; trial < 60; ++trial) {
    std::vector<FloatPoint> pts(1 + rng() % 3000);
    double step = static_cast<double>(rng() % 100);
    bool all_nan_run = trial % 4 == 0;
    for (size_t i = 0; i < pts.size(); ++i) {
      step += rng() % 5 == 0 ? 0 : 1 + (rng() % 3 == 0 ? 0.25 : 0);  // ties and fractions
      pts[i].step = step;
      double v = std::sin(static_cast<double>(i) / 40) + static_cast<double>(rng() % 100) / 1e3;
      if (rng() % 30 == 0) v = std::nan("");
      if (all_nan_run && i >= 512 && i < 1100) v = std::nan("");
      pts[i].value = v;
    }
    if (trial % 10 == 0) pts.back().step = std::nan("");  // a NaN step sorts last
    SortByStep(pts);
    std::string blob = EncodeFloatChunk(pts);
    FloatChunkReader chunk;
    ASSERT_TRUE(chunk.Open(blob).ok());
    ASSERT_EQ(chunk.blocks().size(), (pts.size() + 511) / 512);
    double lo = pts.front().step, hi = std::isnan(pts.back().step) ? step : pts.back().step;
    double from = lo + (hi - lo) * (rng() % 3 == 0 ? 0 : static_cast<double>(rng() % 50) / 100);
    double to = from + (hi - from) * static_cast<double>(1 + rng() % 100) / 100;
    uint32_t n = 1 + rng() % (trial % 2 ? 8 : 400);
    BucketBuilder by_point(from, to, n), by_chunk(from, to, n);
    by_point.AddPoints(pts);
    BucketBuilder::Scratch scratch;
    std::vector<BucketBuilder::Part> parts;
    ASSERT_TRUE(by_chunk.SplitChunkIntoParts(chunk, &scratch, &parts).ok());
    by_chunk.AddParts(parts);
    ExpectSameBuckets(by_point.Finish(), by_chunk.Finish());
  }
}

}  // namespace
}  // namespace nereid::series

