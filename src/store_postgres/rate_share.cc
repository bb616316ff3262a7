#include "store_postgres/rate_share.h"

#include <algorithm>
#include <map>

namespace nereid::store_postgres {
namespace {

// $1 space, $2 keys (sorted, distinct), $3 charges, $4 the clock (NULL: the database's).
// The RETURNING rows carry the charged keys' new TATs (a statement's own writes are invisible to
// its other parts), the second SELECT every other key in debt.
constexpr const char* kExchangeSql = R"sql(
WITH now AS (
  SELECT COALESCE($4::bigint,
                  (extract(epoch FROM statement_timestamp()) * 1000000)::bigint) AS us),
charged AS (
  INSERT INTO rate_state AS s (space, key, tat_us)
  SELECT $1::smallint, c.key, now.us + c.us
  FROM unnest($2::bigint[], $3::bigint[]) AS c(key, us), now
  ORDER BY c.key
  ON CONFLICT (space, key) DO UPDATE
  SET tat_us = GREATEST(s.tat_us, (SELECT us FROM now)) + (excluded.tat_us - (SELECT us FROM now))
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
    : pool_(std::move(url), 1, "SET synchronous_commit = off"), clock_(std::move(clock)) {}

Result<std::vector<store::RateShare::Debt>> PgRateShare::Exchange(
    int space, const std::vector<Charge>& charges) {
  // Keys are uint64 (user ids, or hashes for login names); bigint holds their bit patterns.
  std::map<uint64_t, int64_t> summed;
  for (const Charge& c : charges) summed[c.key] += c.us;
  std::vector<int64_t> keys, amounts;
  keys.reserve(summed.size());
  amounts.reserve(summed.size());
  for (const auto& [key, us] : summed) {
    if (us <= 0) continue;
    keys.push_back(static_cast<int64_t>(key));
    amounts.push_back(us);
  }
  auto now_param = [&](PgParams& p) -> PgParams& {
    return clock_ ? p.Int(clock_()) : p.Null();
  };

  std::lock_guard lock(mu_);
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Borrow());
  PgParams params;
  params.Int(space).IntArray(keys).IntArray(amounts);
  NEREID_ASSIGN_OR_RETURN(PgResult r, conn->Query(kExchangeSql, now_param(params)));
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
