// The workspace storage quota's rule, shared by the backends: what a refusal says, for a run's
// batch and for a notebook checkpoint alike (one message shape, one 507 quota_exceeded). The
// backends supply the figures, read by SQL inside the transaction that writes.
//
// What counts against a workspace's quota: the stored size of its runs (runs.size_bytes) plus the
// size of every notebook checkpoint of its projects. A checkpoint counts once per notebook that
// has it: uploading content a notebook already has adds nothing (the existing checkpoint is
// returned), while the same content in two notebooks counts twice, like a file logged by two runs
// (the blob store keeps one copy either way; the quota charges what each project holds).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nereid/status.h"

namespace nereid::store {

// OK when there is no quota or the write does not take `used_before` past it; a write that does
// not grow usage (grew <= 0) always passes. Else QuotaExceeded naming the workspace, the usage,
// the quota and what `what` ("this batch", "this notebook checkpoint") needs.
Status CheckQuota(std::string_view workspace, std::optional<int64_t> quota, int64_t used_before,
                  int64_t grew, std::string_view what);

// The workspace whose quota covers a project, as a backend read it.
struct WorkspaceQuota {
  int64_t workspace_id = 0;
  std::string workspace;
  std::optional<int64_t> quota;  // unset: unlimited, nothing to check
};

// The quota steps inside the transaction that writes are the same on every backend; only the SQL
// differs. `Sql` supplies it as static functions over the backend's connection type `Conn`:
//   Result<WorkspaceQuota> QuotaOfProject(Conn&, int64_t project_id)  (takes the backend's lock)
//   Result<int64_t> WorkspaceUsedBytes(Conn&, int64_t workspace_id)
//   Result<int64_t> RunBytes(Conn&, int64_t run_id)
// A template rather than a virtual interface: the connection types share no base, and the steps
// run once per batch inside the writer's hot path.
template <class Sql>
class BasicQuotaGuard {
 public:
  // Reads the run's workspace quota and, when one is set, the usage before the batch. `run` has
  // the backend's row ids `id` and `project_id`.
  template <class Conn, class Run>
  static Result<BasicQuotaGuard> Begin(Conn& conn, const Run& run) {
    BasicQuotaGuard g;
    NEREID_ASSIGN_OR_RETURN(WorkspaceQuota wq, Sql::QuotaOfProject(conn, run.project_id));
    if (!wq.quota) return g;
    g.workspace_ = std::move(wq.workspace);
    g.quota_ = wq.quota;
    NEREID_ASSIGN_OR_RETURN(g.used_before_, Sql::WorkspaceUsedBytes(conn, wq.workspace_id));
    NEREID_ASSIGN_OR_RETURN(g.run_before_, Sql::RunBytes(conn, run.id));
    return g;
  }

  // QuotaExceeded (with used / limit in the message) if the batch grew the workspace past its
  // quota. A batch that does not grow usage always passes, so deletes-by-overwrite are never
  // refused.
  template <class Conn, class Run>
  Status Check(Conn& conn, const Run& run) const {
    if (!quota_) return Status();
    NEREID_ASSIGN_OR_RETURN(int64_t run_after, Sql::RunBytes(conn, run.id));
    return CheckQuota(workspace_, quota_, used_before_, run_after - run_before_, "this batch");
  }

 private:
  std::optional<int64_t> quota_;
  std::string workspace_;
  int64_t used_before_ = 0;
  int64_t run_before_ = 0;
};

// Within the transaction adding a new checkpoint of `size` bytes to a notebook of the project:
// QuotaExceeded if it would take the workspace past its quota (the caller rolls back).
template <class Sql, class Conn>
Status CheckCheckpointQuotaWith(Conn& conn, int64_t project_id, int64_t size) {
  NEREID_ASSIGN_OR_RETURN(WorkspaceQuota wq, Sql::QuotaOfProject(conn, project_id));
  if (!wq.quota) return Status();
  NEREID_ASSIGN_OR_RETURN(int64_t used, Sql::WorkspaceUsedBytes(conn, wq.workspace_id));
  return CheckQuota(wq.workspace, wq.quota, used, size, "this notebook checkpoint");
}

}  // namespace nereid::store
