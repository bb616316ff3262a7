// RateShare: request-rate state shared by all servers that use one database, so that a user's
// rate limit holds across them rather than per server. Only backends that several servers share
// provide it (PostgreSQL); Store::RateSharing() returns nullptr otherwise (SQLite: one server,
// whose in-memory limiter is exact).
//
// The shared state is GCRA's theoretical arrival time (TAT) per key, as in server/ratelimit.h.
// A server does not consult it per request: it counts what it admits locally and, every few
// hundred milliseconds, exchanges that "charge" for every key's current "debt" (how far its TAT
// is ahead of now). Times travel as durations relative to the shared clock, so the servers' own
// clocks need not agree.
//
// A charge is the GCRA update of the requests it stands for, composed: each admitted request at
// time t maps a TAT x to max(x, t) + T, and a run of them composes to x -> max(x + us, now +
// floor_us) (us = the sum of the intervals, now + floor_us = the TAT they alone would leave). So
// applying a charge late gives the TAT that applying each request in time would have given: the
// shared state is exact for one server, and for several only their interleaving is approximated
// (never below the exact TAT).
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
    int64_t floor_us = 0;  // their TAT from idle, relative to now (may be negative)
  };
  struct Debt {
    uint64_t key = 0;
    int64_t us = 0;  // > 0: the key's TAT minus now; keys without debt are left out
  };

  // Applies each charge to its key's shared TAT (tat = max(tat + us, now + floor_us)) and
  // returns the debt of every key of `space` that has one, charges included. `space` keeps
  // limiters apart (API requests, login attempts). Charges whose keys repeat are composed in
  // order. On error (e.g.
  // Unavailable: the database is unreachable) nothing was charged; the caller keeps its charges
  // for the next exchange.
  virtual Result<std::vector<Debt>> Exchange(int space, const std::vector<Charge>& charges) = 0;
};

}  // namespace nereid::store
