// Request rate limiting with GCRA (the generic cell rate algorithm, a.k.a. a virtual-scheduling
// token bucket). One 64-bit "theoretical arrival time" per key is the whole state, so a check is
// O(1) in time and memory. Hand-written rather than taken from a library because it is product
// core (every API request passes through it, its headers are a client-facing contract) and no
// Debian-packaged C++ library offers a sharded, clock-injectable GCRA.
//
// Several servers on one database (PostgreSQL): ShareThrough makes a limiter also count what it
// admits, and Sync (every kRateSyncPeriod, from a RateSyncLoop) trades those counts for the
// other servers' through store::RateShare. Requests never wait for the database; the limit then
// holds across servers within a bound stated in src/store_postgres/README.md ("Rate limits
// across servers"). Without sharing (SQLite, one server) nothing changes.
//
// Thread-safety: RateLimiter is safe to use from many threads. Keys are spread over kShards
// shards, each with its own mutex, so requests of different users rarely contend and never wait
// on a global lock. Sync runs on one thread at a time.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "nereid/status.h"
#include "store/rate_share.h"

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
  // Forgets `key` (its limit changed): the next request starts from a full allowance. Local
  // only: with sharing, the next Sync brings back what other servers charged.
  void Reset(uint64_t key);

  // Cross-server mode. `share` (not owned, outlives this limiter) is where the servers meet;
  // `space` separates limiters that share one database (kRequestSpace, kLoginSpace). Call once,
  // before the first request.
  void ShareThrough(store::RateShare* share, int space);
  // Publishes what this server admitted since the last Sync and adopts every key's shared state.
  // Without sharing: does nothing. On failure (database unreachable) the counts are kept for the
  // next Sync and each server limits on its own meanwhile.
  Status Sync();

  static constexpr size_t kShards = 64;
  static constexpr int kRequestSpace = 0;
  static constexpr int kLoginSpace = 1;

 private:
  struct KeyState {
    int64_t tat_us = 0;      // theoretical arrival time, this server's view
    // Sharing: the requests admitted here since the last Sync, not yet published, as the
    // composed GCRA update x -> max(x + pending_us, pending_floor_us) (store/rate_share.h).
    int64_t pending_us = 0;
    int64_t pending_floor_us = 0;  // local clock; meaningful while pending_us > 0
    // The echo tolerance of the last Sync that published this server's admissions of the key:
    // their echo can come back in any later exchange, not only the one that sent them.
    int64_t echo_us = 0;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<uint64_t, KeyState> state;  // guarded by mu
  };
  RateDecision Decide(uint64_t key, const RateLimit& limit, bool count);
  Shard& ShardOf(uint64_t key);
  size_t ShardIndex(uint64_t key) const;

  std::function<int64_t()> now_us_;
  std::array<Shard, kShards> shards_;
  store::RateShare* share_ = nullptr;  // set before use, then read-only
  int space_ = 0;
  int64_t last_exchange_us_ = 0;  // how long the previous Sync's exchange took (Sync's thread only)
};

// How often a server syncs its shared limiters: the lag of one server's view of the others is at
// most two periods plus two exchanges (see the README's bound).
inline constexpr std::chrono::milliseconds kRateSyncPeriod{200};

// A thread that calls Sync on each limiter every `period` until destroyed. Logs a warning when
// the exchanges start failing and again when they recover (not once per period).
class RateSyncLoop {
 public:
  RateSyncLoop(std::vector<RateLimiter*> limiters, std::chrono::milliseconds period);
  ~RateSyncLoop();  // stops and joins; a last Sync is not attempted
  RateSyncLoop(const RateSyncLoop&) = delete;
  RateSyncLoop& operator=(const RateSyncLoop&) = delete;

 private:
  void Run();

  std::vector<RateLimiter*> limiters_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace nereid::server
