#include "store_sqlite/quota.h"

#include "store_sqlite/sqlite_store_impl.h"

namespace nereid::store_sqlite {

Result<int64_t> QuotaSql::RunBytes(Db& db, int64_t run_id) {
  auto q = db.Cached("SELECT size_bytes FROM runs WHERE id = ?");
  q->Bind(1, run_id);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  return found ? q->Int(0) : 0;
}

// No lock to take: SQLite has one writer, and every quota check runs on it.
Result<store::WorkspaceQuota> QuotaSql::QuotaOfProject(Db& db, int64_t project_id) {
  auto q = db.Cached(
      "SELECT w.id, w.name, l.quota_bytes FROM projects p JOIN workspaces w"
      " ON w.id = p.workspace_id LEFT JOIN workspace_limits l ON l.workspace_id = w.id"
      " WHERE p.id = ?");
  q->Bind(1, project_id);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  store::WorkspaceQuota out;
  if (!found || q->IsNull(2)) return out;
  out.workspace_id = q->Int(0);
  out.workspace = q->Text(1);
  out.quota = q->Int(2);
  return out;
}

Result<int64_t> QuotaSql::WorkspaceUsedBytes(Db& db, int64_t workspace_id) {
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
  return store::CheckCheckpointQuotaWith<QuotaSql>(db, project_id, size);
}

}  // namespace nereid::store_sqlite
