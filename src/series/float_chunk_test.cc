#include "series/float_chunk.h"

#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>

#include "series/chunk_format.h"
#include "series/column_codec.h"

namespace nereid::series {
namespace {

uint64_t Bits(double d) {
  return std::bit_cast<uint64_t>(d);
}
double FromBits(uint64_t b) {
  return std::bit_cast<double>(b);
}

void ExpectBitExact(const std::vector<FloatPoint>& want, const std::vector<FloatPoint>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(Bits(want[i].step), Bits(got[i].step)) << "step at " << i;
    ASSERT_EQ(want[i].timestamp_us, got[i].timestamp_us) << "timestamp at " << i;
    ASSERT_EQ(Bits(want[i].value), Bits(got[i].value)) << "value at " << i;
  }
}

std::string RoundTrip(const std::vector<FloatPoint>& points) {
  std::string blob = EncodeFloatChunk(points);
  auto decoded = DecodeFloatChunk(blob);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  if (decoded.ok()) ExpectBitExact(points, *decoded);
  auto count = FloatChunkCount(blob);
  EXPECT_TRUE(count.ok());
  if (count.ok()) {
    EXPECT_EQ(*count, points.size());
  }
  return blob;
}

std::vector<FloatPoint> Consecutive(const std::vector<double>& values, double start = 0) {
  std::vector<FloatPoint> p;
  int64_t t = 1767225600000000;  // 2026-01-01T00:00:00Z
  for (size_t i = 0; i < values.size(); ++i) {
    p.push_back({start + static_cast<double>(i), t + static_cast<int64_t>(i) * 20000, values[i]});
  }
  return p;
}

TEST(FloatChunk, EmptyAndSinglePoint) {
  std::string empty = RoundTrip({});
  EXPECT_LT(empty.size(), 32u);
  RoundTrip({{7, -5, 1.5}});
  RoundTrip({{-0.0, std::numeric_limits<int64_t>::min(), -0.0}});
  RoundTrip({{0.5, std::numeric_limits<int64_t>::max(), std::nan("")}});
}

TEST(FloatChunk, RandomDoublesAndRandomBitPatterns) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) values.push_back(u(rng));
  RoundTrip(Consecutive(values));
  std::vector<FloatPoint> p;
  for (int i = 0; i < 5000; ++i) {
    p.push_back({FromBits(rng()), static_cast<int64_t>(rng()), FromBits(rng())});
  }
  SortByStep(p);
  RoundTrip(p);
}

TEST(FloatChunk, AdversarialValuesRoundTripBitExact) {
  std::vector<double> v = {
      std::numeric_limits<double>::quiet_NaN(),
      -std::numeric_limits<double>::quiet_NaN(),
      FromBits(0x7FF0000000000001),  // signalling NaN, smallest payload
      FromBits(0x7FF4000000000000),  // signalling NaN
      FromBits(0xFFF8DEADBEEF0001),  // negative quiet NaN with payload
      FromBits(0x7FFFFFFFFFFFFFFF),
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      0.0,
      -0.0,
      DBL_MIN,
      -DBL_MIN,
      DBL_TRUE_MIN,
      -DBL_TRUE_MIN,
      FromBits(0x000FFFFFFFFFFFFF),  // largest denormal
      DBL_MAX,
      -DBL_MAX,
      1.0,
      static_cast<double>(static_cast<float>(0.1)),
  };
  // Alternating extremes.
  for (int i = 0; i < 100; ++i) v.push_back(i % 2 ? DBL_MAX : -DBL_MAX);
  for (int i = 0; i < 100; ++i) v.push_back(i % 2 ? -0.0 : FromBits(0xFFFFFFFFFFFFFFFF));
  RoundTrip(Consecutive(v));
}

TEST(FloatChunk, Float32CastValuesCompressWell) {
  std::mt19937_64 rng(2);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<double> v;
  for (size_t i = 0; i < kTargetChunkPoints; ++i) {
    double loss = 2.5 * std::exp(-static_cast<double>(i) / 20000) + 0.05 + noise(rng);
    v.push_back(static_cast<double>(static_cast<float>(loss)));
  }
  std::string blob = RoundTrip(Consecutive(v));
  // 24 raw bytes per point; the values carry ~19 bits of noise each, steps and times ~0.
  EXPECT_LT(blob.size(), kTargetChunkPoints * 3);
}

