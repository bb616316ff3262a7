#include "store_postgres/quota.h"

#include "store_postgres/pg_store_impl.h"

namespace nereid::store_postgres {

Result<int64_t> QuotaSql::RunBytes(PgConn& conn, int64_t run_id) {
  NEREID_ASSIGN_OR_RETURN(PgResult r, conn.Query("SELECT size_bytes FROM runs WHERE id = $1",
                                                 PgParams().Int(run_id)));
  return r.rows() == 0 ? 0 : r.Int(0, 0);
}

Result<int64_t> QuotaSql::WorkspaceUsedBytes(PgConn& conn, int64_t workspace_id) {
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

// FOR UPDATE OF l: the lock is what orders concurrent writers of one workspace; under READ
// COMMITTED the statements after it see every write committed before the lock was granted.
Result<store::WorkspaceQuota> QuotaSql::QuotaOfProject(PgConn& conn, int64_t project_id) {
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query("SELECT w.id, w.name, l.quota_bytes FROM projects p"
                 " JOIN workspaces w ON w.id = p.workspace_id"
                 " JOIN workspace_limits l ON l.workspace_id = w.id"
                 " WHERE p.id = $1 AND l.quota_bytes IS NOT NULL FOR UPDATE OF l",
                 PgParams().Int(project_id)));
  store::WorkspaceQuota out;
  if (r.rows() == 0 || r.IsNull(0, 2)) return out;  // no quota (or it was cleared meanwhile)
  out.workspace_id = r.Int(0, 0);
  out.workspace = r.Text(0, 1);
  out.quota = r.Int(0, 2);
  return out;
}

Status CheckCheckpointQuota(PgConn& conn, int64_t project_id, int64_t size) {
  return store::CheckCheckpointQuotaWith<QuotaSql>(conn, project_id, size);
}

}  // namespace nereid::store_postgres
