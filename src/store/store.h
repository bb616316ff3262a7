// The storage interface the HTTP layer talks to. Backends: SQLite (store_sqlite, the embedded
// default) and PostgreSQL (store_postgres). No SQL outside the backends.
//
// Thread-safety: every method may be called from many threads at once. Writes go through one
// writer per store with group commit: Ingest blocks until its batch is durably committed (or
// refused), sharing one transaction with the batches that arrived meanwhile.
// Failure: methods return a Status; a refused batch changes nothing (all or nothing per batch).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nereid/status.h"
#include "query/filter.h"
#include "store/accounts.h"
#include "store/notebooks.h"
#include "store/project_fields.h"
#include "store/rate_share.h"
#include "store/trash.h"
#include "store/types.h"

namespace nereid::v1 {
class Batch;
}

namespace nereid::store {

struct ListRunsQuery {
  std::string project;                  // "workspace/project"
  const query::Expr* filter = nullptr;  // may be null (all runs); owned by the caller
  query::FieldRef sort{"sys/creation_time", query::Aggregate::kNone};
  bool descending = true;
  std::vector<query::FieldRef> columns;  // cells to return per row
  uint32_t limit = 100;                  // 1..1000
  std::string cursor;                    // from the previous page's next_cursor
  // Rows of the sorted list to skip before the page (position paging), 0..kMaxRunsOffset; only
  // without a cursor. Costs work proportional to the offset, so it is bounded.
  uint64_t offset = 0;
  // Whether to count the matching runs into RunPage::total: work proportional to their number, so
  // a caller that already knows it (a later page of the same list) says false. Default: true.
  bool count_total = true;
  // false (default): the runs not in the trash; true: only the trashed runs (store/trash.h).
  bool trashed = false;
};

// The largest ListRunsQuery::offset: far beyond the 100k-run tables the web UI is built for,
// small enough that skipping that many rows stays a fraction of a second.
inline constexpr uint64_t kMaxRunsOffset = 1'000'000;

// The checks of a ListRunsQuery every backend makes first (limit, offset, offset with cursor):
// InvalidArgument naming the bad parameter, else OK.
Status CheckListRunsQuery(const ListRunsQuery& query);

struct SeriesQuery {
  std::string run_id;
  std::string path;
  double step_from = -1.0 / 0.0;  // inclusive
  double step_to = 1.0 / 0.0;     // inclusive
  uint32_t limit = 10000;         // points per page, 1..100000
  std::string cursor;
};

struct BucketQuery {
  std::string run_id;
  std::string path;
  // Range of steps; when unset, the series' own first and last step.
  std::optional<double> step_from, step_to;
  uint32_t buckets = 1000;  // 1..10000
};

class Store {
 public:
  virtual ~Store() = default;

  // --- workspaces and projects ---
  virtual Result<WorkspaceInfo> CreateWorkspace(std::string_view name) = 0;
  virtual Result<std::vector<WorkspaceInfo>> ListWorkspaces() = 0;
  // key: 1-10 capitals, unique on the server (AlreadyExists otherwise).
  virtual Result<ProjectInfo> CreateProject(std::string_view workspace, std::string_view name,
                                            std::string_view key) = 0;
  virtual Result<ProjectInfo> GetProject(std::string_view project) = 0;  // "workspace/project"
  virtual Result<std::vector<ProjectInfo>> ListProjects(std::string_view workspace) = 0;

  // --- runs ---
  virtual Result<CreateRunResult> CreateRun(const CreateRunRequest& request) = 0;
  virtual Result<RunInfo> GetRun(std::string_view run_id) = 0;
  // Fields of a run, sys/ fields included, ordered by path; `prefix` ("params" or "params/")
  // limits them to a subtree. NotFound for an unknown run.
  virtual Result<std::vector<Field>> GetFields(std::string_view run_id,
                                               std::string_view prefix) = 0;
  virtual Result<RunPage> ListRuns(const ListRunsQuery& query) = 0;
  // Every (path, type) logged in the project's runs plus the sys/ fields, ordered by path then
  // type, from the registry ingest keeps (store/project_fields.h): its cost does not grow with the
  // number of runs. Paths of deleted runs may remain. NotFound for an unknown project,
  // InvalidArgument for a limit outside 1..kMaxFieldListLimit.
  virtual Result<FieldList> ListProjectFields(const FieldListQuery& query) = 0;

