// Request rate limiting with GCRA (the generic cell rate algorithm, a.k.a. a virtual-scheduling
// token bucket). One 64-bit "theoretical arrival time" per key is the whole state, so a check is
// O(1) in time and memory. Hand-written rather than taken from a library because it is product
// core (every API request passes through it, its headers are a client-facing contract) and no
// Debian-packaged C++ library offers a sharded, clock-injectable GCRA.
//
// Thread-safety: RateLimiter is safe to use from many threads. Keys are spread over kShards
// shards, each with its own mutex, so requests of different users rarely contend and never wait
// on a global lock.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace nereid::server {

// A rate: `per_minute` requests per minute on average, up to `burst` at once from idle.
// per_minute == 0 means unlimited. burst >= 1 (0 is treated as 1).
struct RateLimit {
  uint32_t per_minute = 1000;
  uint32_t burst = 100;
  bool unlimited() const { return per_minute == 0; }
  bool operator==(const RateLimit&) const = default;
};

struct RateDecision {
  bool allowed = true;
  uint32_t limit = 0;          // per_minute of the limit applied
  uint32_t remaining = 0;      // requests that would be allowed right now
  int64_t reset_us = 0;        // until the allowance is full again (>= 0)
  int64_t retry_after_us = 0;  // refused: until the next request will be allowed
};

class RateLimiter {
 public:
  // `now_us`: a monotonic clock in microseconds (tests pass a controllable one). Copied.
  explicit RateLimiter(std::function<int64_t()> now_us);

  // Counts one request of `key` against `limit` if it fits; a refused request is not counted
  // (a client that ignores 429 is not pushed further into the future).
  RateDecision Acquire(uint64_t key, const RateLimit& limit);
  // The state of `key` without counting a request (for GET /limits).
  RateDecision Peek(uint64_t key, const RateLimit& limit);
  // Forgets `key` (its limit changed): the next request starts from a full allowance.
  void Reset(uint64_t key);

  static constexpr size_t kShards = 64;

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<uint64_t, int64_t> tat_us;  // guarded by mu: theoretical arrival time
  };
  RateDecision Decide(uint64_t key, const RateLimit& limit, bool count);
  Shard& ShardOf(uint64_t key);

  std::function<int64_t()> now_us_;
  std::array<Shard, kShards> shards_;
};

}  // namespace nereid::server
