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

#include "store/quota.h"
#include "store_postgres/pg.h"

namespace nereid::store_postgres {

// The SQL of the quota steps (store/quota.h runs them). QuotaOfProject locks the workspace's
// workspace_limits row when a quota is set.
struct QuotaSql {
  static Result<store::WorkspaceQuota> QuotaOfProject(PgConn& conn, int64_t project_id);
  static Result<int64_t> WorkspaceUsedBytes(PgConn& conn, int64_t workspace_id);
  static Result<int64_t> RunBytes(PgConn& conn, int64_t run_id);
};

// Begin reads the run's workspace quota and, when one is set, locks it and reads the usage before
// the batch; Check refuses a batch that grew the workspace past it.
using QuotaGuard = store::BasicQuotaGuard<QuotaSql>;

// Inside the transaction adding a new checkpoint of `size` bytes to a notebook of the project:
// takes the same workspace_limits row lock as Begin (so checkpoints and batches of a workspace
// are checked one at a time across servers), then QuotaExceeded if the checkpoint would take the
// workspace past its quota (the caller rolls back).
Status CheckCheckpointQuota(PgConn& conn, int64_t project_id, int64_t size);

}  // namespace nereid::store_postgres
