// CRC-32C (Castagnoli), the checksum of spool records. Debian 12 packages no crc32c library and
// zlib's crc32 is the other polynomial, so it is written here: SSE4.2 instruction when the CPU has
// it (about 8 bytes per cycle), a table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nereid::client {

uint32_t Crc32c(const void* data, size_t n);

// Crc32c of the 32 bytes w0..w3 (each little-endian) followed by tail[0, n). For the log call's
// hot path: the caller has a record's fixed part in registers, and CRC-ing it from memory
// right after storing it cost a store-forwarding stall and two calls (a third of the call).
uint32_t Crc32cWordsThen(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, const void* tail,
                         size_t n);

// The form stored in a spool record: rotated and offset (as LevelDB does, so a CRC computed over
// bytes that embed CRCs stays strong), with the low bit forced to 1 so a committed record never
// has a zero CRC field (zero means "not written yet").
inline uint32_t MaskCrc(uint32_t crc) {
  uint32_t m = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
  return m | 1u;
}

}  // namespace nereid::client
