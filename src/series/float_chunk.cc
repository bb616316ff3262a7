#include "series/float_chunk.h"

#include <zstd.h>

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

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Contexts are reused per thread: creating one costs more than compressing a small chunk.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

// Compresses body as one zstd frame, ending a block at each cut so that sections with different
// statistics (byte planes) get their own entropy tables. Empty on failure.
std::string Compress(const std::string& body, const std::vector<size_t>& cuts) {
  ZSTD_CCtx* cctx = ThreadCCtx();
  if (!cctx) return {};
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, format::kZstdLevel);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setPledgedSrcSize(cctx, body.size());
  // Keep only cuts that leave both neighbouring sections long enough to earn their own table.
  std::vector<size_t> bounds;
  size_t last = 0;
  for (size_t c : cuts) {
    if (c - last >= format::kMinSeparateBlockBytes &&
        body.size() - c >= format::kMinSeparateBlockBytes) {
      bounds.push_back(c);
      last = c;
    }
  }
  bounds.push_back(body.size());
  std::string out(ZSTD_compressBound(body.size()) + 16 * bounds.size() + 64, '\0');
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  size_t from = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    bool end = i + 1 == bounds.size();
    ZSTD_inBuffer ib{body.data() + from, bounds[i] - from, 0};
    size_t left;
    do {
      left = ZSTD_compressStream2(cctx, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_flush);
      if (ZSTD_isError(left) || (left != 0 && ob.pos == ob.size)) return {};
    } while (left != 0 || ib.pos != ib.size);
    from = bounds[i];
  }
  out.resize(ob.pos);
  return out;
}

// Header + body, the body compressed when that makes it smaller.
std::string Frame(uint8_t kind, size_t count, const std::string& body,
                  const std::vector<size_t>& cuts) {
  std::string out;
  out.push_back(static_cast<char>(format::kMagic));
  out.push_back(static_cast<char>(format::kVersion));
  out.push_back(static_cast<char>(kind));
  std::string packed = Compress(body, cuts);
  bool zstd = !packed.empty() && packed.size() + 4 < body.size();
  out.push_back(static_cast<char>(zstd ? format::kFlagZstd : 0));
  PutVarint(out, count);
  if (zstd) {
    PutVarint(out, body.size());
    out += packed;
  } else {
    out += body;
  }
  return out;
}

struct Header {
  uint8_t kind = 0;
  uint8_t flags = 0;
  uint32_t count = 0;
  uint64_t body_size = 0;  // only when compressed
  std::string_view rest;
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
  if ((h.flags & ~format::kFlagZstd) != 0) return DataLoss("series chunk: unknown flags");
  if (count > format::kMaxChunkPoints) return DataLoss("series chunk: point count above maximum");
  h.count = static_cast<uint32_t>(count);
  if ((h.flags & format::kFlagZstd) && !r.ReadVarint(&h.body_size)) {
    return DataLoss("series chunk: truncated header");
  }
  h.rest = blob.substr(blob.size() - r.remaining());
  return h;
}

// The decompressed body of a chunk, valid until the next call on this thread.
Result<std::string_view> Body(const Header& h, size_t max_body) {
  if (!(h.flags & format::kFlagZstd)) {
    if (h.rest.size() > max_body)
      return DataLoss("series chunk: body larger than its count allows");
    return h.rest;
  }
  if (h.body_size > max_body) return DataLoss("series chunk: body larger than its count allows");
  thread_local std::unique_ptr<char[]> buffer;
  thread_local size_t capacity = 0;
  if (capacity < h.body_size || !buffer) {
    capacity = std::max<size_t>(h.body_size, 64 * 1024);
    buffer = std::make_unique_for_overwrite<char[]>(capacity);
  }
  ZSTD_DCtx* dctx = ThreadDCtx();
  if (!dctx) return Internal("series chunk: cannot create a zstd context");
  size_t got = ZSTD_decompressDCtx(dctx, buffer.get(), h.body_size, h.rest.data(), h.rest.size());
  if (ZSTD_isError(got)) {
    return DataLoss(std::string("series chunk: ") + ZSTD_getErrorName(got));
  }
  if (got != h.body_size) return DataLoss("series chunk: body size mismatch");
  return std::string_view(buffer.get(), got);
}

template <typename Point>
void EncodeStepsAndTimes(std::span<const Point> points, std::string& body,
                         std::vector<size_t>& cuts) {
  std::vector<double> steps(points.size());
  std::vector<uint64_t> times(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    steps[i] = points[i].step;
    times[i] = static_cast<uint64_t>(points[i].timestamp_us);
  }
  internal::EncodeStepColumn(steps, body, &cuts);
  internal::EncodeIntColumn(times, body, &cuts);
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
  std::vector<size_t> cuts;
  EncodeStepsAndTimes(points, body, cuts);
  std::vector<uint64_t> values(points.size());
  for (size_t i = 0; i < points.size(); ++i) values[i] = std::bit_cast<uint64_t>(points[i].value);
  internal::EncodeDoubleColumn(values, body, &cuts);
  return Frame(format::kKindFloat, points.size(), body, cuts);
}

Result<uint32_t> FloatChunkCount(std::string_view blob) {
  NEREID_ASSIGN_OR_RETURN(Header h, ParseHeader(blob));
  if (h.kind != format::kKindFloat) return DataLoss("series chunk: not a float chunk");
  return h.count;
}

Result<std::vector<FloatPoint>> DecodeFloatChunk(std::string_view blob) {
  NEREID_ASSIGN_OR_RETURN(Header h, ParseHeader(blob));
  if (h.kind != format::kKindFloat) return DataLoss("series chunk: not a float chunk");
  NEREID_ASSIGN_OR_RETURN(std::string_view body, Body(h, format::MaxFloatBodyBytes(h.count)));
  ByteReader r(body);
  std::vector<FloatPoint> points(h.count);
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

std::string EncodeStringChunk(std::span<const StringPoint> points) {
  std::string body;
  std::vector<size_t> cuts;
  EncodeStepsAndTimes(points, body, cuts);
  for (const StringPoint& p : points) {
    PutVarint(body, p.value.size());
    body += p.value;
  }
  return Frame(format::kKindString, points.size(), body, cuts);
}

Result<std::vector<StringPoint>> DecodeStringChunk(std::string_view blob) {
  NEREID_ASSIGN_OR_RETURN(Header h, ParseHeader(blob));
  if (h.kind != format::kKindString) return DataLoss("series chunk: not a string chunk");
  NEREID_ASSIGN_OR_RETURN(std::string_view body, Body(h, format::kMaxStringBodyBytes));
  ByteReader r(body);
  std::vector<double> steps(h.count);
  std::vector<int64_t> times(h.count);
  if (!internal::DecodeStepColumn(r, h.count, reinterpret_cast<uint8_t*>(steps.data()), 8) ||
      !internal::DecodeIntColumn(r, h.count, reinterpret_cast<uint8_t*>(times.data()), 8)) {
    return DataLoss("series chunk: malformed column");
  }
  std::vector<StringPoint> points(h.count);
  for (uint32_t i = 0; i < h.count; ++i) {
    uint64_t len = 0;
    const uint8_t* data = nullptr;
    if (!r.ReadVarint(&len) || !r.ReadBytes(len, &data)) {
      return DataLoss("series chunk: malformed string value");
    }
    points[i].step = steps[i];
    points[i].timestamp_us = times[i];
    points[i].value.assign(reinterpret_cast<const char*>(data), len);
  }
  if (r.remaining() != 0) return DataLoss("series chunk: trailing bytes");
  return points;
}

}  // namespace nereid::series
