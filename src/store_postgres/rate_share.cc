#include "store_postgres/rate_share.h"

#include <algorithm>
#include <map>

namespace nereid::store_postgres {
namespace {

// $1 space, $2 keys (sorted, distinct), $3 charges, $4 the clock (NULL: the database's), $5 the
// charges' floors.
// The RETURNING rows carry the charged keys' new TATs (a statement's own writes are invisible to
// its other parts), the second SELECT every other key in debt.
constexpr const char* kExchangeSql = R"sql(
WITH now AS (
  SELECT COALESCE($4::bigint,
                  (extract(epoch FROM statement_timestamp()) * 1000000)::bigint) AS us),
charged AS (
  INSERT INTO rate_state AS s (space, key, tat_us, last_charge_us)
  SELECT $1::smallint, c.key, now.us + c.floor_us, c.us
  FROM unnest($2::bigint[], $3::bigint[], $5::bigint[]) AS c(key, us, floor_us), now
  ORDER BY c.key
  ON CONFLICT (space, key) DO UPDATE
  SET tat_us = GREATEST(s.tat_us + excluded.last_charge_us, excluded.tat_us),
      last_charge_us = excluded.last_charge_us
  RETURNING s.key, s.tat_us)
SELECT key, tat_us - (SELECT us FROM now) FROM charged WHERE tat_us > (SELECT us FROM now)
UNION ALL
SELECT s.key, s.tat_us - now.us FROM rate_state s, now
WHERE s.space = $1::smallint AND s.tat_us > now.us AND s.key <> ALL($2::bigint[])
)sql";

// A row whose TAT has passed means the same as no row.
constexpr const char* kCleanupSql = R"sql(
DELETE FROM rate_state WHERE space = $1::smallint
  AND tat_us <= COALESCE($2::bigint,
                         (extract(epoch FROM statement_timestamp()) * 1000000)::bigint)
)sql";

}  // namespace

PgRateShare::PgRateShare(std::string url, std::function<int64_t()> clock)
    : pool_(std::move(url), 1, "SET synchronous_commit = off"), clock_(std::move(clock)) {
  // Connect now, not in the first exchange: the limiter measures a charge's times from before
  // the exchange, and the database reads its clock when the statement starts, so the time spent
  // connecting would come back as debt this server never incurred (a client waiting exactly its
  // Retry-After was refused again). Best effort: a failure here is retried by Exchange.
  (void)pool_.Borrow();
}

Result<std::vector<store::RateShare::Debt>> PgRateShare::Exchange(
    int space, const std::vector<Charge>& charges) {
  // Keys are uint64 (user ids, or hashes for login names); bigint holds their bit patterns.
  // Repeated keys compose: max(max(x + a1, f1) + a2, f2) = max(x + a1 + a2, max(f1 + a2, f2)).
  std::map<uint64_t, Charge> composed;
  for (const Charge& c : charges) {
    if (c.us <= 0) continue;
    auto [it, fresh] = composed.try_emplace(c.key, c);
    if (!fresh) {
      it->second.floor_us = std::max(it->second.floor_us + c.us, c.floor_us);
      it->second.us += c.us;
    }
  }
  std::vector<int64_t> keys, amounts, floors;
  for (const auto& [key, c] : composed) {
    keys.push_back(static_cast<int64_t>(key));
    amounts.push_back(c.us);
    floors.push_back(c.floor_us);
  }
  auto now_param = [&](PgParams& p) -> PgParams& {
    return clock_ ? p.Int(clock_()) : p.Null();
  };

  std::lock_guard lock(mu_);
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
  PgParams params;
  params.Int(space).IntArray(keys).IntArray(amounts);
  now_param(params).IntArray(floors);
  NEREID_ASSIGN_OR_RETURN(PgResult r, conn->Query(kExchangeSql, params));
  std::vector<Debt> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({static_cast<uint64_t>(r.Int(i, 0)), r.Int(i, 1)});
  }
  if (++exchanges_ % kCleanupEvery == 0) {
    PgParams cleanup;
    cleanup.Int(space);
    // Best effort: a failed cleanup only leaves rows that read as "no debt" anyway.
    (void)conn->Exec(kCleanupSql, now_param(cleanup));
  }
  return out;
}

}  // namespace nereid::store_postgres
