// SqliteStore: the class behind OpenSqliteStore. Private to store_sqlite; its methods are split
// over sqlite_store.cc (catalog, runs, fields, settings), ingest.cc, series_read.cc and
// list_runs.cc.
//
// Thread-safety: every public method may be called from any thread. Writes run on the Writer's
// thread (group commit); reads borrow a connection from the reader pool and read one snapshot.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "store/blob_store.h"
#include "store/store.h"
#include "store_sqlite/accounts.h"
#include "store_sqlite/db.h"
#include "store_sqlite/helper_thread.h"
#include "store_sqlite/notebooks.h"
#include "store_sqlite/series_cache.h"
#include "store_sqlite/writer.h"
#include "store_sqlite/writer_sequences.h"

namespace nereid::store_sqlite {

// A run's identity inside the database.
struct RunKey {
  int64_t id = 0;  // runs.id
  int64_t project_id = 0;
  std::string project_key;
  int64_t number = 0;    // the N of KEY-N
  bool trashed = false;  // in the trash when resolved
};

class SqliteStore final : public store::Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const store::StoreOptions& options,
                                                   const std::filesystem::path& dir);
  ~SqliteStore() override;

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
  void Close() override;

 private:
  friend class SqliteAccounts;   // accounts.cc: uses the writer and the reader pool
  friend class SqliteNotebooks;  // notebooks.cc: likewise

  // A reader connection borrowed from the pool for one operation, inside one read transaction
  // (one snapshot). Returned to the pool on destruction.
  class Reader {
   public:
    Reader(SqliteStore* store, std::unique_ptr<Db> db);
    ~Reader();
    Reader(Reader&&) = default;
    Db& db() { return *db_; }

   private:
    SqliteStore* store_;
    std::unique_ptr<Db> db_;
  };

  SqliteStore(store::StoreOptions options, std::filesystem::path dir);

  Result<Reader> BorrowReader();
  Result<std::unique_ptr<Db>> OpenConnection(bool writer);
  Status CheckOpen() const;
  int64_t NowUs() const;

  // Ingest, on the writer thread, inside the job's savepoint.
  Result<store::IngestResult> ApplyBatch(Db& db, const RunKey& run, const v1::Batch& batch);

  store::StoreOptions options_;
  std::filesystem::path dir_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<SqliteAccounts> accounts_;
  std::unique_ptr<SqliteNotebooks> notebooks_;
  SeriesCache series_cache_{1 << 21};  // used by the writer thread only
  store::KnownFields known_fields_;    // project_fields rows committed; writer thread only
  WriterSequences writer_sequences_;   // last sequence per writer; writer thread only
  uint64_t jobs_since_trim_ = 0;       // writer thread only
  HelperThread read_helper_;           // a second core for chart reads

  std::atomic<bool> closed_{false};
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Db>> idle_readers_;  // guarded by readers_mu_
  size_t open_readers_ = 0;                        // guarded by readers_mu_
  static constexpr size_t kMaxReaders = 4;
};

// Helpers shared by the .cc files; `db` is any connection (reader or writer).
// "KEY-42" -> the run, NotFound when no such run.
Result<RunKey> ResolveRun(Db& db, std::string_view run_id);
Result<store::RunInfo> LoadRunInfo(Db& db, int64_t run_rowid);
// "workspace/project" -> projects.id, NotFound when unknown.
Result<int64_t> ResolveProject(Db& db, std::string_view project);
// Decodes a fields row's value (columns type, num, int, text).
store::Value DecodeFieldValue(store::FieldType type, const Stmt& q, int first_col);
// Decodes series columns (count, first_step, last_step, last_ts, last, min, max, last_text).
store::SeriesSummary ReadSeriesSummary(store::FieldType type, const Stmt& q, int first_col);
// Registers the REGEXP function (query::FilterRegex, compiled once per statement).
void RegisterRegexp(sqlite3* db);

}  // namespace nereid::store_sqlite
