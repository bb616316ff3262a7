// Notebooks and their checkpoints in SQLite.
#include "store_sqlite/notebooks.h"

#include "store_sqlite/quota.h"
#include "store_sqlite/sqlite_store_impl.h"

namespace nereid::store_sqlite {
namespace {

constexpr const char* kNotebooksSchema = R"sql(
CREATE TABLE IF NOT EXISTS notebooks(
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  path TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  UNIQUE(project_id, path));
CREATE TABLE IF NOT EXISTS notebook_checkpoints(
  id INTEGER PRIMARY KEY,
  notebook_id INTEGER NOT NULL REFERENCES notebooks(id),
  number INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_us INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  UNIQUE(notebook_id, sha256),
  UNIQUE(notebook_id, number));
)sql";

store::CheckpointInfo ReadCheckpoint(const Stmt& q, std::string_view project,
                                     std::string_view path) {
  return {
      std::string(project), std::string(path), q.Text(0), q.Int(1), q.Int(2), q.Int(3), q.Text(4)};
}

Result<int64_t> NotebookId(Db& db, int64_t project_id, std::string_view path) {
  auto q = db.Cached("SELECT id FROM notebooks WHERE project_id = ? AND path = ?");
  q->BindAll(project_id, path);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("notebook '" + std::string(path) + "' not found");
  return q->Int(0);
}

}  // namespace

Status SqliteNotebooks::Init() {
  return store_->writer_->Run([](Db& db) { return db.Exec(kNotebooksSchema); }, false);
}

Result<store::CheckpointInfo> SqliteNotebooks::AddCheckpoint(std::string_view project,
                                                             std::string_view path,
                                                             std::string_view sha256, int64_t size,
                                                             std::string_view created_by,
                                                             bool* created) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  store::CheckpointInfo out;
  int64_t now = store_->NowUs();
  NEREID_RETURN_IF_ERROR(store_->writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(db, project));
        auto id = NotebookId(db, project_id, path);
        if (!id.ok() && id.status().code() != StatusCode::kNotFound) return id.status();
        int64_t notebook_id = 0;
        if (id.ok()) {
          notebook_id = *id;
          auto q = db.Cached(
              "SELECT sha256, size, number, created_us, created_by FROM notebook_checkpoints"
              " WHERE notebook_id = ? AND sha256 = ?");
          q->BindAll(notebook_id, sha256);
          NEREID_ASSIGN_OR_RETURN(bool exists, q->Step());
          if (exists) {
            out = ReadCheckpoint(*q, project, path);
            *created = false;
            return Status();
          }
        } else {
          auto q = db.Cached("INSERT INTO notebooks(project_id, path, created_us) VALUES(?, ?, ?)");
          q->BindAll(project_id, path, now);
          NEREID_RETURN_IF_ERROR(q->Run());
          notebook_id = sqlite3_last_insert_rowid(db.raw());
        }
        // A new checkpoint adds its bytes to the workspace's usage; refusing it here rolls back
        // the job, a notebook made for it included.
        NEREID_RETURN_IF_ERROR(CheckCheckpointQuota(db, project_id, size));
        int64_t number = 1;
        {
          auto q = db.Cached(
              "SELECT COALESCE(MAX(number), 0) + 1 FROM notebook_checkpoints WHERE notebook_id = "
              "?");
          q->Bind(1, notebook_id);
          NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
          if (row) number = q->Int(0);
        }
        auto q = db.Cached(
            "INSERT INTO notebook_checkpoints(notebook_id, number, sha256, size, created_us,"
            " created_by) VALUES(?, ?, ?, ?, ?, ?)");
        q->BindAll(notebook_id, number, sha256, size, now, created_by);
        NEREID_RETURN_IF_ERROR(q->Run());
        out = {std::string(project),   std::string(path), std::string(sha256), size, number, now,
               std::string(created_by)};
        *created = true;
        return Status();
      },
      false));
  return out;
}

Result<std::vector<store::NotebookInfo>> SqliteNotebooks::ListNotebooks(std::string_view project) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(r.db(), project));
  auto q = r.db().Cached(
      "SELECT n.path, n.created_us, COUNT(c.id), COALESCE(MAX(c.created_us), 0) FROM notebooks n"
      " LEFT JOIN notebook_checkpoints c ON c.notebook_id = n.id WHERE n.project_id = ?"
      " GROUP BY n.id ORDER BY n.path");
  q->Bind(1, project_id);
  std::vector<store::NotebookInfo> out;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({std::string(project), q->Text(0), q->Int(1), q->Int(2), q->Int(3)});
  }
  return out;
}

Result<std::vector<store::CheckpointInfo>> SqliteNotebooks::ListCheckpoints(
    std::string_view project, std::string_view path) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(r.db(), project));
  NEREID_ASSIGN_OR_RETURN(int64_t notebook_id, NotebookId(r.db(), project_id, path));
  auto q = r.db().Cached(
      "SELECT sha256, size, number, created_us, created_by FROM notebook_checkpoints"
      " WHERE notebook_id = ? ORDER BY number");
  q->Bind(1, notebook_id);
  std::vector<store::CheckpointInfo> out;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back(ReadCheckpoint(*q, project, path));
  }
  return out;
}

Result<store::CheckpointInfo> SqliteNotebooks::GetCheckpoint(std::string_view project,
                                                             std::string_view path,
                                                             std::string_view sha256) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(r.db(), project));
  NEREID_ASSIGN_OR_RETURN(int64_t notebook_id, NotebookId(r.db(), project_id, path));
  auto q = r.db().Cached(
      "SELECT sha256, size, number, created_us, created_by FROM notebook_checkpoints"
      " WHERE notebook_id = ? AND sha256 = ?");
  q->BindAll(notebook_id, sha256);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) {
    return NotFound("notebook '" + std::string(path) + "' has no checkpoint " +
                    std::string(sha256));
  }
  return ReadCheckpoint(*q, project, path);
}

}  // namespace nereid::store_sqlite
