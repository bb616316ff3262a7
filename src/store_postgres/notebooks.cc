// Notebooks and their checkpoints in PostgreSQL.
#include "store_postgres/notebooks.h"

#include "store_postgres/pg_store_impl.h"
#include "store_postgres/quota.h"

namespace nereid::store_postgres {
namespace {

constexpr const char* kCheckpointColumns = "sha256, size, number, created_us, created_by";

store::CheckpointInfo ReadCheckpoint(const PgResult& r, int row, std::string_view project,
                                     std::string_view path) {
  return {std::string(project), std::string(path), r.Text(row, 0), r.Int(row, 1),
          r.Int(row, 2),        r.Int(row, 3),     r.Text(row, 4)};
}

Status NotebookNotFound(std::string_view path) {
  return NotFound("notebook '" + std::string(path) + "' not found");
}

Result<int64_t> NotebookId(PgConn& conn, int64_t project_id, std::string_view path) {
  NEREID_ASSIGN_OR_RETURN(PgResult r,
                          conn.Query("SELECT id FROM notebooks WHERE project_id = $1 AND path = $2",
                                     PgParams().Int(project_id).Text(path)));
  if (r.rows() == 0) return NotebookNotFound(path);
  return r.Int(0, 0);
}

Result<PgPool::Lease> Borrow(PgStore* store) {
  NEREID_RETURN_IF_ERROR(store->CheckOpen());
  return store->pool().Borrow();
}

}  // namespace

Result<store::CheckpointInfo> PgNotebooks::AddCheckpoint(std::string_view project,
                                                         std::string_view path,
                                                         std::string_view sha256, int64_t size,
                                                         std::string_view created_by,
                                                         bool* created) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  const int64_t now = store_->NowUs();
  store::CheckpointInfo out;
  NEREID_RETURN_IF_ERROR(Transact(*conn, [&](PgConn& c) -> Status {
    NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(c, project));
    // Create the notebook if it is new (a concurrent creator wins quietly), then lock its row:
    // uploads to one notebook from any server are numbered one at a time, so MAX + 1 is safe
    // and the same content uploaded twice at once yields one checkpoint.
    NEREID_RETURN_IF_ERROR(c.Exec("INSERT INTO notebooks(project_id, path, created_us)"
                                  " VALUES($1, $2, $3) ON CONFLICT (project_id, path) DO NOTHING",
                                  PgParams().Int(project_id).Text(path).Int(now))
                               .status());
    NEREID_ASSIGN_OR_RETURN(
        PgResult nb, c.Query("SELECT id FROM notebooks WHERE project_id = $1 AND path = $2"
                             " FOR UPDATE",
                             PgParams().Int(project_id).Text(path)));
    if (nb.rows() == 0) return NotebookNotFound(path);  // cannot happen: no notebook is deleted
    const int64_t notebook_id = nb.Int(0, 0);
    NEREID_ASSIGN_OR_RETURN(
        PgResult existing,
        c.Query(std::string("SELECT ") + kCheckpointColumns +
                    " FROM notebook_checkpoints WHERE notebook_id = $1 AND sha256 = $2",
                PgParams().Int(notebook_id).Text(sha256)));
    if (existing.rows() > 0) {
      out = ReadCheckpoint(existing, 0, project, path);
      *created = false;
      return Status();
    }
    // A new checkpoint adds its bytes to the workspace's usage; a refusal rolls the transaction
    // back, a notebook made for it included.
    NEREID_RETURN_IF_ERROR(CheckCheckpointQuota(c, project_id, size));
    NEREID_ASSIGN_OR_RETURN(
        PgResult added,
        c.Query("INSERT INTO notebook_checkpoints(notebook_id, number, sha256, size, created_us,"
                " created_by) SELECT $1, COALESCE(MAX(number), 0) + 1, $2, $3, $4, $5"
                " FROM notebook_checkpoints WHERE notebook_id = $1 RETURNING number",
                PgParams().Int(notebook_id).Text(sha256).Int(size).Int(now).Text(created_by)));
    out = {std::string(project), std::string(path), std::string(sha256), size,
           added.Int(0, 0),      now,               std::string(created_by)};
    *created = true;
    return Status();
  }));
  return out;
}

Result<std::vector<store::NotebookInfo>> PgNotebooks::ListNotebooks(std::string_view project) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(*conn, project));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query("SELECT n.path, n.created_us, COUNT(c.id), COALESCE(MAX(c.created_us), 0)"
                  " FROM notebooks n LEFT JOIN notebook_checkpoints c ON c.notebook_id = n.id"
                  " WHERE n.project_id = $1 GROUP BY n.id, n.path, n.created_us"
                  " ORDER BY n.path COLLATE \"C\"",
                  PgParams().Int(project_id)));
  std::vector<store::NotebookInfo> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(project), r.Text(i, 0), r.Int(i, 1), r.Int(i, 2), r.Int(i, 3)});
  }
  return out;
}

Result<std::vector<store::CheckpointInfo>> PgNotebooks::ListCheckpoints(std::string_view project,
                                                                        std::string_view path) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(*conn, project));
  NEREID_ASSIGN_OR_RETURN(int64_t notebook_id, NotebookId(*conn, project_id, path));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query(std::string("SELECT ") + kCheckpointColumns +
                                  " FROM notebook_checkpoints WHERE notebook_id = $1"
                                  " ORDER BY number",
                              PgParams().Int(notebook_id)));
  std::vector<store::CheckpointInfo> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadCheckpoint(r, i, project, path));
  return out;
}

Result<store::CheckpointInfo> PgNotebooks::GetCheckpoint(std::string_view project,
                                                         std::string_view path,
                                                         std::string_view sha256) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(*conn, project));
  NEREID_ASSIGN_OR_RETURN(int64_t notebook_id, NotebookId(*conn, project_id, path));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query(std::string("SELECT ") + kCheckpointColumns +
                                  " FROM notebook_checkpoints WHERE notebook_id = $1 AND"
                                  " sha256 = $2",
                              PgParams().Int(notebook_id).Text(sha256)));
  if (r.rows() == 0) {
    return NotFound("notebook '" + std::string(path) + "' has no checkpoint " +
                    std::string(sha256));
  }
  return ReadCheckpoint(r, 0, project, path);
}

}  // namespace nereid::store_postgres
