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

#include <cstdint>

#include "store/quota.h"
#include "store_sqlite/db.h"

namespace nereid::store_sqlite {

// The SQL of the quota steps (store/quota.h runs them).
struct QuotaSql {
  static Result<store::WorkspaceQuota> QuotaOfProject(Db& db, int64_t project_id);
  static Result<int64_t> WorkspaceUsedBytes(Db& db, int64_t workspace_id);
  static Result<int64_t> RunBytes(Db& db, int64_t run_id);
};

// Begin reads the run's workspace quota and, when one is set, the usage before the batch; Check
// refuses a batch that grew the workspace past it.
using QuotaGuard = store::BasicQuotaGuard<QuotaSql>;

// Within the writer job adding a new checkpoint of `size` bytes to a notebook of the project:
// QuotaExceeded if it would take the workspace past its quota (the job then rolls back).
Status CheckCheckpointQuota(Db& db, int64_t project_id, int64_t size);

}  // namespace nereid::store_sqlite
