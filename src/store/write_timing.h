// Where a write's time went inside a group-commit backend, for the server's per-stage metrics
// (nereid_ingest_stage_seconds). Header-only so that a backend fills it without a new link
// dependency.
//
// Thread-safety: thread-local. A backend's blocking write call (Store::Ingest and friends) sets
// it on the calling thread just before returning; the caller reads it right after. A backend
// without a group-commit writer leaves it untouched, so callers reset it (`= {}`) first and skip
// zero values.
#pragma once

#include <chrono>

namespace nereid::store {

struct WriteTiming {
  using TimePoint = std::chrono::steady_clock::time_point;
  TimePoint queued;     // the write was queued for the writer thread
  TimePoint started;    // the writer began the transaction holding it (and other writes)
  TimePoint applied;    // every write of that transaction applied; COMMIT begins
  TimePoint committed;  // COMMIT returned (durable per the store's synchronous setting)
};

inline thread_local WriteTiming last_write_timing;

}  // namespace nereid::store
