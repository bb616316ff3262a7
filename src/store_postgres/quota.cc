#include "store_postgres/quota.h"

#include "store_postgres/pg_store_impl.h"

namespace nereid::store_postgres {
namespace {

Result<int64_t> RunBytes(PgConn& conn, int64_t run_id) {
  NEREID_ASSIGN_OR_RETURN(PgResult r, conn.Query("SELECT size_bytes FROM runs WHERE id = $1",
                                                 PgParams().Int(run_id)));
  return r.rows() == 0 ? 0 : r.Int(0, 0);
}

}  // namespace

Result<int64_t> WorkspaceUsedBytes(PgConn& conn, int64_t workspace_id) {
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query("SELECT COALESCE(SUM(r.size_bytes), 0) FROM runs r"
                 " JOIN projects p ON p.id = r.project_id WHERE p.workspace_id = $1",
                 PgParams().Int(workspace_id)));
  return r.Int(0, 0);
}

Result<QuotaGuard> QuotaGuard::Begin(PgConn& conn, const RunKey& run) {
  QuotaGuard g;
  // FOR UPDATE OF l: the lock is what orders concurrent batches of one workspace; under READ
  // COMMITTED the statements after it see every batch committed before the lock was granted.
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query("SELECT w.id, w.name, l.quota_bytes FROM projects p"
                 " JOIN workspaces w ON w.id = p.workspace_id"
                 " JOIN workspace_limits l ON l.workspace_id = w.id"
                 " WHERE p.id = $1 AND l.quota_bytes IS NOT NULL FOR UPDATE OF l",
                 PgParams().Int(run.project_id)));
  if (r.rows() == 0 || r.IsNull(0, 2)) return g;  // no quota (or it was cleared meanwhile)
  g.workspace_ = r.Text(0, 1);
  g.quota_ = r.Int(0, 2);
  NEREID_ASSIGN_OR_RETURN(g.used_before_, WorkspaceUsedBytes(conn, r.Int(0, 0)));
  NEREID_ASSIGN_OR_RETURN(g.run_before_, RunBytes(conn, run.id));
  return g;
}

Status QuotaGuard::Check(PgConn& conn, const RunKey& run) const {
  if (!quota_) return Status();
  NEREID_ASSIGN_OR_RETURN(int64_t run_after, RunBytes(conn, run.id));
  const int64_t grew = run_after - run_before_;
  if (grew <= 0 || used_before_ + grew <= *quota_) return Status();
  return Status(StatusCode::kQuotaExceeded,
                "storage quota of workspace '" + workspace_ + "' exceeded: " +
                    std::to_string(used_before_) + " of " + std::to_string(*quota_) +
                    " bytes used, this batch needs " + std::to_string(grew) +
                    " more; nothing of it was stored");
}

}  // namespace nereid::store_postgres
