// PgStore: the class behind OpenPostgresStore. Private to store_postgres; its methods are split
// over pg_store.cc (opening, blobs, settings, stats), catalog.cc (workspaces, projects, runs,
// fields, files), list_runs.cc, ingest.cc, series_read.cc, accounts.cc and notebooks.cc.
//
// Thread-safety: every public method may be called from any thread. Reads borrow a pooled
// connection; catalog writes run in their own transaction on a pooled connection; batch ingest
// goes through the group-commit writer.
#pragma once

#include <atomic>
#include <memory>

#include "store/blob_store.h"
#include "store/series_tail.h"
#include "store/store.h"
#include "store_postgres/pg.h"
#include "store_postgres/writer.h"

namespace nereid::store_postgres {

// A run's identity inside the database.
struct RunKey {
  int64_t id = 0;  // runs.id
  int64_t project_id = 0;
  std::string project_key;
};

class PgStore final : public store::Store {
 public:
  static Result<std::unique_ptr<PgStore>> Open(const store::StoreOptions& options);
  ~PgStore() override;

  Result<store::WorkspaceInfo> CreateWorkspace(std::string_view name) override;
  Result<std::vector<store::WorkspaceInfo>> ListWorkspaces() override;
  Result<store::ProjectInfo> CreateProject(std::string_view workspace, std::string_view name,
                                           std::string_view key) override;
  Result<store::ProjectInfo> GetProject(std::string_view project) override;
  Result<std::vector<store::ProjectInfo>> ListProjects(std::string_view workspace) override;

  Result<store::CreateRunResult> CreateRun(const store::CreateRunRequest& request) override;
  Result<store::RunInfo> GetRun(std::string_view run_id) override;
  Result<std::vector<store::Field>> GetFields(std::string_view run_id,
                                              std::string_view prefix) override;
  Result<store::RunPage> ListRuns(const store::ListRunsQuery& query) override;
  Result<store::FieldList> ListProjectFields(const store::FieldListQuery& query) override;

  // trash.cc
  Status TrashRuns(std::string_view project, const std::vector<std::string>& run_ids) override;
  Status RestoreRuns(std::string_view project, const std::vector<std::string>& run_ids) override;
  Result<store::DeleteRunsResult> DeleteRuns(std::string_view project,
                                             const std::vector<std::string>& run_ids) override;

  Result<store::IngestResult> Ingest(std::string_view run_id, const v1::Batch& batch) override;

  Result<store::SeriesPage> ReadSeries(const store::SeriesQuery& query) override;
  Result<std::vector<series::Bucket>> ReadBuckets(const store::BucketQuery& query) override;

  Status RecordBlob(std::string_view sha256, int64_t size) override;
  Result<int64_t> BlobSize(std::string_view sha256) override;
  Result<store::FileInfo> GetFile(std::string_view run_id, std::string_view path,
                                  std::optional<double> step) override;

  Result<std::optional<std::string>> GetSetting(std::string_view key) override;
  Status SetSetting(std::string_view key, std::string_view value) override;

  store::StoreStats Stats() override;
  store::AccountStore* Accounts() override { return accounts_.get(); }
  store::NotebookStore* Notebooks() override { return notebooks_.get(); }
  store::RateShare* RateSharing() override { return rate_share_.get(); }
  void Close() override;

  // For the parts in other files.
  PgPool& pool() { return *pool_; }
  Status CheckOpen() const;
  int64_t NowUs() const;
  const store::StoreOptions& options() const { return options_; }

 private:
  explicit PgStore(store::StoreOptions options);
  // ingest.cc: applies one batch on the writer thread, inside its savepoint.
  Result<store::IngestResult> ApplyBatch(PgConn& conn, const RunKey& run, const v1::Batch& batch);

  store::StoreOptions options_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<store::AccountStore> accounts_;
  std::unique_ptr<store::NotebookStore> notebooks_;
  std::unique_ptr<store::RateShare> rate_share_;
  std::atomic<bool> closed_{false};
  std::unique_ptr<Writer> writer_;            // the group-commit writer (writer.h)
  store::SeriesCache series_cache_{1 << 21};  // used by the writer thread only
  store::KnownFields known_fields_;           // project_fields rows committed; writer thread only
  uint64_t jobs_since_trim_ = 0;              // writer thread only
};

// Helpers shared by the .cc files; `conn` is any connection.
// "KEY-42" -> the run, NotFound when no such run.
Result<RunKey> ResolveRun(PgConn& conn, std::string_view run_id);
// "workspace/project" -> projects.id, NotFound when unknown.
Result<int64_t> ResolveProject(PgConn& conn, std::string_view project);
// The run row (runs.id) with its project, workspace and tags.
Result<store::RunInfo> LoadRunInfo(PgConn& conn, int64_t run_rowid);
// Several runs in one query, in the order of `ids`; NotFound when one is missing.
Result<std::vector<store::RunInfo>> LoadRunInfos(PgConn& conn, const std::vector<int64_t>& ids);

}  // namespace nereid::store_postgres