TEST(FloatChunk, ConstantSeriesIsTiny) {
  std::vector<double> v(kTargetChunkPoints, 0.001);
  std::string blob = RoundTrip(Consecutive(v, 100));
  EXPECT_LT(blob.size(), 100u);
}

TEST(FloatChunk, MillionPoints) {
  std::mt19937_64 rng(3);
  std::vector<FloatPoint> p;
  for (int i = 0; i < 1'000'000; ++i) {
    p.push_back({static_cast<double>(i * 3),
                 1000 + int64_t{i} * 7 + static_cast<int64_t>(rng() % 5),
                 static_cast<double>(static_cast<float>(std::sin(i * 0.001)))});
  }
  RoundTrip(p);
}

TEST(FloatChunk, StepShapes) {
  std::vector<FloatPoint> dec, eq, frac, gaps, huge;
  for (int i = 0; i < 300; ++i) {
    dec.push_back({300.0 - i, i, 1.0 * i});  // decreasing: not sorted, must still round-trip
    eq.push_back({5, i, 2.0 * i});
    frac.push_back({i * 0.1, i, 3.0});
    gaps.push_back({i * 10.0 + (i % 7), i, 4.0});
    huge.push_back({9007199254740991.0 - 300 + i, i, 5.0});  // consecutive up to 2^53-1
  }
  for (auto* p : {&dec, &eq, &frac, &gaps, &huge}) RoundTrip(*p);
  RoundTrip({{9007199254740992.0, 0, 1}, {9007199254740992.0, 1, 1}});  // 2^53: not consecutive
  RoundTrip({{-1e300, 0, 1}, {1e300, 1, 1}, {std::numeric_limits<double>::infinity(), 2, 1}});
}

TEST(FloatChunk, HugeTimestampJumps) {
  std::vector<FloatPoint> p;
  int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  std::vector<int64_t> ts = {0, hi, lo, hi, 0, lo, lo + 1, hi - 1, 1767225600000000, -1};
  for (size_t i = 0; i < ts.size(); ++i) p.push_back({static_cast<double>(i), ts[i], 1.0});
  RoundTrip(p);
}

TEST(FloatChunk, SortByStepIsStable) {
  std::vector<FloatPoint> p = {{3, 0, 1}, {1, 0, 2}, {3, 0, 3}, {1, 0, 4}, {2, 0, 5}};
  SortByStep(p);
  std::vector<double> got;
  for (auto& x : p) got.push_back(x.value);
  EXPECT_EQ(got, (std::vector<double>{2, 4, 5, 1, 3}));
}

TEST(FloatChunk, Summarize) {
  double nan = std::nan("");
  std::vector<FloatPoint> p = {{1, 50, nan}, {1, 40, 7}, {2, 60, -3}, {4, 10, 9}, {4, 20, 2}};
  ChunkSummary s = Summarize(p);
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.nan_count, 1u);
  EXPECT_EQ(s.step_min, 1);
  EXPECT_EQ(s.step_max, 4);
  EXPECT_EQ(s.timestamp_min, 10);
  EXPECT_EQ(s.timestamp_max, 60);
  EXPECT_EQ(s.min, -3);
  EXPECT_EQ(s.max, 9);
  EXPECT_EQ(s.sum, 15);
  EXPECT_TRUE(std::isnan(s.first));  // first arrival at the lowest step, NaN included
  EXPECT_EQ(s.last, 2);              // last arrival at the highest step
  EXPECT_EQ(Summarize({}).count, 0u);
}

TEST(FloatChunk, RejectsWrongKindAndHeaderGarbage) {
  std::string s = EncodeStringChunk(std::vector<StringPoint>{{1, 2, "x"}});
  EXPECT_EQ(DecodeFloatChunk(s).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(FloatChunkCount(s).status().code(), StatusCode::kDataLoss);
  std::string f = EncodeFloatChunk(std::vector<FloatPoint>{{1, 2, 3}});
  EXPECT_EQ(DecodeStringChunk(f).status().code(), StatusCode::kDataLoss);
  // A count above the maximum is refused before anything is allocated.
  std::string big = {char(format::kMagic),
                     char(format::kVersion),
                     char(format::kKindFloat),
                     0,
                     char(0xFF),
                     char(0xFF),
                     char(0xFF),
                     char(0x7F)};
  EXPECT_EQ(DecodeFloatChunk(big).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeFloatChunk("").status().code(), StatusCode::kDataLoss);
}

// Truncation at every length and random byte flips yield DataLoss or some decode, never a
// crash or an out-of-bounds read (the sanitizer build checks the latter).
void Torture(const std::string& blob, bool is_float) {
  auto decode = [is_float](std::string_view b) {
    return is_float ? DecodeFloatChunk(b).status() : DecodeStringChunk(b).status();
  };
  for (size_t len = 0; len < blob.size(); ++len) {
    std::string cut = blob.substr(0, len);  // own allocation so ASan sees over-reads
    Status st = decode(cut);
    EXPECT_FALSE(st.ok()) << "truncated to " << len;
    EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  }
  std::mt19937_64 rng(4);
  for (int i = 0; i < 3000; ++i) {
    std::string b = blob;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] ^= static_cast<char>(1 + rng() % 255);
    Status st = decode(b);
    if (!st.ok()) {
      EXPECT_EQ(st.code(), StatusCode::kDataLoss);
    }
  }
}

