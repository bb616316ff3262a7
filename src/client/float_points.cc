#include "client/float_points.h"

#include <cstring>

namespace nereid::client {

void PutFloatPoints(char* out, std::string_view path, const double* values, const double* steps,
                    const int64_t* times, uint32_t n, int64_t time_us) {
  std::memcpy(out, &n, 4);
  char* p = out + 4;
  std::memcpy(p, values, size_t{n} * 8);
  p += size_t{n} * 8;
  if (steps != nullptr) {
    std::memcpy(p, steps, size_t{n} * 8);
    p += size_t{n} * 8;
  }
  if (times != nullptr) {
    std::memcpy(p, times, size_t{n} * 8);
    p += size_t{n} * 8;
  } else {
    std::memcpy(p, &time_us, 8);
    p += 8;
  }
  std::memcpy(p, path.data(), path.size());
}

std::string EncodeFloatPoints(std::string_view path, const double* values, const double* steps,
                              const int64_t* times, uint32_t n, int64_t time_us) {
  std::string out(FloatPointsPayloadBytes(n, steps != nullptr, times != nullptr, path.size()),
                  '\0');
  PutFloatPoints(out.data(), path, values, steps, times, n, time_us);
  return out;
}

bool DecodeFloatPoints(std::string_view payload, uint8_t flags, FloatPointsView* out) {
  if (payload.size() < 4) return false;
  uint32_t n;
  std::memcpy(&n, payload.data(), 4);
  const bool has_step = (flags & kFlagHasStep) != 0;
  const bool per_point_time = (flags & kFlagPerPointTime) != 0;
  const uint64_t fixed = FloatPointsPayloadBytes(n, has_step, per_point_time, 0);
  if (n == 0 || fixed > payload.size()) return false;
  const char* p = payload.data() + 4;
  out->n = n;
  out->values = p;
  p += uint64_t{n} * 8;
  out->steps = has_step ? p : nullptr;
  if (has_step) p += uint64_t{n} * 8;
  out->times = p;
  out->per_point_time = per_point_time;
  out->path = payload.substr(fixed);
  return true;
}

}  // namespace nereid::client
