// Run liveness: a run whose state is "running" but whose last heartbeat (ping_time) is older than
// a threshold is reported as "not responding". Derived at read time from ping_time, never stored,
// so a run is "running" again as soon as its pings resume.
//
// Thread-safety: free functions over values.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "query/filter.h"
#include "store/types.h"

namespace nereid::server {

inline constexpr std::string_view kNotResponding = "not responding";

// True if `run` is running and its last ping is older than now_us - threshold_us.
bool IsNotResponding(const store::RunInfo& run, int64_t now_us, int64_t threshold_us);

// Sets "state" to "not responding" in a RunJson when the run is not responding.
void ApplyLiveness(nlohmann::json& run_json, const store::RunInfo& run, int64_t now_us,
                   int64_t threshold_us);

// The same for a run's fields as rendered by GET /runs/{id}/fields: the sys/state entry of
// `rendered` (parallel to `fields`) becomes "not responding" when sys/ping_time is too old.
void ApplyLivenessToFields(nlohmann::json& rendered, const std::vector<store::Field>& fields,
                           int64_t now_us, int64_t threshold_us);

// Rewrites, in place, comparisons of sys/state with = or != so that "not responding" and
// "running" mean the derived states: `sys/state = "not responding"` becomes
// `(sys/state = "running" and sys/ping_time < cutoff)`, `sys/state = "running"` becomes
// `(sys/state = "running" and sys/ping_time >= cutoff)`, and != their negations.
// cutoff_us = now - threshold.
void RewriteLivenessFilter(std::unique_ptr<query::Expr>& expr, int64_t cutoff_us);

}  // namespace nereid::server
