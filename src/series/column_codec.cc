#include "series/column_codec.h"

#include <zstd.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>

#include "series/chunk_format.h"

namespace nereid::series::internal {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;
constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

// Double bits -> integer whose signed order is the numeric order, after dropping `shift` trailing
// bits that are zero in every magnitude of the column (float32 values cast to double have 29).
// -0.0 maps to -1 and +0.0 to 0, so the map is a bijection on bit patterns.
inline uint64_t MapDouble(uint64_t x, int shift) {
  uint64_t m = (x & ~kSignBit) >> shift;
  return (x & kSignBit) ? ~m : m;
}

struct Identity {
  uint64_t operator()(uint64_t v) const { return v; }
};
struct UnmapDouble {
  int shift;
  uint64_t operator()(uint64_t v) const {
    uint64_t s = v >> 63;
    uint64_t m = v ^ (0 - s);  // ~v for negatives
    return ((m << shift) & ~kSignBit) | (s << 63);
  }
};
struct IntToDouble {
  uint64_t operator()(uint64_t v) const {
    return std::bit_cast<uint64_t>(static_cast<double>(static_cast<int64_t>(v)));
  }
};

// Rebuilds a column from its head values and W byte planes of m residuals each. Works in blocks:
// gathering planes and undoing the zigzag is data-parallel (the compiler vectorizes it), leaving
// only one add per point (two for order 2) in the serial prefix-sum loop.
template <int W, typename F>
void Rebuild(int order, const uint8_t* const* planes, size_t m, uint64_t v0, uint64_t d1, size_t n,
             uint8_t* out, size_t stride, F f) {
  auto put = [out, stride, f](size_t i, uint64_t v) {
    uint64_t x = f(v);
    std::memcpy(out + i * stride, &x, sizeof x);
  };
  if (n == 0) return;
  size_t head = n - m;  // values written before the residuals: 0, 1 or 2
  uint64_t v = v0, d = d1;
  if (head >= 1) put(0, v);
  if (head >= 2) put(1, v += d);
  constexpr size_t kBlock = 256;
  uint64_t r[kBlock];
  for (size_t at = 0; at < m; at += kBlock) {
    size_t len = std::min(kBlock, m - at);
    for (size_t j = 0; j < len; ++j) {
      uint64_t z = 0;
      for (int b = 0; b < W; ++b) z |= uint64_t{planes[b][at + j]} << (8 * b);
      r[j] = UnZigZag(z);
    }
    if (order == 0) {
      for (size_t j = 0; j < len; ++j) put(at + j, r[j]);
    } else if (order == 1) {
      for (size_t j = 0; j < len; ++j) put(head + at + j, v += r[j]);
    } else {
      for (size_t j = 0; j < len; ++j) {
        d += r[j];
        put(head + at + j, v += d);
      }
    }
  }
}

template <int W>
inline uint64_t Residual(const uint8_t* const* planes, size_t j) {
  uint64_t z = 0;
  for (int b = 0; b < W; ++b) z |= uint64_t{planes[b][j]} << (8 * b);
  return UnZigZag(z);
}

// Rebuild restricted to points [begin, end), written at out + (i - begin) * stride. The state
// before residual t0 follows in closed form (mod 2^64) from S0 = sum r_j and S1 = sum j * r_j over
// j < t0: order 1 v = v0 + S0; order 2 d = d1 + S0 and v = v0 + (t0 + 1) d1 + t0 S0 - S1.
template <int W, typename F>
void RebuildRange(int order, const uint8_t* const* planes, size_t m, uint64_t v0, uint64_t d1,
                  size_t n, size_t begin, size_t end, uint8_t* out, size_t stride, F f) {
  auto put = [out, stride, begin, f](size_t i, uint64_t v) {
    uint64_t x = f(v);
    std::memcpy(out + (i - begin) * stride, &x, sizeof x);
  };
  if (begin >= end) return;
  size_t head = n - m;
  if (order == 0) {
    for (size_t i = begin; i < end; ++i) put(i, Residual<W>(planes, i));
    return;
  }
  size_t i = begin;
  if (i == 0) put(i++, v0);
  if (order == 2 && i == 1 && i < end) put(i++, v0 + d1);
  if (i >= end) return;
  size_t t0 = i - head;
  uint64_t s0 = 0, s1 = 0;
  if (order == 1) {
    for (size_t j = 0; j < t0; ++j) s0 += Residual<W>(planes, j);
    uint64_t v = v0 + s0;
    for (size_t j = t0; j + head < end; ++j) put(j + head, v += Residual<W>(planes, j));
    return;
  }
  for (size_t j = 0; j < t0; ++j) {
    uint64_t r = Residual<W>(planes, j);
    s0 += r;
    s1 += j * r;
  }
  uint64_t d = d1 + s0;
  uint64_t v = v0 + (t0 + 1) * d1 + t0 * s0 - s1;
  for (size_t j = t0; j + head < end; ++j) {
    d += Residual<W>(planes, j);
    put(j + head, v += d);
  }
}

// Rebuild restricted to points [begin, end) (2 <= begin < end), restarting the predictor from
// the mapped values at `begin` (first) and `begin - 1` (prev) instead of from the column's head:
// the cost is that of the range alone, and only residuals from begin - order on are read.
template <int W, typename F>
void RebuildFrom(int order, const uint8_t* const* planes, uint64_t prev, uint64_t first,
                 size_t begin, size_t end, uint8_t* out, F f) {
  auto put = [out, f](size_t k, uint64_t v) {
    uint64_t x = f(v);
    std::memcpy(out + k * sizeof x, &x, sizeof x);
  };
  uint64_t v = first;
  put(0, v);
  if (order == 1) {
    // v[j + 1] = v[j] + r_j
    for (size_t i = begin + 1; i < end; ++i) put(i - begin, v += Residual<W>(planes, i - 1));
    return;
  }
  // v[j + 2] = v[j + 1] + d, after d += r_j
  uint64_t d = first - prev;
  for (size_t i = begin + 1; i < end; ++i) {
    d += Residual<W>(planes, i - 2);
    put(i - begin, v += d);
  }
}

template <typename F>
void RebuildAnyWidth(int width, int order, const uint8_t* const* planes, size_t m, uint64_t v0,
                     uint64_t d1, size_t n, uint8_t* out, size_t stride, F f) {
  switch (width) {
#define NEREID_REBUILD_CASE(w) \
  case w:                      \
    return Rebuild<w>(order, planes, m, v0, d1, n, out, stride, f);
    NEREID_REBUILD_CASE(0)
    NEREID_REBUILD_CASE(1)
    NEREID_REBUILD_CASE(2)
    NEREID_REBUILD_CASE(3)
    NEREID_REBUILD_CASE(4)
    NEREID_REBUILD_CASE(5)
    NEREID_REBUILD_CASE(6)
    NEREID_REBUILD_CASE(7)
    NEREID_REBUILD_CASE(8)
#undef NEREID_REBUILD_CASE
  }
}

// Room for the compressed planes of one column, reused per thread.
uint8_t* PlaneScratch(size_t bytes) {
  thread_local std::unique_ptr<uint8_t[]> buffer;
  thread_local size_t capacity = 0;
  if (capacity < bytes || !buffer) {
    capacity = std::max<size_t>(bytes, 64 * 1024);
    buffer = std::make_unique_for_overwrite<uint8_t[]>(capacity);
  }
  return buffer.get();
}

// True when the byte entropy of `data` says no order-0 entropy coder could save the 1/32 that
// PutSection asks for; skips a compression attempt on noise planes, most of them.
bool LooksIncompressible(std::string_view data) {
  uint32_t counts[256] = {};
  for (char c : data) ++counts[static_cast<uint8_t>(c)];
  double n = static_cast<double>(data.size()), bits = 0;
  for (uint32_t c : counts) {
    if (c) bits -= c * std::log2(c / n);
  }
  return bits / 8 > n * (1 - 1.0 / 32);
}

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// An integer column's header and its byte planes (inflated into the per-thread scratch).
struct Column {
  uint8_t order = 0, width = 0;
  uint64_t v0 = 0, d1 = 0;
  size_t m = 0;  // residuals
  const uint8_t* planes[8] = {};
};

bool ReadColumn(ByteReader& in, size_t n, Column* c) {
  if (!in.ReadByte(&c->order) || c->order > format::kMaxOrder) return false;
  if (c->order >= 1 && n >= 1) {
    if (!in.ReadVarint(&c->v0)) return false;
    c->v0 = UnZigZag(c->v0);
  }
  if (c->order == 2 && n >= 2) {
    if (!in.ReadVarint(&c->d1)) return false;
    c->d1 = UnZigZag(c->d1);
  }
  if (!in.ReadByte(&c->width) || c->width > 8) return false;
  c->m = n - std::min<size_t>(c->order, n);
  uint8_t* scratch = PlaneScratch(c->m * c->width);  // m <= 2^20: no overflow
  for (int b = 0; b < c->width; ++b) {
    if (!ReadSection(in, c->m, scratch + b * c->m, &c->planes[b])) return false;
  }
  return true;
}

template <typename F>
bool DecodeMapped(ByteReader& in, size_t n, uint8_t* out, size_t stride, F f) {
  Column c;
  if (!ReadColumn(in, n, &c)) return false;
  RebuildAnyWidth(c.width, c.order, c.planes, c.m, c.v0, c.d1, n, out, stride, f);
  return true;
}

// DecodeMapped for points [begin, end) only.
template <typename F>
bool DecodeMappedRangeColumn(const Column& c, size_t n, size_t begin, size_t end, uint8_t* out,
                             size_t stride, F f) {
  switch (c.width) {
#define NEREID_REBUILD_RANGE_CASE(w)                                                    \
  case w:                                                                               \
    RebuildRange<w>(c.order, c.planes, c.m, c.v0, c.d1, n, begin, end, out, stride, f); \
    break;
    NEREID_REBUILD_RANGE_CASE(0)
    NEREID_REBUILD_RANGE_CASE(1)
    NEREID_REBUILD_RANGE_CASE(2)
    NEREID_REBUILD_RANGE_CASE(3)
    NEREID_REBUILD_RANGE_CASE(4)
    NEREID_REBUILD_RANGE_CASE(5)
    NEREID_REBUILD_RANGE_CASE(6)
    NEREID_REBUILD_RANGE_CASE(7)
    NEREID_REBUILD_RANGE_CASE(8)
#undef NEREID_REBUILD_RANGE_CASE
  }
  return true;
}

template <typename F>
bool DecodeMappedRange(ByteReader& in, size_t n, size_t begin, size_t end, uint8_t* out,
                       size_t stride, F f) {
  Column c;
  if (begin > end || end > n || !ReadColumn(in, n, &c)) return false;
  return DecodeMappedRangeColumn(c, n, begin, end, out, stride, f);
}

// DecodeMappedRange with the predictor restarted from known values (RebuildFrom).
template <typename F>
bool DecodeMappedFrom(ByteReader& in, size_t n, size_t begin, size_t end, uint64_t prev,
                      uint64_t first, uint8_t* out, F f) {
  Column c;
  if (begin > end || end > n || !ReadColumn(in, n, &c)) return false;
  if (begin < 2 || begin == end || c.order == 0) {  // nothing to skip: decode as usual
    return DecodeMappedRangeColumn(c, n, begin, end, out, sizeof(uint64_t), f);
  }
  switch (c.width) {
#define NEREID_REBUILD_FROM_CASE(w)                                     \
  case w:                                                               \
    RebuildFrom<w>(c.order, c.planes, prev, first, begin, end, out, f); \
    break;
    NEREID_REBUILD_FROM_CASE(0)
    NEREID_REBUILD_FROM_CASE(1)
    NEREID_REBUILD_FROM_CASE(2)
    NEREID_REBUILD_FROM_CASE(3)
    NEREID_REBUILD_FROM_CASE(4)
    NEREID_REBUILD_FROM_CASE(5)
    NEREID_REBUILD_FROM_CASE(6)
    NEREID_REBUILD_FROM_CASE(7)
    NEREID_REBUILD_FROM_CASE(8)
#undef NEREID_REBUILD_FROM_CASE
  }
  return true;
}

}  // namespace

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutSection(std::string& out, std::string_view data) {
  if (data.size() >= 64 && !LooksIncompressible(data)) {
    // Contexts are reused per thread: creating one costs more than compressing a plane.
    thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
    std::string frame(ZSTD_compressBound(data.size()), '\0');
    size_t got = 0;
    if (cctx) {
      ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_and_parameters);
      ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, format::kZstdLevel);
      // Planes are near-iid bytes: LZ matches in them are spurious, save nothing over Huffman
      // and cost a sequence-decoding pass. Long minimum matches keep the frame literals-only.
      ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_minMatch, format::kZstdMinMatch);
      got = ZSTD_compress2(cctx.get(), frame.data(), frame.size(), data.data(), data.size());
    }
    if (cctx && !ZSTD_isError(got) && got + 4 + data.size() / 32 < data.size()) {
      out.push_back(1);
      PutVarint(out, got);
      out.append(frame.data(), got);
      return;
    }
  }
  out.push_back(0);
  out.append(data);
}

