// Constants of the series chunk format. Spec: docs/formats/series-chunk.md; keep the two in step.
//
// Thread-safety: constants only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nereid::series::format {

inline constexpr uint8_t kMagic = 0x4E;  // 'N'
// Float chunks are written as version 2 (version 1 plus a block index); string chunks as version 1.
// Decoders accept both versions for float chunks.
inline constexpr uint8_t kVersion = 1;
inline constexpr uint8_t kVersionBlockIndex = 2;

// Points per block of a version-2 float chunk's index. A chart bucket edge inside a chunk costs
// the decode of one block, not of the whole chunk; 512 keeps the index at ~0.09 bytes per point.
inline constexpr uint32_t kBlockPoints = 512;
// Decoders refuse smaller blocks, which bounds the inflated index at 2^14 entries (704 KiB).
inline constexpr uint32_t kMinBlockPoints = 64;
// One index entry: uint32 nan_count, then min, max, sum, first, last as IEEE-754 doubles, all
// little-endian.
inline constexpr size_t kBlockEntryBytes = 4 + 5 * 8;

// Byte 2 of a chunk: what its points hold.
inline constexpr uint8_t kKindFloat = 1;
inline constexpr uint8_t kKindString = 2;

// Byte 3 of a chunk: flags, all reserved. A non-zero byte is a format this decoder does not know.

// A decoder refuses a chunk declaring more points, so a hostile count cannot make it allocate
// more than ~24 MiB of points. Encoders must not write bigger chunks.
inline constexpr uint32_t kMaxChunkPoints = 1u << 20;
// Strings have no per-point bound; this caps what a hostile header can make a decoder allocate.
inline constexpr size_t kMaxStringValueBytes = size_t{64} << 20;

// Step column modes.
inline constexpr uint8_t kStepsConsecutive = 0;  // zigzag varint s0; step i = s0 + i
inline constexpr uint8_t kStepsInteger = 1;      // an integer column of int64 steps
inline constexpr uint8_t kStepsDouble = 2;       // a double column

// Integer column predictor orders (residual r_i = v_i, v_i - v_{i-1}, or a delta-of-delta).
inline constexpr uint8_t kMaxOrder = 2;

// zstd level 3 measured within 1% of levels 9-19 on training curves at a fraction of the cost.
inline constexpr int kZstdLevel = 3;
inline constexpr int kZstdMinMatch = 7;

}  // namespace nereid::series::format
