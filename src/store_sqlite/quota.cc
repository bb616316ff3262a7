#include "store_sqlite/quota.h"

#include "store_sqlite/sqlite_store_impl.h"

namespace nereid::store_sqlite {
namespace {

Result<int64_t> RunBytes(Db& db, int64_t run_id) {
  auto q = db.Cached("SELECT size_bytes FROM runs WHERE id = ?");
  q->Bind(1, run_id);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  return found ? q->Int(0) : 0;
}

}  // namespace

Result<int64_t> WorkspaceUsedBytes(Db& db, int64_t workspace_id) {
  auto q = db.Cached(
      "SELECT COALESCE(SUM(r.size_bytes), 0) FROM runs r JOIN projects p ON p.id = r.project_id"
      " WHERE p.workspace_id = ?");
  q->Bind(1, workspace_id);
  NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
  return row ? q->Int(0) : 0;
}

Result<QuotaGuard> QuotaGuard::Begin(Db& db, const RunKey& run) {
  QuotaGuard g;
  int64_t workspace_id = 0;
  {
    auto q = db.Cached(
        "SELECT w.id, w.name, l.quota_bytes FROM projects p JOIN workspaces w"
        " ON w.id = p.workspace_id LEFT JOIN workspace_limits l ON l.workspace_id = w.id"
        " WHERE p.id = ?");
    q->Bind(1, run.project_id);
    NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
    if (!found || q->IsNull(2)) return g;
    workspace_id = q->Int(0);
    g.workspace_ = q->Text(1);
    g.quota_ = q->Int(2);
  }
  NEREID_ASSIGN_OR_RETURN(g.used_before_, WorkspaceUsedBytes(db, workspace_id));
  NEREID_ASSIGN_OR_RETURN(g.run_before_, RunBytes(db, run.id));
  return g;
}

Status QuotaGuard::Check(Db& db, const RunKey& run) const {
  if (!quota_) return Status();
  NEREID_ASSIGN_OR_RETURN(int64_t run_after, RunBytes(db, run.id));
  int64_t grew = run_after - run_before_;
  if (grew <= 0 || used_before_ + grew <= *quota_) return Status();
  return Status(StatusCode::kQuotaExceeded,
                "storage quota of workspace '" + workspace_ +
                    "' exceeded: " + std::to_string(used_before_) + " of " +
                    std::to_string(*quota_) + " bytes used, this batch needs " +
                    std::to_string(grew) + " more; nothing of it was stored");
}

}  // namespace nereid::store_sqlite