TEST(FloatChunk, CorruptInputNeverCrashes) {
  std::mt19937_64 rng(5);
  std::vector<FloatPoint> p;
  for (int i = 0; i < 64; ++i) {
    p.push_back({i * 1.5, 1000 + i * 20000 + static_cast<int64_t>(rng() % 100), std::sin(i * 0.1)});
  }
  Torture(EncodeFloatChunk(p), true);  // raw body (too small to compress)
  std::vector<double> v;
  for (int i = 0; i < 3000; ++i) v.push_back(static_cast<double>(static_cast<float>(i % 13) / 8));
  std::string blob = EncodeFloatChunk(Consecutive(v));
  EXPECT_LT(blob.size(), 3000u);  // so some planes are zstd frames
  Torture(blob, true);
}

TEST(FloatChunk, RandomBodiesBehindAValidHeader) {
  std::mt19937_64 rng(6);
  for (int i = 0; i < 20000; ++i) {
    std::string b = {char(format::kMagic), char(format::kVersion),
                     char(i % 2 ? format::kKindFloat : format::kKindString), 0,
                     static_cast<char>(rng() % 100)};
    size_t len = rng() % 200;
    // Mostly small bytes, so that modes, orders, widths and tags are often valid.
    for (size_t j = 0; j < len; ++j) b.push_back(static_cast<char>(rng() % 4 ? rng() % 4 : rng()));
    Status st = i % 2 ? DecodeFloatChunk(b).status() : DecodeStringChunk(b).status();
    if (!st.ok()) {
      EXPECT_EQ(st.code(), StatusCode::kDataLoss);
    }
  }
}

TEST(StringChunk, RoundTripAndCorruption) {
  std::vector<StringPoint> p;
  for (int i = 0; i < 200; ++i) {
    p.push_back(
        {static_cast<double>(i), int64_t{i} * 1000,
         i % 3 == 0 ? std::string() : "epoch " + std::to_string(i) + std::string(i % 17, '\0')});
  }
  p.push_back({0.5, 0, std::string(100000, 'z')});
  SortByStep(p);
  std::string blob = EncodeStringChunk(p);
  auto got = DecodeStringChunk(blob);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_EQ(Bits((*got)[i].step), Bits(p[i].step));
    EXPECT_EQ((*got)[i].timestamp_us, p[i].timestamp_us);
    EXPECT_EQ((*got)[i].value, p[i].value);
  }
  EXPECT_TRUE(DecodeStringChunk(EncodeStringChunk({})).ok());
  p.resize(20);
  Torture(EncodeStringChunk(p), false);
}

// A version-1 blob of the same points: the version-2 one without its block index.
std::string WithoutIndex(const std::string& v2, size_t count) {
  internal::ByteReader r(v2);
  uint8_t byte = 0;
  uint64_t n = 0, block = 0;
  for (int i = 0; i < 4; ++i) r.ReadByte(&byte);
  r.ReadVarint(&n);
  size_t header = v2.size() - r.remaining();
  r.ReadVarint(&block);
  const uint8_t* skipped = nullptr;
  uint64_t frame = 0;
  r.ReadByte(&byte);
  if (byte == 0) {
    r.ReadBytes((count + block - 1) / block * format::kBlockEntryBytes, &skipped);
  } else {
    r.ReadVarint(&frame);
    r.ReadBytes(frame, &skipped);
  }
  std::string v1 = v2.substr(0, header) + v2.substr(v2.size() - r.remaining());
  v1[1] = static_cast<char>(format::kVersion);
  return v1;
}

