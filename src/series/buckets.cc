#include "series/buckets.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nereid::series {

BucketBuilder::BucketBuilder(double step_from, double step_to, uint32_t n)
    : from_(step_from),
      to_(step_to),
      // A zero-width range has one bucket, whatever n says.
      n_(step_from == step_to ? 1 : std::max<uint32_t>(n, 1)) {
  width_ = (to_ - from_) / n_;
  acc_.resize(n_);
}

int64_t BucketBuilder::IndexOf(double step) const {
  if (!(step >= from_ && step <= to_)) return -1;  // also rejects NaN
  if (n_ == 1) return 0;
  // floor((step - from) / width) is monotone in step, so a chunk whose lowest and highest steps
  // share an index has all its steps there. Rounding can push step == to_ to n_: clamp.
  double k = std::floor((step - from_) / width_);
  if (!(k >= 0)) return 0;
  return std::min<int64_t>(static_cast<int64_t>(std::min<double>(k, n_ - 1)), n_ - 1);
}

bool BucketBuilder::FitsOneBucket(const ChunkSummary& s) const {
  if (s.count == 0) return true;
  int64_t i = IndexOf(s.step_min);
  return i >= 0 && i == IndexOf(s.step_max);
}

void BucketBuilder::AddSummary(const ChunkSummary& s) {
  if (s.count == 0) return;
  // A summary that straddles buckets cannot be split; callers decode such chunks instead. If one
  // is added anyway it lands whole in the bucket of its first in-range end (approximate).
  int64_t i = IndexOf(s.step_min);
  if (i < 0) i = IndexOf(s.step_max);
  if (i < 0) return;
  Merge(i, AccOf(s, s.count, s.step_min, s.step_max));
}

void BucketBuilder::AddPoint(const FloatPoint& p) {
  int64_t i = IndexOf(p.step);
  if (i < 0) return;
  Acc a;
  a.count = 1;
  bool nan = std::isnan(p.value);
  a.nan_count = nan ? 1 : 0;
  a.min = a.max = p.value;
  a.sum = nan ? 0 : p.value;
  a.first = a.last = p.value;
  a.first_step = a.last_step = p.step;
  Merge(i, a);
}

void BucketBuilder::AddPoints(std::span<const FloatPoint> points) {
  for (const FloatPoint& p : points) AddPoint(p);
}

BucketBuilder::Acc BucketBuilder::Fold(std::span<const double> values, size_t b, size_t e,
                                       double first_step, double last_step) {
  Acc a;
  a.count = e - b;
  a.first = values[b];
  a.first_step = first_step;
  a.last = values[e - 1];
  a.last_step = last_step;
  // Branch-free so it vectorizes; v < min is false for NaN, so NaN never becomes min or max, and
  // ties keep the earlier value as std::min/std::max do.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  uint64_t nans = 0;
  for (size_t i = b; i < e; ++i) {
    double v = values[i];
    bool nan = v != v;
    nans += nan ? 1 : 0;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    sum += nan ? 0.0 : v;
  }
  a.nan_count = nans;
  a.min = lo;
  a.max = hi;
  a.sum = sum;
  bool any = nans < a.count;
  if (!any) a.min = a.max = values[b];  // as AddPoint leaves an all-NaN bucket
  return a;
}

namespace {
// std::partition_point over the indices [lo, hi): the first index for which pred is false, for a
// pred that is true on a prefix of them.
template <typename Pred>
size_t PartitionPoint(size_t lo, size_t hi, const Pred& pred) {
  size_t count = hi - lo;
  while (count > 0) {
    size_t half = count / 2;
    if (pred(lo + half)) {
      lo += half + 1;
      count -= half + 1;
    } else {
      count = half;
    }
  }
  return lo;
}
}  // namespace

template <typename StepAt>
void BucketBuilder::SplitSorted(const StepAt& step, std::span<const double> values,
                                std::vector<Part>* parts) const {
  const size_t n = values.size();
  // In range: [begin, end). Both predicates partition a StepLess-sorted sequence (NaN last).
  size_t begin = PartitionPoint(0, n, [&](size_t i) { return step(i) < from_; });
  size_t end = PartitionPoint(begin, n, [&](size_t i) { return step(i) <= to_; });
  // IndexOf is monotone over [begin, end): each bucket's points are one contiguous run.
  for (size_t i = begin; i < end;) {
    int64_t k = IndexOf(step(i));
    size_t j = PartitionPoint(i, end, [&](size_t x) { return IndexOf(step(x)) <= k; });
    parts->push_back(Part{k, Fold(values, i, j, step(i), step(j - 1))});
    i = j;
  }
}

void BucketBuilder::SplitIntoParts(std::span<const double> steps, std::span<const double> values,
                                   std::vector<Part>* parts) const {
  size_t n = std::min(steps.size(), values.size());
  steps = steps.first(n);
  values = values.first(n);
  // Sorted by step with NaN steps last, as SortByStep orders them (StepLess).
  bool sorted = true;
  for (size_t i = 1; i < n && sorted; ++i) {
    double a = steps[i - 1], b = steps[i];
    sorted = std::isnan(b) || (!std::isnan(a) && a <= b);
  }
  if (!sorted) {
    for (size_t i = 0; i < n; ++i) {
      int64_t k = IndexOf(steps[i]);
      if (k < 0) continue;
      Part p{k, Fold(values, i, i + 1, steps[i], steps[i])};
      if (!parts->empty() && parts->back().index == k) {
        MergeAcc(parts->back().acc, p.acc);  // same bucket: extend that part, in order
      } else {
        parts->push_back(p);
      }
    }
    return;
  }
  SplitSorted([&](size_t i) { return steps[i]; }, values, parts);
}

