#include "series/column_codec.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>

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

// Rebuilds a column from its head values and W byte planes of m residuals each.
template <int W, typename F>
void Rebuild(int order, const uint8_t* planes, size_t m, uint64_t v0, uint64_t d1, size_t n,
             uint8_t* out, size_t stride, F f) {
  auto residual = [planes, m](size_t j) {
    uint64_t z = 0;
    for (int b = 0; b < W; ++b) z |= uint64_t{planes[b * m + j]} << (8 * b);
    return UnZigZag(z);
  };
  auto put = [out, stride, f](size_t i, uint64_t v) {
    uint64_t x = f(v);
    std::memcpy(out + i * stride, &x, sizeof x);
  };
  if (order == 0) {
    for (size_t i = 0; i < n; ++i) put(i, residual(i));
    return;
  }
  if (n == 0) return;
  uint64_t v = v0;
  put(0, v);
  if (order == 1) {
    for (size_t j = 0; j < m; ++j) {
      v += residual(j);
      put(j + 1, v);
    }
    return;
  }
  if (n == 1) return;
  uint64_t d = d1;
  v += d;
  put(1, v);
  for (size_t j = 0; j < m; ++j) {
    d += residual(j);
    v += d;
    put(j + 2, v);
  }
}

template <typename F>
void RebuildAnyWidth(int width, int order, const uint8_t* planes, size_t m, uint64_t v0,
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

template <typename F>
bool DecodeMapped(ByteReader& in, size_t n, uint8_t* out, size_t stride, F f) {
  uint8_t order = 0, width = 0;
  uint64_t v0 = 0, d1 = 0;
  if (!in.ReadByte(&order) || order > format::kMaxOrder) return false;
  if (order >= 1 && n >= 1) {
    if (!in.ReadVarint(&v0)) return false;
    v0 = UnZigZag(v0);
  }
  if (order == 2 && n >= 2) {
    if (!in.ReadVarint(&d1)) return false;
    d1 = UnZigZag(d1);
  }
  if (!in.ReadByte(&width) || width > 8) return false;
  size_t m = n - std::min<size_t>(order, n);
  const uint8_t* planes = nullptr;
  if (width > 0 && !in.ReadBytes(m * width, &planes)) return false;  // m <= 2^20: no overflow
  RebuildAnyWidth(width, order, planes, m, v0, d1, n, out, stride, f);
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

void EncodeIntColumn(std::span<const uint64_t> v, std::string& out, std::vector<size_t>* cuts) {
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
  for (int b = 0; b < width; ++b) {
    if (cuts) cuts->push_back(out.size());
    size_t at = out.size();
    out.resize(at + m);
    char* p = out.data() + at;
    for (size_t j = 0; j < m; ++j) p[j] = static_cast<char>(z[j] >> (8 * b));
  }
  if (cuts && width > 0) cuts->push_back(out.size());
}

void EncodeDoubleColumn(std::span<const uint64_t> bits, std::string& out,
                        std::vector<size_t>* cuts) {
  uint64_t magnitudes = 0;
  for (uint64_t x : bits) magnitudes |= x & ~kSignBit;
  int shift = magnitudes == 0 ? 0 : std::countr_zero(magnitudes);
  out.push_back(static_cast<char>(shift));
  std::vector<uint64_t> mapped(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) mapped[i] = MapDouble(bits[i], shift);
  EncodeIntColumn(mapped, out, cuts);
}

void EncodeStepColumn(std::span<const double> steps, std::string& out, std::vector<size_t>* cuts) {
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
    EncodeIntColumn(v, out, cuts);
    return;
  }
  out.push_back(static_cast<char>(format::kStepsDouble));
  for (size_t i = 0; i < steps.size(); ++i) v[i] = std::bit_cast<uint64_t>(steps[i]);
  EncodeDoubleColumn(v, out, cuts);
}

bool DecodeIntColumn(ByteReader& in, size_t n, uint8_t* out, size_t stride) {
  return DecodeMapped(in, n, out, stride, Identity{});
}

bool DecodeDoubleColumn(ByteReader& in, size_t n, uint8_t* out, size_t stride) {
  uint8_t shift = 0;
  if (!in.ReadByte(&shift) || shift > 62) return false;
  return DecodeMapped(in, n, out, stride, UnmapDouble{shift});
}

bool DecodeStepColumn(ByteReader& in, size_t n, uint8_t* out, size_t stride) {
  uint8_t mode = 0;
  if (!in.ReadByte(&mode)) return false;
  switch (mode) {
    case format::kStepsConsecutive: {
      uint64_t z = 0;
      if (!in.ReadVarint(&z)) return false;
      int64_t s0 = static_cast<int64_t>(UnZigZag(z));
      // Every step must be an exactly representable integer, as the encoder guarantees.
      constexpr int64_t kLimit = int64_t{1} << 53;
      if (s0 <= -kLimit || s0 >= kLimit || (n > 0 && s0 >= kLimit - static_cast<int64_t>(n - 1)))
        return false;
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
