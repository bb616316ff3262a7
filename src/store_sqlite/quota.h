// Workspace storage quotas, enforced inside the group-commit writer so that the check is exact
// under concurrent ingest: batches are applied one at a time, each in its own savepoint, and a
// batch that would take its workspace past the quota is refused whole (its savepoint rolled back).
//
// Usage is the sum of runs.size_bytes over the workspace's runs (fields, series chunks, files
// referenced; see ingest.cc for how run sizes are kept) plus its notebook checkpoints' sizes
// (store/quota.h says what counts; the refusal's message is made there too).
//
// Thread-safety: QuotaGuard is used on the writer thread only, within one job.
#pragma once

#include <optional>
#include <string>

#include "store_sqlite/db.h"

namespace nereid::store_sqlite {

struct RunKey;

class QuotaGuard {
 public:
  // Reads the run's workspace quota and, when one is set, the usage before the batch.
  static Result<QuotaGuard> Begin(Db& db, const RunKey& run);
  // QuotaExceeded (with used / limit in the message) if the batch grew the workspace past its
  // quota. A batch that does not grow usage always passes, so deletes-by-overwrite are never
  // refused.
  Status Check(Db& db, const RunKey& run) const;

 private:
  std::optional<int64_t> quota_;  // unset: unlimited, nothing to check
  std::string workspace_;
  int64_t used_before_ = 0;
  int64_t run_before_ = 0;
};

// Bytes used by a workspace's runs and notebook checkpoints (the figure the quota is checked
// against).
Result<int64_t> WorkspaceUsedBytes(Db& db, int64_t workspace_id);

// Within the writer job adding a new checkpoint of `size` bytes to a notebook of the project:
// QuotaExceeded if it would take the workspace past its quota (the job then rolls back).
Status CheckCheckpointQuota(Db& db, int64_t project_id, int64_t size);

}  // namespace nereid::store_sqlite
