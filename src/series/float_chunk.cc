#include "series/float_chunk.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>

#include "series/chunk_format.h"
#include "series/column_codec.h"

namespace nereid::series {
namespace {

using internal::ByteReader;
using internal::PutVarint;

std::string Frame(uint8_t kind, uint8_t version, size_t count, const std::string& body) {
  std::string out;
  out.push_back(static_cast<char>(format::kMagic));
  out.push_back(static_cast<char>(version));
  out.push_back(static_cast<char>(kind));
  out.push_back(0);  // flags
  PutVarint(out, count);
  out += body;
  return out;
}

struct Header {
  uint8_t kind = 0;
  uint8_t version = 0;
  uint8_t flags = 0;
  uint32_t count = 0;
  uint32_t block_points = 0;  // version 2: points per index block
  std::string_view index;     // version 2: the block index entries
  std::string_view body;      // the columns
};

void PutLE(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

// Reads the header; for a version-2 float chunk also the block index, inflated into
// *index_storage (h.index points at the entries), or skipped when index_storage is null.
Result<Header> ParseHeader(std::string_view blob, std::string* index_storage = nullptr) {
  ByteReader r(blob);
  uint8_t magic = 0, version = 0;
  Header h;
  // Version 2 exists for float chunks only; the kind is checked by each decoder.
  uint64_t count = 0;
  if (!r.ReadByte(&magic) || !r.ReadByte(&version) || !r.ReadByte(&h.kind) ||
      !r.ReadByte(&h.flags) || !r.ReadVarint(&count)) {
    return DataLoss("series chunk: truncated header");
  }
  if (magic != format::kMagic) return DataLoss("series chunk: bad magic byte");
  if (version != format::kVersion &&
      !(version == format::kVersionBlockIndex && h.kind == format::kKindFloat)) {
    return DataLoss("series chunk: unknown version " + std::to_string(version));
  }
  h.version = version;
  if (h.flags != 0) return DataLoss("series chunk: unknown flags");
  if (count > format::kMaxChunkPoints) return DataLoss("series chunk: point count above maximum");
  h.count = static_cast<uint32_t>(count);
  if (version == format::kVersionBlockIndex) {
    uint64_t block = 0;
    if (!r.ReadVarint(&block) || block < format::kMinBlockPoints ||
        block > format::kMaxChunkPoints) {
      return DataLoss("series chunk: bad block size");
    }
    h.block_points = static_cast<uint32_t>(block);
    size_t bytes = (h.count + block - 1) / block * format::kBlockEntryBytes;
    const uint8_t* index = nullptr;
    bool ok = false;
    if (index_storage == nullptr) {  // skip the section without inflating it
      uint8_t tag = 0;
      uint64_t frame = 0;
      ok = r.ReadByte(&tag) &&
           (tag == 0 ? r.ReadBytes(bytes, &index)
                     : tag == 1 && r.ReadVarint(&frame) && r.ReadBytes(frame, &index));
    } else {
      index_storage->resize(std::max<size_t>(bytes, 1));
      ok = internal::ReadSection(r, bytes, reinterpret_cast<uint8_t*>(index_storage->data()),
                                 &index);
      if (ok) h.index = std::string_view(reinterpret_cast<const char*>(index), bytes);
    }
    if (!ok) return DataLoss("series chunk: malformed block index");
  }
  h.body = blob.substr(blob.size() - r.remaining());
  return h;
}

template <typename Point>
void EncodeStepsAndTimes(std::span<const Point> points, std::string& body) {
  std::vector<double> steps(points.size());
  std::vector<uint64_t> times(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    steps[i] = points[i].step;
    times[i] = static_cast<uint64_t>(points[i].timestamp_us);
  }
  internal::EncodeStepColumn(steps, body);
  internal::EncodeIntColumn(times, body);
}

// NaN steps sort after everything else, so the order is a strict weak ordering for any input.
bool StepLess(double a, double b) {
  return a < b || (!std::isnan(a) && std::isnan(b));
}

}  // namespace

namespace {
template <typename P>
void StableSortByStep(std::span<P> points) {
  auto less = [](const P& a, const P& b) { return StepLess(a.step, b.step); };
  // The store re-sorts an open tail chunk on every batch; it is nearly always in order already,
  // and stable_sort would still allocate a buffer and merge.
  if (std::is_sorted(points.begin(), points.end(), less)) return;
  std::stable_sort(points.begin(), points.end(), less);
}
}  // namespace

void SortByStep(std::span<FloatPoint> points) {
  StableSortByStep(points);
}

void SortByStep(std::span<StringPoint> points) {
  StableSortByStep(points);
}

ChunkSummary Summarize(std::span<const FloatPoint> points) {
  ChunkSummary s;
  if (points.empty()) return s;
  s.count = static_cast<uint32_t>(points.size());
  s.step_min = s.step_max = points[0].step;
  s.timestamp_min = s.timestamp_max = points[0].timestamp_us;
  s.first = s.last = points[0].value;
  bool any_value = false;
  for (const FloatPoint& p : points) {
    // Strict < keeps the first arrival among equal lowest steps; >= takes the last arrival.
    if (StepLess(p.step, s.step_min)) s.step_min = p.step, s.first = p.value;
    if (!StepLess(p.step, s.step_max)) s.step_max = p.step, s.last = p.value;
    s.timestamp_min = std::min(s.timestamp_min, p.timestamp_us);
    s.timestamp_max = std::max(s.timestamp_max, p.timestamp_us);
    if (std::isnan(p.value)) {
      ++s.nan_count;
      continue;
    }
    if (!any_value) {
      s.min = s.max = p.value;
      any_value = true;
    } else {
      s.min = std::min(s.min, p.value);
      s.max = std::max(s.max, p.value);
    }
    s.sum += p.value;
  }
  return s;
}

std::string EncodeFloatChunk(std::span<const FloatPoint> points) {
  std::string body, index;
  PutVarint(body, format::kBlockPoints);
  for (size_t b = 0; b < points.size(); b += format::kBlockPoints) {
    size_t e = std::min(points.size(), b + format::kBlockPoints);
    // The same left-to-right fold BucketBuilder applies to decoded points, so a bucket merged
    // from blocks equals one folded from points.
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
    uint32_t nans = 0;
    for (size_t i = b; i < e; ++i) {
      double v = points[i].value;
      bool nan = v != v;
      nans += nan ? 1 : 0;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
      sum += nan ? 0.0 : v;
    }
    if (nans == e - b) lo = hi = points[b].value;
    PutLE(index, nans, 4);
    for (double d : {lo, hi, sum, points[b].value, points[e - 1].value}) {
      PutLE(index, std::bit_cast<uint64_t>(d), 8);
    }
  }
  internal::PutSection(body, index);  // noise stays raw; a flat series' index shrinks to bytes
  EncodeStepsAndTimes(points, body);
  std::vector<uint64_t> values(points.size());
  for (size_t i = 0; i < points.size(); ++i) values[i] = std::bit_cast<uint64_t>(points[i].value);
  internal::EncodeDoubleColumn(values, body);
  return Frame(format::kKindFloat, format::kVersionBlockIndex, points.size(), body);
}

Result<uint32_t> FloatChunkCount(std::string_view blob) {
  NEREID_ASSIGN_OR_RETURN(Header h, ParseHeader(blob));
  if (h.kind != format::kKindFloat) return DataLoss("series chunk: not a float chunk");
  return h.count;
}

Result<std::vector<FloatPoint>> DecodeFloatChunk(std::string_view blob) {
  NEREID_ASSIGN_OR_RETURN(Header h, ParseHeader(blob));
  if (h.kind != format::kKindFloat) return DataLoss("series chunk: not a float chunk");
  ByteReader r(h.body);
  std::vector<FloatPoint> points(h.count);
  // An empty chunk's vector has no storage: offsetting its null data() is undefined (found by the
  // series_chunk fuzzer), so give it one element's room.
  points.reserve(std::max<size_t>(h.count, 1));
  auto* base = reinterpret_cast<uint8_t*>(points.data());
  constexpr size_t kStride = sizeof(FloatPoint);
  if (!internal::DecodeStepColumn(r, h.count, base + offsetof(FloatPoint, step), kStride) ||
      !internal::DecodeIntColumn(r, h.count, base + offsetof(FloatPoint, timestamp_us), kStride) ||
      !internal::DecodeDoubleColumn(r, h.count, base + offsetof(FloatPoint, value), kStride)) {
    return DataLoss("series chunk: malformed column");
  }
  if (r.remaining() != 0) return DataLoss("series chunk: trailing bytes");
  return points;
}

Status DecodeFloatChunkStepsValues(std::string_view blob, std::vector<double>* steps,
                                   std::vector<double>* values) {
  NEREID_ASSIGN_OR_RETURN(Header h, ParseHeader(blob));
  if (h.kind != format::kKindFloat) return DataLoss("series chunk: not a float chunk");
  ByteReader r(h.body);
  steps->resize(h.count);
  values->resize(h.count);
  if (!internal::DecodeStepColumn(r, h.count, reinterpret_cast<uint8_t*>(steps->data()), 8) ||
      !internal::SkipIntColumn(r, h.count) ||
      !internal::DecodeDoubleColumn(r, h.count, reinterpret_cast<uint8_t*>(values->data()), 8)) {
    return DataLoss("series chunk: malformed column");
  }
  if (r.remaining() != 0) return DataLoss("series chunk: trailing bytes");
  return Status();
}

Status FloatChunkReader::Open(std::string_view blob) {
  NEREID_ASSIGN_OR_RETURN(Header h, ParseHeader(blob, &index_));
  if (h.kind != format::kKindFloat) return DataLoss("series chunk: not a float chunk");
  count_ = h.count;
  blocks_.clear();
  for (size_t b = 0, at = 0; h.block_points > 0 && b < h.count;
       b += h.block_points, at += format::kBlockEntryBytes) {
    const char* e = h.index.data() + at;
    FloatBlock f;
    f.begin = static_cast<uint32_t>(b);
    f.end = static_cast<uint32_t>(std::min<size_t>(h.count, b + h.block_points));
    f.nan_count = static_cast<uint32_t>(GetLE(e, 4));
    if (f.nan_count > f.end - f.begin) return DataLoss("series chunk: bad block index");
    f.min = std::bit_cast<double>(GetLE(e + 4, 8));
    f.max = std::bit_cast<double>(GetLE(e + 12, 8));
    f.sum = std::bit_cast<double>(GetLE(e + 20, 8));
    f.first = std::bit_cast<double>(GetLE(e + 28, 8));
    f.last = std::bit_cast<double>(GetLE(e + 36, 8));
    blocks_.push_back(f);
  }
  block_points_ = h.block_points;
  ByteReader r(h.body);
  // Consecutive steps (one point per step, the usual log) are computed when asked for, not
  // written out: a chart read needs a few of a chunk's thousands.
  uint8_t mode = 0;
  consecutive_ = r.remaining() > 0 && r.Peek() == format::kStepsConsecutive;
  bool ok = true;
  if (consecutive_) {
    steps_.clear();
    ok = r.ReadByte(&mode) && internal::ReadConsecutiveStart(r, h.count, &first_step_);
  } else {
    steps_.resize(std::max<size_t>(h.count, 1));  // never offset a null data()
    steps_.resize(h.count);
    ok = internal::DecodeStepColumn(r, h.count, reinterpret_cast<uint8_t*>(steps_.data()), 8);
  }
  if (!ok || !internal::SkipIntColumn(r, h.count)) {
    consecutive_ = false;
    return DataLoss("series chunk: malformed column");
  }
  // Consecutive steps are sorted by construction; others are checked without branches so the
  // loop vectorizes: out of order is a > b, or a NaN before a number.
  steps_sorted_ = true;
  if (!consecutive_) {
    bool bad = false;
    for (size_t i = 1; i < steps_.size(); ++i) {
      double a = steps_[i - 1], b = steps_[i];
      bad |= (a > b) | ((a != a) & (b == b));
    }
    steps_sorted_ = !bad;
  }
  size_t at = h.body.size() - r.remaining();
  if (!internal::SkipDoubleColumn(r, h.count)) return DataLoss("series chunk: malformed column");
  if (r.remaining() != 0) return DataLoss("series chunk: trailing bytes");
  value_column_ = h.body.substr(at);
  return Status();
}

Status FloatChunkReader::Values(uint32_t begin, uint32_t end, std::vector<double>* values) const {
  if (begin > end || end > count_) return InvalidArgument("series chunk: range out of bounds");
  values->resize(std::max<size_t>(end - begin, 1));  // never offset a null data()
  values->resize(end - begin);
  ByteReader r(value_column_);
  // At a block boundary the index holds the value there and the one before: restart from them.
  bool anchored = block_points_ > 0 && begin >= 2 && begin < end && begin % block_points_ == 0;
  bool ok = false;
  if (anchored) {
    const size_t k = begin / block_points_;  // >= 1, as begin >= 2 and block_points_ >= 64
    ok = internal::DecodeDoubleColumnRangeFrom(
        r, count_, begin, end, std::bit_cast<uint64_t>(blocks_[k - 1].last),
        std::bit_cast<uint64_t>(blocks_[k].first), values->data());
  } else {
    ok = internal::DecodeDoubleColumnRange(r, count_, begin, end, values->data());
  }
  if (!ok) return DataLoss("series chunk: malformed column");
  return Status();
}

std::span<const double> FloatChunkReader::Steps(uint32_t begin, uint32_t end,
                                                std::vector<double>* scratch) const {
  end = std::min(end, count_);
  begin = std::min(begin, end);
  if (!consecutive_) return std::span<const double>(steps_).subspan(begin, end - begin);
  scratch->resize(end - begin);
  for (uint32_t i = begin; i < end; ++i) scratch->data()[i - begin] = step(i);
  return *scratch;
}

std::string EncodeStringChunk(std::span<const StringPoint> points) {
  std::string body;
  EncodeStepsAndTimes(points, body);
  std::string values;
  for (const StringPoint& p : points) {
    PutVarint(values, p.value.size());
    values += p.value;
  }
  PutVarint(body, values.size());
  internal::PutSection(body, values);
  return Frame(format::kKindString, format::kVersion, points.size(), body);
}

Result<std::vector<StringPoint>> DecodeStringChunk(std::string_view blob) {
  NEREID_ASSIGN_OR_RETURN(Header h, ParseHeader(blob));
  if (h.kind != format::kKindString) return DataLoss("series chunk: not a string chunk");
  ByteReader r(h.body);
  std::vector<double> steps(h.count);
  std::vector<int64_t> times(h.count);
  if (!internal::DecodeStepColumn(r, h.count, reinterpret_cast<uint8_t*>(steps.data()), 8) ||
      !internal::DecodeIntColumn(r, h.count, reinterpret_cast<uint8_t*>(times.data()), 8)) {
    return DataLoss("series chunk: malformed column");
  }
  uint64_t values_size = 0;
  if (!r.ReadVarint(&values_size) || values_size > format::kMaxStringValueBytes) {
    return DataLoss("series chunk: malformed string values");
  }
  std::unique_ptr<uint8_t[]> scratch;
  const uint8_t* values = nullptr;
  if (r.remaining() > 0 && r.Peek() != 0) {  // compressed: allocate only what the frame declares
    scratch = std::make_unique_for_overwrite<uint8_t[]>(values_size);
  }
  if (!internal::ReadSection(r, values_size, scratch.get(), &values)) {
    return DataLoss("series chunk: malformed string values");
  }
  if (r.remaining() != 0) return DataLoss("series chunk: trailing bytes");
  ByteReader vr(std::string_view(reinterpret_cast<const char*>(values), values_size));
  std::vector<StringPoint> points(h.count);
  for (uint32_t i = 0; i < h.count; ++i) {
    uint64_t len = 0;
    const uint8_t* data = nullptr;
    if (!vr.ReadVarint(&len) || !vr.ReadBytes(len, &data)) {
      return DataLoss("series chunk: malformed string value");
    }
    points[i].step = steps[i];
    points[i].timestamp_us = times[i];
    points[i].value.assign(reinterpret_cast<const char*>(data), len);
  }
  if (vr.remaining() != 0) return DataLoss("series chunk: trailing bytes");
  return points;
}

}  // namespace nereid::series
