// Fuzzes the series chunk decoders over arbitrary blobs (a corrupt database page, a bad backup):
// DecodeFloatChunk, DecodeFloatChunkStepsValues, FloatChunkCount and DecodeStringChunk must return
// DataLoss, never crash or over-allocate. A float chunk that decodes must re-encode to a blob that
// decodes to the same points, bit for bit.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "series/float_chunk.h"

namespace {

bool SameBits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nereid::series;
  std::string_view blob(reinterpret_cast<const char*>(data), size);
  (void)FloatChunkCount(blob);
  std::vector<double> steps, values;
  (void)DecodeFloatChunkStepsValues(blob, &steps, &values);
  (void)DecodeStringChunk(blob);
  auto points = DecodeFloatChunk(blob);
  if (!points.ok()) return 0;
  auto again = DecodeFloatChunk(EncodeFloatChunk(*points));
  if (!again.ok() || again->size() != points->size()) std::abort();
  for (size_t i = 0; i < points->size(); ++i) {
    const auto& a = (*points)[i];
    const auto& b = (*again)[i];
    if (!SameBits(a.step, b.step) || !SameBits(a.value, b.value) ||
        a.timestamp_us != b.timestamp_us) {
      std::abort();
    }
  }
  return 0;
}
