// Constants of the spool's on-disk format. Spec: docs/formats/spool.md (keep the two in step).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>

namespace nereid::client {

// A segment file "seg-<8 digits>.nrs" starts with this header:
//   0  char[8]  magic "NRDSPOOL"
//   8  u32      format version (1)
//  12  u32      segment number (1, 2, ...)
//  16  i64      creation time, microseconds since the epoch
//  24  u64      reserved (0)
inline constexpr char kSegmentMagic[8] = {'N', 'R', 'D', 'S', 'P', 'O', 'O', 'L'};
inline constexpr uint32_t kSegmentVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 32;

// Each record starts at an 8-byte aligned offset:
//   0  u32  masked CRC-32C of bytes [4, 12 + length); 0 = not (yet) written
//   4  u32  payload length
//   8  u8   type (RecordType)
//   9  u8   flags (per type)
//  10  u16  reserved (0)
//  12  payload, then zero padding to the next multiple of 8
inline constexpr size_t kRecordHeaderBytes = 12;
inline constexpr size_t kRecordAlign = 8;
// Room always left at the end of a segment for the kEnd record that seals it.
inline constexpr size_t kSegmentTailReserve = 16;
// Largest payload a record may carry (a string value is at most 1 MiB plus its path).
inline constexpr uint32_t kMaxPayloadBytes = 4u << 20;

inline constexpr size_t RecordSpan(size_t payload) {
  return (kRecordHeaderBytes + payload + kRecordAlign - 1) & ~(kRecordAlign - 1);
}

enum class RecordType : uint8_t {
  kEnd = 1,            // seals the segment; the next record is in the next segment
  kFloatPoint = 2,     // f64 value, f64 step, i64 time_us, path bytes; flag 1: has step
  kStringPoint = 3,    // f64 step, i64 time_us, u32 path length, path, value bytes; flag 1
  kAssign = 4,         // u8 value kind, u32 path length, path, value (see ValueKind)
  kAddStrings = 5,     // u32 path length, path, then (u32 length, bytes) per string
  kRemoveStrings = 6,  // same layout as kAddStrings
  kFilePoint = 7,      // f64 step, i64 time_us, u32 path length, path, file ref; flag 1
  kFloatPoints = 8,    // u32 n, f64 values[n], [f64 steps[n]], i64 time or times[n], path bytes;
                       // flags 1 (steps) and 2 (one time per point). See float_points.h.
};
inline constexpr uint8_t kLastRecordType = 8;
inline constexpr uint8_t kFlagHasStep = 1;
inline constexpr uint8_t kFlagPerPointTime = 2;  // kFloatPoints: n times instead of one
// A kFloatPoints record spans at most this many bytes, and at most 1/64 of a segment: a
// reservation that crosses a segment's end leaves its space there unused, so records must stay
// small against the segment; 256 KiB holds 32,768 points without steps and costs nothing per
// point to split at.
inline constexpr size_t kMaxFloatPointsSpan = 256u << 10;

// Value kinds of kAssign. Numbers are 8 bytes little-endian; strings are the rest of the payload;
// a file ref is three (u32 length, bytes) strings: sha256 hex, name, content type.
enum class ValueKind : uint8_t {
  kFloat = 1,
  kInt = 2,
  kBool = 3,
  kString = 4,
  kDatetimeUs = 5,
  kFile = 6,
};

// A place in a writer's spool: segment number and byte offset in it. Positions order records.
struct Position {
  uint32_t segment = 1;
  uint64_t offset = kSegmentHeaderBytes;
  auto operator<=>(const Position&) const = default;
};

}  // namespace nereid::client