template <typename Step, typename Decode, typename Block>
Status BucketBuilder::WalkBlocks(uint32_t count, uint32_t block_points, const Step& step,
                                 const Decode& decode, const Block& block) const {
  uint32_t pending = 0;  // points [pending, begin) still to decode
  for (size_t k = 0; block_points > 0 && k * block_points < count; ++k) {
    uint32_t begin = static_cast<uint32_t>(k * block_points);
    uint32_t end = begin + std::min(block_points, count - begin);
    double first_step = step(begin), last_step = step(end - 1);
    if (last_step < from_ || first_step > to_) {  // wholly outside the range: not even decoded
      NEREID_RETURN_IF_ERROR(decode(pending, begin));
      pending = end;
      continue;
    }
    int64_t bucket = IndexOf(first_step);
    if (bucket < 0 || bucket != IndexOf(last_step)) continue;  // decoded with its neighbours below
    NEREID_RETURN_IF_ERROR(decode(pending, begin));
    pending = end;
    NEREID_RETURN_IF_ERROR(block(k, bucket, first_step, last_step));
  }
  return decode(pending, count);
}

Status BucketBuilder::SplitChunkIntoParts(const FloatChunkReader& chunk, Scratch* scratch,
                                          std::vector<Part>* parts) const {
  std::span<const FloatBlock> blocks = chunk.blocks();
  auto decode = [&](uint32_t begin, uint32_t end) -> Status {
    if (begin == end) return Status();
    NEREID_RETURN_IF_ERROR(chunk.Values(begin, end, &scratch->values));
    if (chunk.steps_consecutive()) {  // computed, not written out: the usual log
      SplitSorted([&](size_t i) { return chunk.step(begin + static_cast<uint32_t>(i)); },
                  scratch->values, parts);
    } else {
      SplitIntoParts(chunk.Steps(begin, end, &scratch->steps), scratch->values, parts);
    }
    return Status();
  };
  // Block summaries stand for runs of points only when steps are in StepLess order, as the store
  // writes every chunk; anything else (an old or odd chunk) is decoded whole.
  if (blocks.empty() || !chunk.steps_sorted()) return decode(0, chunk.count());
  // Every block but the last has the index's block size.
  uint32_t block_points = blocks[0].end - blocks[0].begin;
  auto step = [&](uint32_t i) { return chunk.step(i); };
  auto block = [&](size_t k, int64_t bucket, double first_step, double last_step) -> Status {
    const FloatBlock& b = blocks[k];
    parts->push_back(Part{bucket, AccOf(b, b.end - b.begin, first_step, last_step)});
    return Status();
  };
  return WalkBlocks(chunk.count(), block_points, step, decode, block);
}

void BucketBuilder::AddParts(std::span<const Part> parts) {
  for (const Part& p : parts) Merge(p.index, p.acc);
}

void BucketBuilder::Merge(int64_t index, const Acc& add) {
  MergeAcc(acc_[static_cast<size_t>(index)], add);
}

void BucketBuilder::MergeAcc(Acc& a, const Acc& add) {
  if (add.count == 0) return;
  if (a.count == 0) {
    a = add;
    return;
  }
  bool a_has_values = a.count > a.nan_count;
  bool add_has_values = add.count > add.nan_count;
  if (add_has_values) {
    a.min = a_has_values ? std::min(a.min, add.min) : add.min;
    a.max = a_has_values ? std::max(a.max, add.max) : add.max;
  }
  a.count += add.count;
  a.nan_count += add.nan_count;
  a.sum += add.sum;
  // `add` arrived later: it takes `first` only with a strictly lower step, `last` on a tie too.
  if (add.first_step < a.first_step) a.first_step = add.first_step, a.first = add.first;
  if (add.last_step >= a.last_step) a.last_step = add.last_step, a.last = add.last;
}

std::vector<Bucket> BucketBuilder::Finish() const {
  std::vector<Bucket> out;
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  for (uint32_t i = 0; i < n_; ++i) {
    const Acc& a = acc_[i];
    if (a.count == 0) continue;
    Bucket b;
    b.step_from = from_ + width_ * i;
    b.step_to = i + 1 == n_ ? to_ : from_ + width_ * (i + 1);
    b.count = a.count;
    b.nan_count = a.nan_count;
    bool has_values = a.count > a.nan_count;
    // All-NaN buckets report NaN rather than a made-up 0.
    b.min = has_values ? a.min : kNaN;
    b.max = has_values ? a.max : kNaN;
    b.mean = has_values ? a.sum / static_cast<double>(a.count - a.nan_count) : kNaN;
    b.first = a.first;
    b.last = a.last;
    b.first_step = a.first_step;
    b.last_step = a.last_step;
    out.push_back(b);
  }
  return out;
}

}  // namespace nereid::series
