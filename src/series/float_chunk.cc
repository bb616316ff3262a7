#include "series/float_chunk.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <memory>

#include "series/chunk_format.h"
#include "series/column_codec.h"

namespace nereid::series {
namespace {

using internal::ByteReader;
using internal::PutVarint;

std::string Frame(uint8_t kind, size_t count, const std::string& body) {
  std::string out;
  out.push_back(static_cast<char>(format::kMagic));
  out.push_back(static_cast<char>(format::kVersion));
  out.push_back(static_cast<char>(kind));
  out.push_back(0);  // flags
  PutVarint(out, count);
  out += body;
  return out;
}

struct Header {
  uint8_t kind = 0;
  uint8_t flags = 0;
  uint32_t count = 0;
  std::string_view body;
};

Result<Header> ParseHeader(std::string_view blob) {
  ByteReader r(blob);
  uint8_t magic = 0, version = 0;
  Header h;
  uint64_t count = 0;
  if (!r.ReadByte(&magic) || !r.ReadByte(&version) || !r.ReadByte(&h.kind) ||
      !r.ReadByte(&h.flags) || !r.ReadVarint(&count)) {
    return DataLoss("series chunk: truncated header");
  }
  if (magic != format::kMagic) return DataLoss("series chunk: bad magic byte");
  if (version != format::kVersion) {
    return DataLoss("series chunk: unknown version " + std::to_string(version));
  }
  if (h.flags != 0) return DataLoss("series chunk: unknown flags");
  if (count > format::kMaxChunkPoints) return DataLoss("series chunk: point count above maximum");
  h.count = static_cast<uint32_t>(count);
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

void SortByStep(std::vector<FloatPoint>& points) {
  std::stable_sort(points.begin(), points.end(), [](const FloatPoint& a, const FloatPoint& b) {
    return StepLess(a.step, b.step);
  });
}

void SortByStep(std::vector<StringPoint>& points) {
  std::stable_sort(points.begin(), points.end(), [](const StringPoint& a, const StringPoint& b) {
    return StepLess(a.step, b.step);
  });
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
  std::string body;
  EncodeStepsAndTimes(points, body);
  std::vector<uint64_t> values(points.size());
  for (size_t i = 0; i < points.size(); ++i) values[i] = std::bit_cast<uint64_t>(points[i].value);
  internal::EncodeDoubleColumn(values, body);
  return Frame(format::kKindFloat, points.size(), body);
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
  return Frame(format::kKindString, points.size(), body);
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
