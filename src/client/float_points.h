// The payload of a kFloatPoints record: many float points of one path in one record, laid out as
// packed arrays so that a log call writes it with a few memcpy calls and the sender reads it back
// the same way (docs/formats/spool.md, "float points"):
//
//   u32       n (>= 1)
//   f64[n]    values
//   f64[n]    steps                 only with kFlagHasStep
//   i64[n]    times, µs             with kFlagPerPointTime; else one i64 time for all n points
//   bytes     path (the rest)
//
// The payload starts 12 bytes into an 8-aligned record, so the arrays are 8-aligned in the spool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "client/spool_format.h"

namespace nereid::client {

// Payload bytes of n points (64-bit: n comes from a file when decoding).
inline constexpr uint64_t FloatPointsPayloadBytes(uint64_t n, bool has_step, bool per_point_time,
                                                  uint64_t path_bytes) {
  return 4 + 8 * n * (1 + (has_step ? 1 : 0) + (per_point_time ? 1 : 0)) +
         (per_point_time ? 0 : 8) + path_bytes;
}

// Writes the payload of n points into `out` (FloatPointsPayloadBytes bytes). `steps` and `times`
// are null or n entries; without `times` every point has `time_us`.
void PutFloatPoints(char* out, std::string_view path, const double* values, const double* steps,
                    const int64_t* times, uint32_t n, int64_t time_us);
// The same into a string, for tests and tools.
std::string EncodeFloatPoints(std::string_view path, const double* values, const double* steps,
                              const int64_t* times, uint32_t n, int64_t time_us);

// A decoded payload; the pointers point into it (unaligned reads need memcpy).
struct FloatPointsView {
  uint32_t n = 0;
  const char* values = nullptr;
  const char* steps = nullptr;  // null without kFlagHasStep
  const char* times = nullptr;  // n times with kFlagPerPointTime, else one
  bool per_point_time = false;
  std::string_view path;
};
// False when the payload is too short for its count or the count is 0.
bool DecodeFloatPoints(std::string_view payload, uint8_t flags, FloatPointsView* out);

}  // namespace nereid::client
