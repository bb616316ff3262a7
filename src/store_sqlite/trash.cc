// The trash on SQLite (store/trash.h): every change is one writer job, so it is ordered with the
// ingest jobs of the same group commit: a batch either ran before the run was trashed or sees it
// trashed (or gone) and is refused.
#include "store/trash.h"

#include <algorithm>

#include "store_sqlite/sqlite_store_impl.h"

namespace nereid::store_sqlite {
namespace {

// The runs named by `ids` in `project`, all or nothing (NotFound naming the unknown ones).
Result<std::vector<store::TrashTarget>> FindTargets(Db& db, std::string_view project,
                                                    const std::vector<std::string>& ids) {
  NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(db, project));
  std::string key;
  {
    auto q = db.Cached("SELECT key FROM projects WHERE id = ?");
    q->Bind(1, project_id);
    NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
    if (found) key = q->Text(0);
  }
  std::vector<store::TrashTarget> out;
  std::vector<std::string> unknown;
  for (const std::string& id : ids) {
    int64_t number = store::RunNumberIn(key, id);
    auto q = db.Cached(
        "SELECT id, trashed_us IS NOT NULL FROM runs WHERE project_id = ? AND number = ?");
    q->BindAll(project_id, number);
    NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
    if (!found) {
      unknown.push_back(id);
      continue;
    }
    out.push_back({id, q->Int(0), q->Int(1) != 0});
  }
  if (!unknown.empty()) return store::RunsNotFound(project, unknown);
  return out;
}

Status SetTrashed(Db& db, const std::vector<store::TrashTarget>& targets,
                  std::optional<int64_t> trashed_us) {
  for (const store::TrashTarget& t : targets) {
    if (t.trashed == trashed_us.has_value()) continue;  // already where it is asked to be
    auto q = db.Cached("UPDATE runs SET trashed_us = ? WHERE id = ?");
    q->BindAll(trashed_us, t.rowid);
    NEREID_RETURN_IF_ERROR(q->Run());
  }
  return Status();
}

Result<std::vector<int64_t>> Column(Db& db, const char* sql, int64_t arg) {
  auto q = db.Cached(sql);
  q->Bind(1, arg);
  std::vector<int64_t> out;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) return out;
    out.push_back(q->Int(0));
  }
}

Status Exec(Db& db, const char* sql, int64_t arg) {
  auto q = db.Cached(sql);
  q->Bind(1, arg);
  return q->Run();
}

}  // namespace

Status SqliteStore::TrashRuns(std::string_view project, const std::vector<std::string>& run_ids) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(std::vector<std::string> ids, store::NormalizeRunIds(run_ids));
  const int64_t now = NowUs();
  return writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(auto targets, FindTargets(db, project, ids));
        return SetTrashed(db, targets, now);
      },
      false);
}

Status SqliteStore::RestoreRuns(std::string_view project,
                                const std::vector<std::string>& run_ids) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(std::vector<std::string> ids, store::NormalizeRunIds(run_ids));
  return writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(auto targets, FindTargets(db, project, ids));
        return SetTrashed(db, targets, std::nullopt);
      },
      false);
}

Result<store::DeleteRunsResult> SqliteStore::DeleteRuns(std::string_view project,
                                                        const std::vector<std::string>& run_ids) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(std::vector<std::string> ids, store::NormalizeRunIds(run_ids));
  store::DeleteRunsResult out;
  std::vector<std::string> unreferenced;
  NEREID_RETURN_IF_ERROR(writer_->Run(
      [&](Db& db) -> Status {
        // The job may fail after some statements: its savepoint rolls them back, so start clean.
        out = store::DeleteRunsResult();
        unreferenced.clear();
        NEREID_ASSIGN_OR_RETURN(auto targets, FindTargets(db, project, ids));
        NEREID_RETURN_IF_ERROR(store::CheckAllTrashed(targets));
        std::vector<std::string> candidates;
        for (const store::TrashTarget& t : targets) {
          {
            auto q = db.Cached("SELECT size_bytes FROM runs WHERE id = ?");
            q->Bind(1, t.rowid);
            NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
            if (found) out.freed_bytes += q->Int(0);
          }
          {
            auto q = db.Cached("SELECT sha256 FROM run_blobs WHERE run_id = ?");
            q->Bind(1, t.rowid);
            for (;;) {
              NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
              if (!row) break;
              candidates.push_back(q->Text(0));
            }
          }
          // Series row ids may be reused by SQLite once deleted: the writer's cached tails of
          // these series must not outlive them.
          NEREID_ASSIGN_OR_RETURN(
              std::vector<int64_t> series,
              Column(db, "SELECT id FROM series WHERE run_id = ?", t.rowid));
          for (int64_t id : series) series_cache_.Evict(id);
          writer_sequences_.ForgetRun(t.rowid);
          NEREID_RETURN_IF_ERROR(Exec(db,
                                      "DELETE FROM chunk_data WHERE chunk_id IN (SELECT c.id "
                                      "FROM chunks c JOIN series s ON s.id = c.series_id "
                                      "WHERE s.run_id = ?)",
                                      t.rowid));
          NEREID_RETURN_IF_ERROR(Exec(
              db, "DELETE FROM chunks WHERE series_id IN (SELECT id FROM series WHERE run_id = ?)",
              t.rowid));
          for (const char* sql : {"DELETE FROM series WHERE run_id = ?",
                                  "DELETE FROM fields WHERE run_id = ?",
                                  "DELETE FROM run_tags WHERE run_id = ?",
                                  "DELETE FROM writers WHERE run_id = ?",
                                  "DELETE FROM run_blobs WHERE run_id = ?",
                                  "DELETE FROM runs WHERE id = ?"}) {
            NEREID_RETURN_IF_ERROR(Exec(db, sql, t.rowid));
          }
          out.deleted.push_back(t.id);
        }
        std::sort(candidates.begin(), candidates.end());
        candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
        for (const std::string& sha : candidates) {
          auto q = db.Cached(
              "SELECT EXISTS(SELECT 1 FROM run_blobs WHERE sha256 = ?1) OR "
              "EXISTS(SELECT 1 FROM notebook_checkpoints WHERE sha256 = ?1)");
          q->Bind(1, sha);
          NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
          if (row && q->Int(0) != 0) continue;
          auto d = db.Cached("DELETE FROM blobs WHERE sha256 = ?");
          d->Bind(1, sha);
          NEREID_RETURN_IF_ERROR(d->Run());
          unreferenced.push_back(sha);
        }
        return Status();
      },
      false));
  out.removed_files = store::RemoveBlobFiles(blobs_.get(), unreferenced);
  return out;
}

}  // namespace nereid::store_sqlite
