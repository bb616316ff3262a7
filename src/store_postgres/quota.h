// Workspace storage quotas for the PostgreSQL backend, exact across servers.
//
// Usage is computed from the database (the sum of runs.size_bytes over the workspace's runs plus
// its notebook checkpoints' sizes, the figure GetWorkspaceUsage reports; store/quota.h says what
// counts and makes the refusal's message), never from per-process counters, so every server sees every
// other server's ingest. To keep the check exact when servers ingest into one workspace at the
// same moment, Begin takes a row lock on the workspace's workspace_limits row (only when a quota
// is set): concurrent batches of that workspace then check and grow usage one transaction at a
// time, and the lock is released by COMMIT/ROLLBACK. Workspaces without a quota take no lock.
//
// Use (ingest): inside the batch's transaction (or its savepoint), Begin before applying the
// batch, Check after; a failed Check means roll the batch back. A transaction that locks two
// workspaces in different orders than another may deadlock; PostgreSQL aborts one and Transact
// retries it.
//
// Thread-safety: a QuotaGuard belongs to one transaction on one connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "store_postgres/pg.h"

namespace nereid::store_postgres {

struct RunKey;

class QuotaGuard {
 public:
  // Reads the run's workspace quota and, when one is set, locks it and reads the usage before the
  // batch.
  static Result<QuotaGuard> Begin(PgConn& conn, const RunKey& run);
  // QuotaExceeded (with used / limit in the message) if the batch grew the workspace past its
  // quota. A batch that does not grow usage always passes.
  Status Check(PgConn& conn, const RunKey& run) const;

 private:
  std::optional<int64_t> quota_;  // unset: unlimited, nothing to check
  std::string workspace_;
  int64_t used_before_ = 0;
  int64_t run_before_ = 0;
};

// Bytes used by a workspace's runs and notebook checkpoints (the figure the quota is checked
// against).
Result<int64_t> WorkspaceUsedBytes(PgConn& conn, int64_t workspace_id);

// Inside the transaction adding a new checkpoint of `size` bytes to a notebook of the project:
// takes the same workspace_limits row lock as Begin (so checkpoints and batches of a workspace
// are checked one at a time across servers), then QuotaExceeded if the checkpoint would take the
// workspace past its quota (the caller rolls back).
Status CheckCheckpointQuota(PgConn& conn, int64_t project_id, int64_t size);

}  // namespace nereid::store_postgres
