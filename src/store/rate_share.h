// RateShare: request-rate state shared by all servers that use one database, so that a user's
// rate limit holds across them rather than per server. Only backends that several servers share
// provide it (PostgreSQL); Store::RateSharing() returns nullptr otherwise (SQLite: one server,
// whose in-memory limiter is exact).
//
// The shared state is GCRA's theoretical arrival time (TAT) per key, as in server/ratelimit.h.
// A server does not consult it per request: it counts what it admits locally and, every few
// hundred milliseconds, exchanges that "charge" (admitted requests x emission interval) for every
// key's current "debt" (how far its TAT is ahead of now). Times travel as durations relative to
// the shared clock, so the servers' own clocks need not agree.
//
// Thread-safety: Exchange may be called from any thread.
#pragma once

#include <cstdint>
#include <vector>

#include "nereid/status.h"

namespace nereid::store {

class RateShare {
 public:
  virtual ~RateShare() = default;

  struct Charge {
    uint64_t key = 0;
    int64_t us = 0;  // > 0: emission intervals of the requests admitted since the last exchange
  };
  struct Debt {
    uint64_t key = 0;
    int64_t us = 0;  // > 0: the key's TAT minus now; keys without debt are left out
  };

  // Adds each charge to its key's shared TAT (counted from now if the key was idle) and returns
  // the debt of every key of `space` that has one, charges included. `space` keeps limiters apart
  // (API requests, login attempts). Charges whose keys repeat are added up. On error (e.g.
  // Unavailable: the database is unreachable) nothing was charged; the caller keeps its charges
  // for the next exchange.
  virtual Result<std::vector<Debt>> Exchange(int space, const std::vector<Charge>& charges) = 0;
};

}  // namespace nereid::store