bool ReadSection(ByteReader& in, size_t size, uint8_t* scratch, const uint8_t** data) {
  uint8_t tag = 0;
  if (!in.ReadByte(&tag)) return false;
  if (tag == 0) return in.ReadBytes(size, data);
  uint64_t frame_size = 0;
  const uint8_t* frame = nullptr;
  if (tag != 1 || !in.ReadVarint(&frame_size) || !in.ReadBytes(frame_size, &frame)) return false;
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx(ZSTD_createDCtx());
  if (!dctx) dctx.reset(ZSTD_createDCtx());  // a failed creation is tried again, not kept for good
  if (!dctx) return false;
  size_t got = ZSTD_decompressDCtx(dctx.get(), scratch, size, frame, frame_size);
  if (ZSTD_isError(got) || got != size) return false;
  *data = scratch;
  return true;
}

bool ByteReader::ReadByte(uint8_t* b) {
  if (p_ == end_) return false;
  *b = *p_++;
  return true;
}

bool ByteReader::ReadVarint(uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ == end_) return false;
    uint8_t b = *p_++;
    if (shift == 63 && b > 1) return false;  // more than 64 bits
    result |= uint64_t{b & 0x7Fu} << shift;
    if (!(b & 0x80)) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool ByteReader::ReadBytes(size_t n, const uint8_t** data) {
  if (remaining() < n) return false;
  *data = p_;
  p_ += n;
  return true;
}

