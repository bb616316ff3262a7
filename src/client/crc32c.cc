#include "client/crc32c.h"

#include <nmmintrin.h>

#include <array>
#include <cstring>

namespace nereid::client {
namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t Software(uint32_t crc, const uint8_t* p, size_t n) {
  while (n--) crc = kTable[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

__attribute__((target("sse4.2"))) uint32_t Hardware(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

__attribute__((target("sse4.2"))) uint32_t HardwareWordsThen(uint64_t w0, uint64_t w1, uint64_t w2,
                                                             uint64_t w3, const uint8_t* p,
                                                             size_t n) {
  uint64_t c = 0xffffffffu;
  c = _mm_crc32_u64(c, w0);
  c = _mm_crc32_u64(c, w1);
  c = _mm_crc32_u64(c, w2);
  c = _mm_crc32_u64(c, w3);
  return ~Hardware(static_cast<uint32_t>(c), p, n);
}

const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");

}  // namespace

uint32_t Crc32c(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t crc = 0xffffffffu;
  crc = kHaveSse42 ? Hardware(crc, p, n) : Software(crc, p, n);
  return ~crc;
}

uint32_t Crc32cWordsThen(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, const void* tail,
                         size_t n) {
  const auto* p = static_cast<const uint8_t*>(tail);
  if (kHaveSse42) return HardwareWordsThen(w0, w1, w2, w3, p, n);
  uint8_t head[32];
  const uint64_t w[4] = {w0, w1, w2, w3};
  for (int i = 0; i < 4; ++i) {
    for (int b = 0; b < 8; ++b) head[i * 8 + b] = static_cast<uint8_t>(w[i] >> (8 * b));
  }
  return ~Software(Software(0xffffffffu, head, 32), p, n);
}

}  // namespace nereid::client