TEST(FloatChunkReader, RangesDecodeLikeTheWholeChunk) {
  std::mt19937_64 rng(21);
  std::normal_distribution<double> noise(0, 0.01);
  for (int shape = 0; shape < 6; ++shape) {
    std::vector<FloatPoint> pts(shape == 5 ? 2 : 3000 + rng() % 1200);
    for (size_t i = 0; i < pts.size(); ++i) {
      double x = static_cast<double>(i);
      double v = shape == 0   ? FromBits(rng())                          // order 0
                 : shape == 1 ? static_cast<double>(static_cast<float>(  // order 1
                                    2.5 * std::exp(-x / 2000) + 0.05 + noise(rng)))
                 : shape == 2 ? 1000 + 3 * x  // order 2
                 : shape == 3 ? (i % 7 == 0 ? std::nan("") : -x / 8)
                              : 0.5 * x;
      double step = shape == 4 ? x * 0.1 : shape == 3 ? x * 3 : x + 100;  // all step modes
      pts[i] = {step, static_cast<int64_t>(i) * 1000, v};
    }
    std::string blob = EncodeFloatChunk(pts);
    for (const std::string& b : {blob, WithoutIndex(blob, pts.size())}) {
      auto whole = DecodeFloatChunk(b);
      ASSERT_TRUE(whole.ok()) << whole.status().ToString();
      ExpectBitExact(pts, *whole);
      FloatChunkReader chunk;
      ASSERT_TRUE(chunk.Open(b).ok());
      ASSERT_EQ(chunk.count(), pts.size());
      std::vector<double> scratch;
      std::span<const double> steps = chunk.Steps(0, chunk.count(), &scratch);
      ASSERT_EQ(steps.size(), pts.size());
      for (size_t i = 0; i < pts.size(); ++i) {
        ASSERT_EQ(Bits(chunk.step(static_cast<uint32_t>(i))), Bits(pts[i].step));
        ASSERT_EQ(Bits(steps[i]), Bits(pts[i].step));
      }
      std::vector<double> values;
      for (int trial = 0; trial < 40; ++trial) {
        uint32_t begin = static_cast<uint32_t>(rng() % (pts.size() + 1));
        uint32_t end = begin + static_cast<uint32_t>(rng() % (pts.size() - begin + 1));
        if (trial == 0) begin = 0, end = static_cast<uint32_t>(pts.size());
        ASSERT_TRUE(chunk.Values(begin, end, &values).ok());
        ASSERT_EQ(values.size(), end - begin);
        for (uint32_t i = begin; i < end; ++i) {
          ASSERT_EQ(Bits(values[i - begin]), Bits(pts[i].value)) << shape << " at " << i;
        }
      }
      EXPECT_FALSE(chunk.Values(1, 0, &values).ok());
      EXPECT_FALSE(chunk.Values(0, static_cast<uint32_t>(pts.size()) + 1, &values).ok());
      if (b != blob) {
        EXPECT_TRUE(chunk.blocks().empty());
        continue;
      }
      // The index holds each block's fold: counts, NaN counts, first and last exactly.
      ASSERT_EQ(chunk.blocks().size(), (pts.size() + 511) / 512);
      for (const FloatBlock& fb : chunk.blocks()) {
        ASSERT_EQ(fb.end - fb.begin, std::min<size_t>(512, pts.size() - fb.begin));
        uint32_t nans = 0;
        double lo = INFINITY, hi = -INFINITY;
        for (uint32_t i = fb.begin; i < fb.end; ++i) {
          double v = pts[i].value;
          if (std::isnan(v)) {
            ++nans;
            continue;
          }
          lo = std::min(lo, v), hi = std::max(hi, v);
        }
        EXPECT_EQ(fb.nan_count, nans);
        EXPECT_EQ(Bits(fb.first), Bits(pts[fb.begin].value));
        EXPECT_EQ(Bits(fb.last), Bits(pts[fb.end - 1].value));
        if (nans < fb.end - fb.begin) {
          EXPECT_EQ(fb.min, lo);
          EXPECT_EQ(fb.max, hi);
        }
      }
    }
  }
}