void EncodeIntColumn(std::span<const uint64_t> v, std::string& out) {
  const size_t n = v.size();
  // Pick the predictor whose residuals need the fewest significant bits in total: a proxy for
  // what the entropy coder will spend. Ties go to the lower order, which decodes faster.
  std::array<uint64_t, 3> cost{};
  for (size_t i = 0; i < n; ++i) {
    cost[0] += std::bit_width(ZigZag(v[i]));
    if (i >= 1) cost[1] += std::bit_width(ZigZag(v[i] - v[i - 1]));
    if (i >= 2) cost[2] += std::bit_width(ZigZag(v[i] - 2 * v[i - 1] + v[i - 2]));
  }
  // Head values are varints: charge them roughly as bits too.
  if (n >= 1) cost[1] += std::bit_width(ZigZag(v[0])), cost[2] += std::bit_width(ZigZag(v[0]));
  if (n >= 2) cost[2] += std::bit_width(ZigZag(v[1] - v[0]));
  int order = 0;
  for (int k = 1; k <= 2; ++k)
    if (cost[k] < cost[order]) order = k;

  out.push_back(static_cast<char>(order));
  if (order >= 1 && n >= 1) PutVarint(out, ZigZag(v[0]));
  if (order == 2 && n >= 2) PutVarint(out, ZigZag(v[1] - v[0]));
  size_t head = std::min<size_t>(order, n);
  size_t m = n - head;
  std::vector<uint64_t> z(m);
  uint64_t all = 0;
  for (size_t j = 0; j < m; ++j) {
    size_t i = j + head;
    uint64_t r = order == 0 ? v[i] : order == 1 ? v[i] - v[i - 1] : v[i] - 2 * v[i - 1] + v[i - 2];
    z[j] = ZigZag(r);
    all |= z[j];
  }
  int width = (std::bit_width(all) + 7) / 8;
  out.push_back(static_cast<char>(width));
  std::string plane(m, '\0');
  for (int b = 0; b < width; ++b) {
    for (size_t j = 0; j < m; ++j) plane[j] = static_cast<char>(z[j] >> (8 * b));
    PutSection(out, plane);
  }
}

