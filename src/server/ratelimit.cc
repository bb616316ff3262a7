#include "server/ratelimit.h"

#include <algorithm>

namespace nereid::server {
namespace {
constexpr int64_t kMinuteUs = 60'000'000;
}  // namespace

RateLimiter::RateLimiter(std::function<int64_t()> now_us) : now_us_(std::move(now_us)) {}

RateLimiter::Shard& RateLimiter::ShardOf(uint64_t key) {
  // Fibonacci hashing: user ids are small consecutive integers; spread them over the shards.
  return shards_[(key * 0x9E3779B97F4A7C15ull) >> 58];
}

RateDecision RateLimiter::Decide(uint64_t key, const RateLimit& limit, bool count) {
  RateDecision d;
  d.limit = limit.per_minute;
  if (limit.unlimited()) {
    d.remaining = UINT32_MAX;
    return d;
  }
  // Emission interval T (rounded up, so the rate never exceeds the limit) and tolerance
  // tau = T * burst: a request at time t is allowed if max(tat, t) + T - t <= tau.
  const int64_t interval = (kMinuteUs + limit.per_minute - 1) / limit.per_minute;
  const int64_t tolerance = interval * std::max<int64_t>(limit.burst, 1);
  const int64_t now = now_us_();
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.tat_us.find(key);
  int64_t tat = it == shard.tat_us.end() ? now : std::max(it->second, now);
  int64_t new_tat = tat + interval;
  if (new_tat - now > tolerance) {
    d.allowed = false;
    d.retry_after_us = new_tat - tolerance - now;
    d.remaining = 0;
    d.reset_us = tat - now;
    return d;
  }
  if (count) {
    if (it == shard.tat_us.end()) {
      shard.tat_us.emplace(key, new_tat);
    } else {
      it->second = new_tat;
    }
  } else {
    new_tat = tat;  // a peek reports the state as it is
  }
  d.remaining = static_cast<uint32_t>((tolerance - (new_tat - now)) / interval);
  d.reset_us = new_tat - now;
  return d;
}

RateDecision RateLimiter::Acquire(uint64_t key, const RateLimit& limit) {
  return Decide(key, limit, /*count=*/true);
}

RateDecision RateLimiter::Peek(uint64_t key, const RateLimit& limit) {
  return Decide(key, limit, /*count=*/false);
}

void RateLimiter::Reset(uint64_t key) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  shard.tat_us.erase(key);
}

}  // namespace nereid::server