// A range starting at a block boundary restarts the value predictor from the index's first and
// last values instead of summing the residuals before it: the result must be the full decode's,
// bit for bit, for every block of every predictor order and of special values.
TEST(FloatChunkReader, BlockRangesFromTheIndexEqualTheFullDecode) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 0.01);
  const double kInf = std::numeric_limits<double>::infinity();
  const double kSpecials[] = {std::nan(""), -std::nan(""), FromBits(0x7FF0000000000001),
                              kInf,         -kInf,         -0.0,
                              0.0,          DBL_MIN / 4,   -DBL_MAX,
                              DBL_MAX,      1.0,           FromBits(0xFFF8DEADBEEF0001)};
  for (int shape = 0; shape < 10; ++shape) {
    for (size_t size : {size_t{1}, size_t{2}, size_t{511}, size_t{512}, size_t{513}, size_t{1025},
                        size_t{4096}, size_t{4097} + rng() % 2000}) {
      std::vector<double> values(size);
      for (size_t i = 0; i < size; ++i) {
        double x = static_cast<double>(i);
        switch (shape) {
          case 0:  // random bit patterns: order 0
            values[i] = FromBits(rng());
            break;
          case 1:  // a float32 loss curve: order 1
            values[i] = static_cast<float>(2.5 * std::exp(-x / 2000) + 0.05 + noise(rng));
            break;
          case 2:  // a line: order 2, and wrap-around of the mapped integers
            values[i] = -1e300 + 3e297 * x;
            break;
          case 3:  // flat: no residual bytes at all
            values[i] = 0.25;
            break;
          case 4:  // specials only
            values[i] = kSpecials[rng() % std::size(kSpecials)];
            break;
          case 5:  // a line with specials sprinkled in, at block edges too
            values[i] = (i % 512 < 2 || i % 512 > 509 || rng() % 50 == 0)
                            ? kSpecials[rng() % std::size(kSpecials)]
                            : 1000 + 0.5 * x;
            break;
          case 6:  // all NaN, with differing payloads
            values[i] = FromBits(0x7FF8000000000000 | (rng() & 0xFFFF));
            break;
          case 7:  // -0.0 and +0.0 alternating
            values[i] = i % 2 ? -0.0 : 0.0;
            break;
          case 8:  // a smooth curve across zero (order 2 with sign changes)
            values[i] = std::sin(x / 300);
            break;
          default:  // denormals stepping
            values[i] = FromBits(i * 3 + 1) * (i % 3 ? 1 : -1);
            break;
        }
      }
      std::vector<FloatPoint> pts = Consecutive(values, 10);
      std::string blob = EncodeFloatChunk(pts);
      auto whole = DecodeFloatChunk(blob);
      ASSERT_TRUE(whole.ok());
      FloatChunkReader chunk;
      ASSERT_TRUE(chunk.Open(blob).ok());
      ASSERT_EQ(chunk.blocks().size(), (size + 511) / 512);
      std::vector<double> got;
      auto expect_range = [&](uint32_t begin, uint32_t end) {
        ASSERT_TRUE(chunk.Values(begin, end, &got).ok());
        ASSERT_EQ(got.size(), end - begin);
        for (uint32_t i = begin; i < end; ++i) {
          ASSERT_EQ(Bits(got[i - begin]), Bits((*whole)[i].value))
              << "shape " << shape << ", " << size << " points, range [" << begin << ", " << end
              << ") at " << i;
        }
      };
      for (const FloatBlock& b : chunk.blocks()) {
        expect_range(b.begin, b.end);                        // one block
        expect_range(b.begin, static_cast<uint32_t>(size));  // to the end
        expect_range(b.begin, b.begin + 1);                  // its first point
        expect_range(b.begin, b.begin + 1 + static_cast<uint32_t>(rng() % (b.end - b.begin)));
        if (b.begin > 0) expect_range(b.begin - 1, b.end);  // not at a boundary
      }
    }
  }
}

TEST(FloatChunkReader, RejectsCorruptIndexAndTinyBlocks) {
  std::vector<FloatPoint> pts;
  for (int i = 0; i < 1000; ++i) pts.push_back({double(i), i, double(i % 10)});
  std::string blob = EncodeFloatChunk(pts);
  FloatChunkReader chunk;
  for (size_t len = 0; len < blob.size(); len += 7) {
    EXPECT_FALSE(chunk.Open(blob.substr(0, len)).ok()) << len;
  }
  // A block size below the minimum would let a hostile header inflate a huge index.
  std::string tiny = blob;
  ASSERT_EQ(static_cast<uint8_t>(tiny[6]), 0x80);  // varint 512 after the 2-byte count
  tiny[6] = 1, tiny[7] = 0;
  EXPECT_EQ(chunk.Open(tiny).code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeFloatChunk(tiny).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace nereid::series
