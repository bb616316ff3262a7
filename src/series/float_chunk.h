// Float series chunk codec: a few thousand (step, timestamp, value) points in one compressed blob.
// Spec: docs/formats/series-chunk.md. Hand-written (not a library) because the codec is the core of
// the product's storage cost: delta-of-delta steps/timestamps and XOR values (Gorilla, VLDB 2015)
// compress training curves far better than a general-purpose compressor alone.
//
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nereid/status.h"

namespace nereid::series {

// Points per chunk the store aims for: big enough to compress well, small enough that a chunk
// straddling a bucket boundary is cheap to decode.
inline constexpr size_t kTargetChunkPoints = 4096;

struct FloatPoint {
  double step = 0;
  int64_t timestamp_us = 0;
  double value = 0;
};

struct StringPoint {
  double step = 0;
  int64_t timestamp_us = 0;
  std::string value;
};

// Summary stored beside each chunk so that reads can answer without decoding it.
// min/max/sum ignore NaN (a NaN point counts in `count` but not in min/max/sum/finite_count);
// first/last are the values at the lowest/highest step (ties: first/last to arrive), NaN included.
struct ChunkSummary {
  uint32_t count = 0;
  uint32_t nan_count = 0;  // points whose value is NaN
  double step_min = 0;
  double step_max = 0;
  int64_t timestamp_min = 0;
  int64_t timestamp_max = 0;
  double min = 0;  // meaningless when count == nan_count
  double max = 0;
  double sum = 0;
  double first = 0;
  double last = 0;
};

// Orders points by step, keeping arrival order among equal steps (a stable sort). A chunk's points
// must be in this order before encoding.
// Already-ordered input (the usual append) costs one pass and no allocation.
void SortByStep(std::span<FloatPoint> points);
void SortByStep(std::span<StringPoint> points);

ChunkSummary Summarize(std::span<const FloatPoint> points);

// Encodes points (ordered by step as SortByStep leaves them) into a self-describing blob.
// Every double (step and value) round-trips bit-exact: NaN payloads, +-Inf and -0.0 included.
std::string EncodeFloatChunk(std::span<const FloatPoint> points);
// Decodes a blob from EncodeFloatChunk; DataLoss on a corrupt or truncated blob (never crashes,
// never reads out of bounds, never allocates more than the blob's declared point count allows).
Result<std::vector<FloatPoint>> DecodeFloatChunk(std::string_view blob);
// Decodes only the steps and values of a float chunk (timestamps are skipped, not decoded) into
// caller-owned buffers that are resized to the point count, so a reader can reuse them across
// chunks. Same validation as DecodeFloatChunk; on error the buffers hold unspecified values.
Status DecodeFloatChunkStepsValues(std::string_view blob, std::vector<double>* steps,
                                   std::vector<double>* values);
// Reads only the point count from a chunk header, without decoding.
Result<uint32_t> FloatChunkCount(std::string_view blob);

// One block of a float chunk's block index (format version 2): points [begin, end) and their
// summary as BucketBuilder folds a run of points: min, max and sum ignore NaN, sum adds left to
// right; when every value is NaN, min = max = first.
struct FloatBlock {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t nan_count = 0;
  double min = 0, max = 0, sum = 0, first = 0, last = 0;
};

// Partial decoding of one float chunk, for reads that need few of its values (a chart bucket edge
// inside a chunk): parses the header and block index, decodes the steps (or, when they are
// consecutive integers, only the first), and decodes the values of a point range on request. A
// range that starts at a block boundary restarts the value predictor from the block index's
// first and last values, so it costs no more than its own points. Version-1 chunks (no index)
// open too, with no blocks.
//
// Thread-safety: one thread at a time. Borrows the blob, which must outlive the reader.
class FloatChunkReader {
 public:
  // DataLoss on a corrupt or truncated blob, as DecodeFloatChunk.
  Status Open(std::string_view blob);
  uint32_t count() const { return count_; }
  // Step of point i < count().
  double step(uint32_t i) const {
    return consecutive_ ? static_cast<double>(first_step_ + int64_t{i}) : steps_[i];
  }
  // Steps of points [begin, end) (begin <= end <= count()): a view of the decoded steps, or of
  // *scratch filled with them when the steps are consecutive and were not materialized.
  std::span<const double> Steps(uint32_t begin, uint32_t end, std::vector<double>* scratch) const;
  std::span<const FloatBlock> blocks() const { return blocks_; }
  // True when step i is the first step + i (the usual log): step() computes them.
  bool steps_consecutive() const { return consecutive_; }
  // True when steps are in SortByStep order (NaN last), as the store writes every chunk.
  bool steps_sorted() const { return steps_sorted_; }
  // Values of points [begin, end) into *values (resized to end - begin). A chunk whose index
  // disagrees with its value column (corruption) may decode differently from DecodeFloatChunk.
  Status Values(uint32_t begin, uint32_t end, std::vector<double>* values) const;

 private:
  uint32_t count_ = 0;
  uint32_t block_points_ = 0;  // 0 without an index
  bool consecutive_ = false;   // steps are first_step_ + i; steps_ is left empty
  int64_t first_step_ = 0;
  std::vector<double> steps_;
  std::vector<FloatBlock> blocks_;
  bool steps_sorted_ = false;
  std::string_view value_column_;
  std::string index_;  // the inflated block index
};

// String series chunks (also used for file series, whose values are serialized file references).
std::string EncodeStringChunk(std::span<const StringPoint> points);
Result<std::vector<StringPoint>> DecodeStringChunk(std::string_view blob);

}  // namespace nereid::series