void EncodeDoubleColumn(std::span<const uint64_t> bits, std::string& out) {
  uint64_t magnitudes = 0;
  for (uint64_t x : bits) magnitudes |= x & ~kSignBit;
  int shift = magnitudes == 0 ? 0 : std::countr_zero(magnitudes);
  out.push_back(static_cast<char>(shift));
  std::vector<uint64_t> mapped(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) mapped[i] = MapDouble(bits[i], shift);
  EncodeIntColumn(mapped, out);
}

void EncodeStepColumn(std::span<const double> steps, std::string& out) {
  bool integral = true, consecutive = true;
  for (size_t i = 0; i < steps.size() && integral; ++i) {
    double s = steps[i];
    integral =
        s == std::trunc(s) && std::fabs(s) < kMaxExactInteger && !(s == 0 && std::signbit(s));
    consecutive = consecutive && integral && (i == 0 || s == steps[i - 1] + 1);
  }
  if (integral && consecutive) {
    out.push_back(static_cast<char>(format::kStepsConsecutive));
    PutVarint(out,
              ZigZag(steps.empty() ? 0 : static_cast<uint64_t>(static_cast<int64_t>(steps[0]))));
    return;
  }
  std::vector<uint64_t> v(steps.size());
  if (integral) {
    out.push_back(static_cast<char>(format::kStepsInteger));
    for (size_t i = 0; i < steps.size(); ++i)
      v[i] = static_cast<uint64_t>(static_cast<int64_t>(steps[i]));
    EncodeIntColumn(v, out);
    return;
  }
  out.push_back(static_cast<char>(format::kStepsDouble));
  for (size_t i = 0; i < steps.size(); ++i) v[i] = std::bit_cast<uint64_t>(steps[i]);
  EncodeDoubleColumn(v, out);
}

