// Downsampling a float series into N equal-width step buckets for charts. Each bucket keeps
// count, min, max, first, last and mean, so a chart can draw the line and a min-max band and never
// hide a spike. Whole chunks that fall inside one bucket are merged from their ChunkSummary;
// only chunks that straddle a bucket boundary are decoded.
//
// Thread-safety: a BucketBuilder is used by one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "series/float_chunk.h"

namespace nereid::series {

struct Bucket {
  double step_from = 0;  // bucket covers [step_from, step_to); the last bucket includes step_to
  double step_to = 0;
  uint64_t count = 0;  // points in the bucket, NaN included
  uint64_t nan_count = 0;
  double min = 0;  // over non-NaN values; meaningless when count == nan_count
  double max = 0;
  double first = 0;  // value at the lowest step in the bucket (ties: first to arrive)
  double last = 0;   // value at the highest step (ties: last to arrive)
  double first_step = 0;
  double last_step = 0;
  double mean = 0;  // sum / (count - nan_count)
};

class BucketBuilder {
 public:
  // Buckets of equal width over [step_from, step_to]; n >= 1, step_from <= step_to.
  BucketBuilder(double step_from, double step_to, uint32_t n);

  // The bucket index a step falls in, or -1 outside [step_from, step_to].
  int64_t IndexOf(double step) const;
  // True when every point of a chunk with this summary falls in one bucket, so AddSummary is exact.
  bool FitsOneBucket(const ChunkSummary& s) const;

  // Chunks (and points) must be added in arrival order, so that ties on step resolve first/last
  // by arrival.
  void AddSummary(const ChunkSummary& s);
  void AddPoint(const FloatPoint& p);
  void AddPoints(std::span<const FloatPoint> points);

  // One chunk's contribution to one bucket.
  struct Part;
  // Splits a decoded chunk (steps[i], values[i]; same length) into per-bucket parts, in the order
  // AddPoint would have visited them; points outside [step_from, step_to] are dropped. When steps
  // are sorted as SortByStep leaves them (every stored chunk), each bucket's run is found by binary
  // search and folded in a tight loop; otherwise it goes point by point. Appends to *parts.
  // Reads no builder state but the range: safe to call from several threads at once.
  void SplitIntoParts(std::span<const double> steps, std::span<const double> values,
                      std::vector<Part>* parts) const;
  // Buffers SplitChunkIntoParts decodes into; a caller reuses one across chunks.
  struct Scratch {
    std::vector<double> steps, values;
  };
  // SplitIntoParts for a whole chunk, decoding as little as it can: blocks of the chunk's index
  // that fall inside one bucket become parts from their summaries; only the others (a bucket edge
  // or the range's end inside them) have their values decoded. Same thread-safety as
  // SplitIntoParts.
  Status SplitChunkIntoParts(const FloatChunkReader& chunk, Scratch* scratch,
                             std::vector<Part>* parts) const;
  // Merges parts from SplitIntoParts; the result equals AddPoint over the same points in the same
  // order (sums aside, which are added per part: equal up to rounding).
  void AddParts(std::span<const Part> parts);

  // Non-empty buckets only, in step order.
  std::vector<Bucket> Finish() const;

 private:
  struct Acc {
    uint64_t count = 0, nan_count = 0;
    double min = 0, max = 0, sum = 0;
    double first = 0, last = 0, first_step = 0, last_step = 0;
  };
  // An Acc from a chunk summary or a block index entry (both carry nan_count, min, max, sum,
  // first and last; their counts and step ranges are named differently).
  template <typename Summary>
  static Acc AccOf(const Summary& s, uint64_t count, double first_step, double last_step) {
    return Acc{.count = count,
               .nan_count = s.nan_count,
               .min = s.min,
               .max = s.max,
               .sum = s.sum,
               .first = s.first,
               .last = s.last,
               .first_step = first_step,
               .last_step = last_step};
  }
  // The walk SplitChunkIntoParts makes over a chunk whose steps are sorted: decode(begin, end)
  // for each point range it decodes, block(k, bucket, first_step, last_step) for each block k of
  // block_points merged whole from its index entry; both return Status.
  template <typename Step, typename Decode, typename Block>
  Status WalkBlocks(uint32_t count, uint32_t block_points, const Step& step, const Decode& decode,
                    const Block& block) const;
  void Merge(int64_t index, const Acc& add);
  static void MergeAcc(Acc& a, const Acc& add);
  // Folds values of points [b, e), all in one bucket and with these first and last steps.
  static Acc Fold(std::span<const double> values, size_t b, size_t e, double first_step,
                  double last_step);
  // SplitIntoParts for points whose steps (step(i) for values[i]) are in StepLess order.
  template <typename StepAt>
  void SplitSorted(const StepAt& step, std::span<const double> values,
                   std::vector<Part>* parts) const;

  double from_, to_, width_;
  uint32_t n_;
  std::vector<Acc> acc_;

 public:
  struct Part {
    int64_t index = 0;
    Acc acc;
  };
};

}  // namespace nereid::series
