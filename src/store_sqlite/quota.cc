#include "store_sqlite/quota.h"

#include "store/quota.h"
#include "store_sqlite/sqlite_store_impl.h"

namespace nereid::store_sqlite {
namespace {

Result<int64_t> RunBytes(Db& db, int64_t run_id) {
  auto q = db.Cached("SELECT size_bytes FROM runs WHERE id = ?");
  q->Bind(1, run_id);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  return found ? q->Int(0) : 0;
}

struct WorkspaceQuota {
  int64_t workspace_id = 0;
  std::string workspace;
  std::optional<int64_t> quota;  // unset: unlimited
};

Result<WorkspaceQuota> QuotaOfProject(Db& db, int64_t project_id) {
  auto q = db.Cached(
      "SELECT w.id, w.name, l.quota_bytes FROM projects p JOIN workspaces w"
      " ON w.id = p.workspace_id LEFT JOIN workspace_limits l ON l.workspace_id = w.id"
      " WHERE p.id = ?");
  q->Bind(1, project_id);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  WorkspaceQuota out;
  if (!found || q->IsNull(2)) return out;
  out.workspace_id = q->Int(0);
  out.workspace = q->Text(1);
  out.quota = q->Int(2);
  return out;
}

}  // namespace

Result<int64_t> WorkspaceUsedBytes(Db& db, int64_t workspace_id) {
  auto q = db.Cached(
      "SELECT (SELECT COALESCE(SUM(r.size_bytes), 0) FROM runs r"
      "        JOIN projects p ON p.id = r.project_id WHERE p.workspace_id = ?1)"
      " + (SELECT COALESCE(SUM(c.size), 0) FROM notebook_checkpoints c"
      "    JOIN notebooks n ON n.id = c.notebook_id JOIN projects p ON p.id = n.project_id"
      "    WHERE p.workspace_id = ?1)");
  q->Bind(1, workspace_id);
  NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
  return row ? q->Int(0) : 0;
}

Status CheckCheckpointQuota(Db& db, int64_t project_id, int64_t size) {
  NEREID_ASSIGN_OR_RETURN(WorkspaceQuota wq, QuotaOfProject(db, project_id));
  if (!wq.quota) return Status();
  NEREID_ASSIGN_OR_RETURN(int64_t used, WorkspaceUsedBytes(db, wq.workspace_id));
  return store::CheckQuota(wq.workspace, wq.quota, used, size, "this notebook checkpoint");
}

Result<QuotaGuard> QuotaGuard::Begin(Db& db, const RunKey& run) {
  QuotaGuard g;
  NEREID_ASSIGN_OR_RETURN(WorkspaceQuota wq, QuotaOfProject(db, run.project_id));
  if (!wq.quota) return g;
  g.workspace_ = wq.workspace;
  g.quota_ = wq.quota;
  NEREID_ASSIGN_OR_RETURN(g.used_before_, WorkspaceUsedBytes(db, wq.workspace_id));
  NEREID_ASSIGN_OR_RETURN(g.run_before_, RunBytes(db, run.id));
  return g;
}

Status QuotaGuard::Check(Db& db, const RunKey& run) const {
  if (!quota_) return Status();
  NEREID_ASSIGN_OR_RETURN(int64_t run_after, RunBytes(db, run.id));
  return store::CheckQuota(workspace_, quota_, used_before_, run_after - run_before_,
                           "this batch");
}

}  // namespace nereid::store_sqlite