bool DecodeIntColumn(ByteReader& in, size_t n, uint8_t* out, size_t stride) {
  return DecodeMapped(in, n, out, stride, Identity{});
}

bool SkipIntColumn(ByteReader& in, size_t n) {
  uint8_t order = 0, width = 0;
  uint64_t ignored = 0;
  if (!in.ReadByte(&order) || order > format::kMaxOrder) return false;
  if (order >= 1 && n >= 1 && !in.ReadVarint(&ignored)) return false;
  if (order == 2 && n >= 2 && !in.ReadVarint(&ignored)) return false;
  if (!in.ReadByte(&width) || width > 8) return false;
  size_t m = n - std::min<size_t>(order, n);
  for (int b = 0; b < width; ++b) {
    uint8_t tag = 0;
    uint64_t frame_size = 0;
    const uint8_t* skipped = nullptr;
    if (!in.ReadByte(&tag)) return false;
    if (tag == 0) {
      if (!in.ReadBytes(m, &skipped)) return false;
    } else if (tag != 1 || !in.ReadVarint(&frame_size) || !in.ReadBytes(frame_size, &skipped)) {
      return false;
    }
  }
  return true;
}

bool DecodeDoubleColumn(ByteReader& in, size_t n, uint8_t* out, size_t stride) {
  uint8_t shift = 0;
  if (!in.ReadByte(&shift) || shift > 62) return false;
  return DecodeMapped(in, n, out, stride, UnmapDouble{shift});
}

bool DecodeDoubleColumnRange(ByteReader& in, size_t n, size_t begin, size_t end, double* out) {
  uint8_t shift = 0;
  if (!in.ReadByte(&shift) || shift > 62) return false;
  return DecodeMappedRange(in, n, begin, end, reinterpret_cast<uint8_t*>(out), sizeof(double),
                           UnmapDouble{shift});
}

bool DecodeDoubleColumnRangeFrom(ByteReader& in, size_t n, size_t begin, size_t end,
                                 uint64_t prev_bits, uint64_t first_bits, double* out) {
  uint8_t shift = 0;
  if (!in.ReadByte(&shift) || shift > 62) return false;
  return DecodeMappedFrom(in, n, begin, end, MapDouble(prev_bits, shift),
                          MapDouble(first_bits, shift), reinterpret_cast<uint8_t*>(out),
                          UnmapDouble{shift});
}

bool SkipDoubleColumn(ByteReader& in, size_t n) {
  uint8_t shift = 0;
  if (!in.ReadByte(&shift) || shift > 62) return false;
  return SkipIntColumn(in, n);
}

bool ReadConsecutiveStart(ByteReader& in, size_t n, int64_t* s0) {
  uint64_t z = 0;
  if (!in.ReadVarint(&z)) return false;
  *s0 = static_cast<int64_t>(UnZigZag(z));
  // Every step must be an exactly representable integer, as the encoder guarantees.
  constexpr int64_t kLimit = int64_t{1} << 53;
  return !(*s0 <= -kLimit || *s0 >= kLimit ||
           (n > 0 && *s0 >= kLimit - static_cast<int64_t>(n - 1)));
}

bool DecodeStepColumn(ByteReader& in, size_t n, uint8_t* out, size_t stride) {
  uint8_t mode = 0;
  if (!in.ReadByte(&mode)) return false;
  switch (mode) {
    case format::kStepsConsecutive: {
      int64_t s0 = 0;
      if (!ReadConsecutiveStart(in, n, &s0)) return false;
      for (size_t i = 0; i < n; ++i) {
        double s = static_cast<double>(s0 + static_cast<int64_t>(i));
        std::memcpy(out + i * stride, &s, sizeof s);
      }
      return true;
    }
    case format::kStepsInteger:
      return DecodeMapped(in, n, out, stride, IntToDouble{});
    case format::kStepsDouble:
      return DecodeDoubleColumn(in, n, out, stride);
    default:
      return false;
  }
}

}  // namespace nereid::series::internal
