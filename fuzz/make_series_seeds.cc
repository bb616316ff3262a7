// Writes the seed corpus of the series_chunk fuzzer: real float and string chunks (a training
// curve, awkward doubles, repeated and decreasing steps, empty and long strings). Run as
// `build/fuzz/make_series_seeds fuzz/corpus/series_chunk` after a chunk format change.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "series/float_chunk.h"

using nereid::series::FloatPoint;
using nereid::series::StringPoint;

namespace {

void Write(const std::string& dir, const std::string& name, const std::string& blob) {
  std::ofstream(dir + "/" + name, std::ios::binary) << blob;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<FloatPoint> curve;
  for (int i = 0; i < 300; ++i) {
    curve.push_back({double(i), 1'700'000'000'000'000 + i * 1000, 2.3 * std::exp(-i / 50.0)});
  }
  Write(dir, "float_curve", nereid::series::EncodeFloatChunk(curve));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<FloatPoint> odd = {{0, 0, nan},      {0, 5, -0.0},       {0.5, -7, inf},
                                 {1e300, 9, -inf}, {1e300, 9, 5e-324}, {2e300, 1, 1.0}};
  Write(dir, "float_awkward", nereid::series::EncodeFloatChunk(odd));
  Write(dir, "float_one", nereid::series::EncodeFloatChunk(std::vector<FloatPoint>{{7, 7, 7}}));
  Write(dir, "float_empty", nereid::series::EncodeFloatChunk(std::vector<FloatPoint>{}));
  std::vector<StringPoint> text;
  for (int i = 0; i < 50; ++i) text.push_back({double(i), i * 10, "epoch " + std::to_string(i)});
  text.push_back({50, 500, ""});
  text.push_back({51, 510, std::string(3000, 'x')});
  Write(dir, "string_log", nereid::series::EncodeStringChunk(text));
  return 0;
}
