// The trash on PostgreSQL (store/trash.h). Each change is one writer job. The runs are locked
// (FOR UPDATE, in row id order) before they are changed, as ingest locks its run first
// (ingest.cc): a batch racing a trash or a delete is either applied before it (and then deleted
// with the run, its bytes with it) or sees the run trashed or gone and is refused. Several
// servers may write: blob rows are locked before their references are counted, and ingest locks
// a blob row FOR SHARE before it adds a reference, so no blob loses its file while referenced.
#include "store/trash.h"

#include <algorithm>

#include "store_postgres/pg_store_impl.h"

namespace nereid::store_postgres {
namespace {

Result<std::vector<store::TrashTarget>> FindTargets(PgConn& c, std::string_view project,
                                                    const std::vector<std::string>& ids) {
  NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(c, project));
  NEREID_ASSIGN_OR_RETURN(PgResult key, c.Query("SELECT key FROM projects WHERE id = $1",
                                                PgParams().Int(project_id)));
  if (key.rows() == 0) return NotFound("project '" + std::string(project) + "' not found");
  std::vector<int64_t> numbers;
  for (const std::string& id : ids) numbers.push_back(store::RunNumberIn(key.Text(0, 0), id));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, c.Query("SELECT id, number, trashed_us IS NOT NULL FROM runs "
                          "WHERE project_id = $1 AND number = ANY($2::bigint[]) "
                          "ORDER BY id FOR UPDATE",
                          PgParams().Int(project_id).IntArray(numbers)));
  std::vector<store::TrashTarget> out;
  std::vector<std::string> unknown;
  for (size_t i = 0; i < ids.size(); ++i) {
    int row = -1;
    for (int j = 0; j < r.rows() && numbers[i] != 0; ++j) {
      if (r.Int(j, 1) == numbers[i]) row = j;
    }
    if (row < 0) {
      unknown.push_back(ids[i]);
      continue;
    }
    out.push_back({ids[i], r.Int(row, 0), r.Bool(row, 2)});
  }
  if (!unknown.empty()) return store::RunsNotFound(project, unknown);
  return out;
}

std::vector<int64_t> RowIds(const std::vector<store::TrashTarget>& targets, bool trashed) {
  std::vector<int64_t> out;
  for (const store::TrashTarget& t : targets) {
    if (t.trashed == trashed) out.push_back(t.rowid);
  }
  return out;
}

}  // namespace

Status PgStore::TrashRuns(std::string_view project, const std::vector<std::string>& run_ids) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(std::vector<std::string> ids, store::NormalizeRunIds(run_ids));
  const int64_t now = NowUs();
  return writer_->Run(
      0,
      [&](PgConn& c) -> Status {
        NEREID_ASSIGN_OR_RETURN(auto targets, FindTargets(c, project, ids));
        // A run already in the trash keeps its trashed time.
        return c
            .Query("UPDATE runs SET trashed_us = $1 WHERE id = ANY($2::bigint[])",
                   PgParams().Int(now).IntArray(RowIds(targets, false)))
            .status();
      },
      false);
}

Status PgStore::RestoreRuns(std::string_view project, const std::vector<std::string>& run_ids) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(std::vector<std::string> ids, store::NormalizeRunIds(run_ids));
  return writer_->Run(
      0,
      [&](PgConn& c) -> Status {
        NEREID_ASSIGN_OR_RETURN(auto targets, FindTargets(c, project, ids));
        return c
            .Query("UPDATE runs SET trashed_us = NULL WHERE id = ANY($1::bigint[])",
                   PgParams().IntArray(RowIds(targets, true)))
            .status();
      },
      false);
}

Result<store::DeleteRunsResult> PgStore::DeleteRuns(std::string_view project,
                                                    const std::vector<std::string>& run_ids) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(std::vector<std::string> ids, store::NormalizeRunIds(run_ids));
  store::DeleteRunsResult out;
  std::vector<std::string> unreferenced;
  NEREID_RETURN_IF_ERROR(writer_->Run(
      0,
      [&](PgConn& c) -> Status {
        // The job may run again after a deadlock (writer.h): start from nothing each time.
        out = store::DeleteRunsResult();
        unreferenced.clear();
        NEREID_ASSIGN_OR_RETURN(auto targets, FindTargets(c, project, ids));
        NEREID_RETURN_IF_ERROR(store::CheckAllTrashed(targets));
        const PgParams runs = PgParams().IntArray(RowIds(targets, true));
        NEREID_ASSIGN_OR_RETURN(
            PgResult size,
            c.Query("SELECT COALESCE(SUM(size_bytes), 0) FROM runs WHERE id = ANY($1::bigint[])",
                    runs));
        NEREID_ASSIGN_OR_RETURN(
            PgResult blobs,
            c.Query("SELECT DISTINCT sha256 FROM run_blobs WHERE run_id = ANY($1::bigint[]) "
                    "ORDER BY sha256",
                    runs));
        NEREID_ASSIGN_OR_RETURN(
            PgResult series,
            c.Query("SELECT id FROM series WHERE run_id = ANY($1::bigint[])", runs));
        for (int i = 0; i < series.rows(); ++i) series_cache_.Evict(series.Int(i, 0));
        for (const char* sql :
             {"DELETE FROM chunk_data WHERE chunk_id IN (SELECT c.id FROM chunks c JOIN series s "
              "ON s.id = c.series_id WHERE s.run_id = ANY($1::bigint[]))",
              "DELETE FROM chunks WHERE series_id IN (SELECT id FROM series "
              "WHERE run_id = ANY($1::bigint[]))",
              "DELETE FROM series WHERE run_id = ANY($1::bigint[])",
              "DELETE FROM fields WHERE run_id = ANY($1::bigint[])",
              "DELETE FROM run_tags WHERE run_id = ANY($1::bigint[])",
              "DELETE FROM writers WHERE run_id = ANY($1::bigint[])",
              "DELETE FROM run_blobs WHERE run_id = ANY($1::bigint[])",
              "DELETE FROM runs WHERE id = ANY($1::bigint[])"}) {
          NEREID_RETURN_IF_ERROR(c.Query(sql, runs).status());
        }
        for (int i = 0; i < blobs.rows(); ++i) {
          const std::string sha = blobs.Text(i, 0);
          // Locked first: a batch adding a reference holds the row FOR SHARE until it commits,
          // so the count below, a new statement, sees its reference.
          NEREID_ASSIGN_OR_RETURN(
              PgResult row,
              c.Query("SELECT 1 FROM blobs WHERE sha256 = $1 FOR UPDATE", PgParams().Text(sha)));
          if (row.rows() == 0) continue;
          NEREID_ASSIGN_OR_RETURN(
              PgResult used,
              c.Query("SELECT EXISTS(SELECT 1 FROM run_blobs WHERE sha256 = $1) OR "
                      "EXISTS(SELECT 1 FROM notebook_checkpoints WHERE sha256 = $1)",
                      PgParams().Text(sha)));
          if (used.Bool(0, 0)) continue;
          NEREID_RETURN_IF_ERROR(
              c.Query("DELETE FROM blobs WHERE sha256 = $1", PgParams().Text(sha)).status());
          unreferenced.push_back(sha);
        }
        out.freed_bytes = size.Int(0, 0);
        for (const store::TrashTarget& t : targets) out.deleted.push_back(t.id);
        return Status();
      },
      false));
  out.removed_files = store::RemoveBlobFiles(blobs_.get(), unreferenced);
  return out;
}

}  // namespace nereid::store_postgres
