// Series chunk codec benchmark: encode/decode throughput in points per second, and stored bytes
// per point, for three data sets (definitions in docs/formats/series-chunk.md):
//   loss_f32    2.5*exp(-step/20000)+0.05 + N(0, 0.01), cast to float32 and back (loss.item())
//   loss_f64    the same without the float32 cast
//   uniform     uniform random doubles in [0, 1)
// All use steps 0,1,2,... and timestamps from 2026-01-01 every 20 ms with +-500 us uniform jitter.
// Series of kSeriesPoints points, stored as chunks of kTargetChunkPoints.
//
// Run: build-*/bench/series_codec_bench   (bytes_per_point is printed as a counter)
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "series/float_chunk.h"

namespace nereid::series {
namespace {

constexpr size_t kSeriesPoints = 1'000'000;
constexpr int64_t kStart2026Us = 1767225600000000;

enum class Data { kLossF32, kLossF64, kUniform };

std::vector<FloatPoint> Generate(Data kind) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0, 0.01);
  std::uniform_int_distribution<int64_t> jitter(-500, 500);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::vector<FloatPoint> p(kSeriesPoints);
  for (size_t i = 0; i < kSeriesPoints; ++i) {
    double step = static_cast<double>(i);
    double v = 2.5 * std::exp(-step / 20000) + 0.05 + noise(rng);
    if (kind == Data::kLossF32) v = static_cast<double>(static_cast<float>(v));
    if (kind == Data::kUniform) v = uniform(rng);
    p[i] = {step, kStart2026Us + static_cast<int64_t>(i) * 20000 + jitter(rng), v};
  }
  return p;
}

struct Encoded {
  std::vector<FloatPoint> points;
  std::vector<std::string> chunks;
  size_t bytes = 0;
};

const Encoded& Get(Data kind) {
  static Encoded cache[3];
  Encoded& e = cache[static_cast<int>(kind)];
  if (e.chunks.empty()) {
    e.points = Generate(kind);
    for (size_t at = 0; at < e.points.size(); at += kTargetChunkPoints) {
      size_t n = std::min(kTargetChunkPoints, e.points.size() - at);
      e.chunks.push_back(EncodeFloatChunk(std::span(e.points).subspan(at, n)));
      e.bytes += e.chunks.back().size();
    }
  }
  return e;
}

void BytesPerPoint(benchmark::State& state, const Encoded& e) {
  state.counters["bytes_per_point"] =
      static_cast<double>(e.bytes) / static_cast<double>(e.points.size());
}

void BM_Encode(benchmark::State& state, Data kind) {
  const Encoded& e = Get(kind);
  std::span<const FloatPoint> all(e.points);
  for (auto _ : state) {
    for (size_t at = 0; at < all.size(); at += kTargetChunkPoints) {
      std::string blob =
          EncodeFloatChunk(all.subspan(at, std::min(kTargetChunkPoints, all.size() - at)));
      benchmark::DoNotOptimize(blob);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * all.size()));
  BytesPerPoint(state, e);
}

void BM_Decode(benchmark::State& state, Data kind) {
  const Encoded& e = Get(kind);
  for (auto _ : state) {
    for (const std::string& c : e.chunks) {
      auto points = DecodeFloatChunk(c);
      if (!points.ok()) state.SkipWithError("decode failed");
      benchmark::DoNotOptimize(points);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * e.points.size()));
  BytesPerPoint(state, e);
}

void BM_Summarize(benchmark::State& state) {
  const Encoded& e = Get(Data::kLossF32);
  for (auto _ : state) benchmark::DoNotOptimize(Summarize(e.points));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * e.points.size()));
}

BENCHMARK_CAPTURE(BM_Encode, loss_f32, Data::kLossF32)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, loss_f64, Data::kLossF64)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, uniform, Data::kUniform)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, loss_f32, Data::kLossF32)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, loss_f64, Data::kLossF64)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, uniform, Data::kUniform)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Summarize)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nereid::series

BENCHMARK_MAIN();
