// Fuzzes the series chunk decoders over arbitrary blobs (a corrupt database page, a bad backup):
// DecodeFloatChunk, DecodeFloatChunkStepsValues, FloatChunkCount, DecodeStringChunk and the
// partial FloatChunkReader must return DataLoss, never crash or over-allocate. A float chunk that
// decodes must re-encode to a blob that decodes to the same points, bit for bit.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "series/buckets.h"
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
  // The partial decoder a chart read uses. It validates less than a full decode (it skips the
  // timestamp and value columns' zstd frames until asked) and more (block index entries), so
  // neither may be required to succeed when the other does; where both do, and the index's first
  // and last values agree with the column (a range at a block start restarts from them), every
  // range it decodes must equal the full decode's values.
  FloatChunkReader reader;
  bool opened = reader.Open(blob).ok();
  auto points = DecodeFloatChunk(blob);
  if (opened) {
    uint32_t n = reader.count();
    uint32_t begin = n ? static_cast<uint32_t>(size % (n + 1)) : 0;
    uint32_t end = begin + (n - begin) / 2;
    bool got = reader.Values(begin, end, &values).ok();
    bool index_agrees = true;
    for (const FloatBlock& b : reader.blocks()) {
      if (!points.ok() || b.end > points->size()) break;
      index_agrees = index_agrees && SameBits(b.first, (*points)[b.begin].value) &&
                     SameBits(b.last, (*points)[b.end - 1].value);
    }
    if (points.ok() && index_agrees) {
      if (!got || values.size() != end - begin) std::abort();
      for (uint32_t i = begin; i < end; ++i) {
        if (!SameBits(values[i - begin], (*points)[i].value)) std::abort();
      }
    }
    nereid::series::BucketBuilder buckets(0, 1e6, 100);
    std::vector<nereid::series::BucketBuilder::Part> parts;
    nereid::series::BucketBuilder::Scratch scratch;
    (void)buckets.SplitChunkIntoParts(reader, &scratch, &parts);
  }
  // A 14-byte chunk can validly hold 2^20 points (consecutive steps, one repeated value); the
  // round trip of that many took 0.7 s under ASan and timed out a starved fuzzer. Chunks the
  // server writes hold 4,096 points; the round trip is checked up to 16 times that.
  if (!points.ok() || points->size() > 65'536) return 0;
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
