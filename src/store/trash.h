// The backend-neutral half of the trash: moving runs to the trash, restoring them, deleting
// them forever. Backends supply the SQL; the checks, the error messages and the removal of blob
// files nothing references any more live here so both backends answer identically.
//
// A trashed run keeps all of its data (and its share of the workspace usage): it is hidden from
// the runs table (ListRunsQuery::trashed lists only the trash), GetRun/GetFields still answer
// (RunInfo::trashed_time_us, field sys/trashed_time), and Ingest refuses it with
// FailedPrecondition. Only a trashed run can be deleted forever; deletion removes the run's
// fields, series, chunks, tags, writer sequences and file references in one transaction, which
// frees exactly its runs.size_bytes from the workspace usage. Run numbers are never reused (the
// project's counter does not go back); a custom_run_id of a deleted run is free again.
//
// Thread-safety: the functions are pure or touch only the BlobStore, which is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nereid/status.h"
#include "store/blob_store.h"

namespace nereid::store {

// The most runs one trash/restore/delete call takes (one transaction).
inline constexpr size_t kMaxTrashRuns = 1000;

// A run named in a request, as the backend found it.
struct TrashTarget {
  std::string id;       // "KEY-N", as asked
  int64_t rowid = 0;    // the backend's row id
  bool trashed = false;
};

// The request's ids, de-duplicated in their first order. InvalidArgument when empty, past
// kMaxTrashRuns or an id is empty.
Result<std::vector<std::string>> NormalizeRunIds(const std::vector<std::string>& ids);

// The run number of `id` if it has the form "<project_key>-N" (N > 0); 0 otherwise, i.e. a run
// that cannot belong to the project and is reported as not found.
int64_t RunNumberIn(std::string_view project_key, std::string_view id);

// NotFound naming every id of `unknown` (runs that do not exist in `project`): nothing applied.
Status RunsNotFound(std::string_view project, const std::vector<std::string>& unknown);

// FailedPrecondition naming the runs of `targets` that are not in the trash (delete forever takes
// only trashed runs), or OK.
Status CheckAllTrashed(const std::vector<TrashTarget>& targets);

// The error Ingest returns for a batch to a trashed run. The client keeps the batch in its spool
// (a 409 is not retried at once) and uploads it after the run is restored.
Status RunInTrash(std::string_view run_id);

// What DeleteRuns did.
struct DeleteRunsResult {
  std::vector<std::string> deleted;  // run ids, as asked
  int64_t freed_bytes = 0;           // the runs' size_bytes, now off the workspace usage
  uint64_t removed_files = 0;        // blob files no other run or checkpoint referenced
};

// Removes the files of blobs whose database rows the committed deletion removed. Called after
// COMMIT: a crash in between leaves unreferenced files (harmless, only disk space), never a
// referenced blob without its file. Returns how many files were removed; `blobs` may be null
// (no files folder: nothing to remove).
uint64_t RemoveBlobFiles(BlobStore* blobs, const std::vector<std::string>& sha256s);

}  // namespace nereid::store