  // --- the trash (store/trash.h) ---
  // Each call takes runs of one project ("KEY-N" ids, see NormalizeRunIds) and is all or
  // nothing: NotFound naming every id that is not a run of `project`, and then nothing changes.
  // Moves runs to the trash; a run already there keeps its trashed time.
  virtual Status TrashRuns(std::string_view project, const std::vector<std::string>& run_ids) = 0;
  // Takes runs out of the trash; a run not in the trash is left as it is.
  virtual Status RestoreRuns(std::string_view project,
                             const std::vector<std::string>& run_ids) = 0;
  // Deletes trashed runs forever (FailedPrecondition naming the runs not in the trash), frees
  // their bytes from the workspace usage and removes the blob files no remaining run and no
  // notebook checkpoint references. Returns once durable.
  virtual Result<DeleteRunsResult> DeleteRuns(std::string_view project,
                                              const std::vector<std::string>& run_ids) = 0;

  // --- ingest ---
  // Applies a validated batch (wire::ValidateBatch has run) to a run, all or nothing, and returns
  // once it is durable. FailedPrecondition (store::RunInTrash) for a run in the trash. A batch whose sequence is <= the last applied for (run, writer) is not
  // applied again: the result says duplicate. Errors: NotFound (run), TypeConflict (a path already
  // holds another type), InvalidArgument (a file reference to an unknown blob, a bad sys/ write).
  virtual Result<IngestResult> Ingest(std::string_view run_id, const v1::Batch& batch) = 0;

  // --- series reads ---
  virtual Result<SeriesPage> ReadSeries(const SeriesQuery& query) = 0;
  virtual Result<std::vector<series::Bucket>> ReadBuckets(const BucketQuery& query) = 0;

  // --- files (blobs live in the files folder; the database keeps their metadata) ---
  // Records a blob written by BlobStore (idempotent for the same sha256).
  virtual Status RecordBlob(std::string_view sha256, int64_t size) = 0;
  // Size of a recorded blob; NotFound if never recorded.
  virtual Result<int64_t> BlobSize(std::string_view sha256) = 0;
  // The file held by a file field, or by a file series at `step` (nullopt = last point).
  virtual Result<FileInfo> GetFile(std::string_view run_id, std::string_view path,
                                   std::optional<double> step) = 0;

  // --- server settings (e.g. the admin token hash) ---
  virtual Result<std::optional<std::string>> GetSetting(std::string_view key) = 0;
  virtual Status SetSetting(std::string_view key, std::string_view value) = 0;

  virtual StoreStats Stats() = 0;

  // --- accounts (users, tokens, memberships, limits): store/accounts.h ---
  // Owned by the store; valid until it is destroyed.
  virtual AccountStore* Accounts() = 0;
  // --- notebooks and their checkpoints: store/notebooks.h --- (owned by the store)
  virtual NotebookStore* Notebooks() = 0;
  // --- rate limits shared by several servers on one database: store/rate_share.h ---
  // Owned by the store; nullptr (the default) when one server owns the database and keeps its
  // limits in memory.
  virtual RateShare* RateSharing() { return nullptr; }

  // Finishes queued writes and closes. Later calls fail with Unavailable.
  virtual void Close() = 0;
};

struct StoreOptions {
  std::string url;       // "sqlite:DIR" (default "sqlite:./nereid-data") or "postgres://..."
  std::string data_dir;  // where the files folder lives (DIR/files)
  // The files folder itself, shared by several servers (overrides data_dir/files).
  std::string files_dir;
  // "full": fsync every group commit (survives power loss). "normal": survives process crashes
  // (kill -9) but a power loss may lose the last commits. Default full.
  std::string synchronous = "full";
  // Clock in microseconds since the epoch; tests replace it.
  std::function<int64_t()> now_us;
};

using StoreFactory = std::function<Result<std::unique_ptr<Store>>(const StoreOptions&)>;

// Backends register under a URL scheme ("sqlite", "postgres") at start-up.
void RegisterBackend(std::string scheme, StoreFactory factory);
// Opens the backend named by options.url's scheme.
Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options);

}  // namespace nereid::store
