#include "store_postgres/quota.h"

#include "store/quota.h"
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
      conn.Query("SELECT (SELECT COALESCE(SUM(r.size_bytes), 0) FROM runs r"
                 "        JOIN projects p ON p.id = r.project_id WHERE p.workspace_id = $1)"
                 " + (SELECT COALESCE(SUM(c.size), 0) FROM notebook_checkpoints c"
                 "    JOIN notebooks n ON n.id = c.notebook_id"
                 "    JOIN projects p ON p.id = n.project_id WHERE p.workspace_id = $1)",
                 PgParams().Int(workspace_id)));
  return r.Int(0, 0);
}

namespace {

struct LockedQuota {
  int64_t workspace_id = 0;
  std::string workspace;
  std::optional<int64_t> quota;  // unset: unlimited, no lock taken
};

// FOR UPDATE OF l: the lock is what orders concurrent writers of one workspace; under READ
// COMMITTED the statements after it see every write committed before the lock was granted.
Result<LockedQuota> LockQuotaOfProject(PgConn& conn, int64_t project_id) {
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query("SELECT w.id, w.name, l.quota_bytes FROM projects p"
                 " JOIN workspaces w ON w.id = p.workspace_id"
                 " JOIN workspace_limits l ON l.workspace_id = w.id"
                 " WHERE p.id = $1 AND l.quota_bytes IS NOT NULL FOR UPDATE OF l",
                 PgParams().Int(project_id)));
  LockedQuota out;
  if (r.rows() == 0 || r.IsNull(0, 2)) return out;  // no quota (or it was cleared meanwhile)
  out.workspace_id = r.Int(0, 0);
  out.workspace = r.Text(0, 1);
  out.quota = r.Int(0, 2);
  return out;
}

}  // namespace

Status CheckCheckpointQuota(PgConn& conn, int64_t project_id, int64_t size) {
  NEREID_ASSIGN_OR_RETURN(LockedQuota lq, LockQuotaOfProject(conn, project_id));
  if (!lq.quota) return Status();
  NEREID_ASSIGN_OR_RETURN(int64_t used, WorkspaceUsedBytes(conn, lq.workspace_id));
  return store::CheckQuota(lq.workspace, lq.quota, used, size, "this notebook checkpoint");
}

Result<QuotaGuard> QuotaGuard::Begin(PgConn& conn, const RunKey& run) {
  QuotaGuard g;
  NEREID_ASSIGN_OR_RETURN(LockedQuota lq, LockQuotaOfProject(conn, run.project_id));
  if (!lq.quota) return g;
  g.workspace_ = lq.workspace;
  g.quota_ = lq.quota;
  NEREID_ASSIGN_OR_RETURN(g.used_before_, WorkspaceUsedBytes(conn, lq.workspace_id));
  NEREID_ASSIGN_OR_RETURN(g.run_before_, RunBytes(conn, run.id));
  return g;
}

Status QuotaGuard::Check(PgConn& conn, const RunKey& run) const {
  if (!quota_) return Status();
  NEREID_ASSIGN_OR_RETURN(int64_t run_after, RunBytes(conn, run.id));
  return store::CheckQuota(workspace_, quota_, used_before_, run_after - run_before_,
                           "this batch");
}

}  // namespace nereid::store_postgres
