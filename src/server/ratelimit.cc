#include "server/ratelimit.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

namespace nereid::server {
namespace {
constexpr int64_t kMinuteUs = 60'000'000;
// How far the shared state may lie beyond this server's own before it counts as other servers'
// requests, at least (README: "Rate limits across servers" adds it to the bound). The echo's
// shift is at most the longer of the two exchanges it spans, so a slow exchange (a loaded
// machine or database) widens it for that sync.
constexpr int64_t kOwnEchoUs = 100'000;
}  // namespace

RateLimiter::RateLimiter(std::function<int64_t()> now_us) : now_us_(std::move(now_us)) {}

size_t RateLimiter::ShardIndex(uint64_t key) const {
  // Fibonacci hashing: user ids are small consecutive integers; spread them over the shards.
  return (key * 0x9E3779B97F4A7C15ull) >> 58;
}

RateLimiter::Shard& RateLimiter::ShardOf(uint64_t key) {
  return shards_[ShardIndex(key)];
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
  auto it = shard.state.find(key);
  int64_t tat = it == shard.state.end() ? now : std::max(it->second.tat_us, now);
  int64_t new_tat = tat + interval;
  if (new_tat - now > tolerance) {
    d.allowed = false;
    d.retry_after_us = new_tat - tolerance - now;
    d.remaining = 0;
    d.reset_us = tat - now;
    return d;
  }
  if (count) {
    KeyState& state = it == shard.state.end() ? shard.state[key] : it->second;
    state.tat_us = new_tat;
    if (share_ != nullptr) {
      // Compose this request's update (x -> max(x, now) + interval) onto the pending ones.
      state.pending_floor_us =
          state.pending_us == 0 ? now + interval
                                : std::max(state.pending_floor_us, now) + interval;
      state.pending_us += interval;
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
  shard.state.erase(key);
}

void RateLimiter::ShareThrough(store::RateShare* share, int space) {
  share_ = share;
  space_ = space;
}

Status RateLimiter::Sync() {
  if (share_ == nullptr) return Status::Ok();
  std::vector<store::RateShare::Charge> charges;
  const int64_t sent_at = now_us_();
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (auto& [key, state] : shard.state) {
      if (state.pending_us > 0) {
        charges.push_back({key, state.pending_us, state.pending_floor_us - sent_at});
        state.pending_us = 0;
      }
    }
  }
  Result<std::vector<store::RateShare::Debt>> debts = share_->Exchange(space_, charges);
  const int64_t took = std::max<int64_t>(now_us_() - sent_at, 0);
  const int64_t own_echo = std::max(kOwnEchoUs, 2 * std::max(took, last_exchange_us_));
  last_exchange_us_ = took;
  std::unordered_set<uint64_t> charging;
  for (const auto& c : charges) charging.insert(c.key);
  if (!debts.ok()) {
    for (const auto& c : charges) {  // still ours to publish, before what came meanwhile
      Shard& shard = ShardOf(c.key);
      std::lock_guard lock(shard.mu);
      KeyState& state = shard.state[c.key];
      const int64_t floor = c.floor_us + sent_at;
      state.pending_floor_us = state.pending_us == 0
                                   ? floor
                                   : std::max(floor + state.pending_us, state.pending_floor_us);
      state.pending_us += c.us;
    }
    return debts.status();
  }
  // The shared debt already holds every charge published so far (ours included); what this
  // server admitted during the exchange is still pending and comes on top. Debts are read back
  // against the time the charges were sent (their floors were measured from it), so this
  // server's own requests come back exactly where its limiter had them; other servers' debts
  // then look at most one exchange's duration smaller (the `2e` in the README's bound).
  const int64_t now = sent_at;
  std::array<std::unordered_map<uint64_t, int64_t>, kShards> by_shard;
  for (const auto& d : *debts) by_shard[ShardIndex(d.key)][d.key] = d.us;
  for (size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    std::unordered_map<uint64_t, int64_t>& owed = by_shard[i];
    std::lock_guard lock(shard.mu);
    for (auto it = shard.state.begin(); it != shard.state.end();) {
      auto debt = owed.find(it->first);
      int64_t shared = 0;
      if (debt != owed.end()) {
        shared = std::max<int64_t>(debt->second, 0);
        owed.erase(debt);
      }
      if (shared == 0 && it->second.pending_us == 0) {
        it = shard.state.erase(it);  // idle everywhere: same as a key never seen
        continue;
      }
      KeyState& state = it->second;
      const int64_t adopted =
          state.pending_us == 0
              ? now + shared
              : std::max(now + shared + state.pending_us, state.pending_floor_us);
      // This server's own admissions come back through the database shifted by the difference
      // of two exchanges' latencies (the shared clock is read when each statement starts). For
      // a key this server has charged, a shared state within that charge's echo tolerance of
      // ours is the echo: keep ours, which is exact for what we admitted (and is what the
      // Retry-After we answered was computed from, so a client waiting it out is admitted).
      // Other servers' requests move the shared state further and are adopted; a server that
      // never charged the key adopts it as it is.
      const bool ours = charging.count(it->first) > 0;
      if (ours) state.echo_us = own_echo;
      if (state.echo_us == 0 || adopted > state.tat_us + state.echo_us) {
        state.tat_us = adopted;
      }
      ++it;
    }
    for (const auto& [key, us] : owed) {
      if (us > 0) shard.state[key] = KeyState{now + us, 0};
    }
  }
  return Status::Ok();
}

RateSyncLoop::RateSyncLoop(std::vector<RateLimiter*> limiters, std::chrono::milliseconds period)
    : limiters_(std::move(limiters)), period_(period), thread_([this] { Run(); }) {}

RateSyncLoop::~RateSyncLoop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RateSyncLoop::Run() {
  bool failing = false;
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, period_, [this] { return stop_; })) {
    lock.unlock();
    Status status;
    for (RateLimiter* limiter : limiters_) {
      Status s = limiter->Sync();
      if (!s.ok() && status.ok()) status = s;
    }
    if (!status.ok() && !failing) {
      spdlog::warn(
          "rate limits: cannot share counts with the other servers ({}); each server limits on "
          "its own until the database answers",
          status.ToString());
    } else if (status.ok() && failing) {
      spdlog::info("rate limits: sharing with the other servers again");
    }
    failing = !status.ok();
    lock.lock();
  }
}

}  // namespace nereid::server
