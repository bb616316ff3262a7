// PgStore: workspaces, projects and runs.
//
// Catalog writes are rare and small, so each runs in its own transaction on a pooled connection
// rather than through the ingest writer. Uniqueness is enforced by the schema's constraints; the
// checks before each INSERT exist only to give the person a message that names what is taken.
#include <unordered_map>

#include "common/path.h"
#include "store_postgres/pg_store_impl.h"

namespace nereid::store_postgres {
namespace {

std::pair<std::string_view, std::string_view> SplitProject(std::string_view project) {
  size_t slash = project.find('/');
  if (slash == std::string_view::npos) return {project, {}};
  return {project.substr(0, slash), project.substr(slash + 1)};
}

store::ProjectInfo ReadProject(const PgResult& r, int row) {
  return {r.Text(row, 0), r.Text(row, 1), r.Text(row, 2), r.Int(row, 3), r.Int(row, 4)};
}

constexpr const char* kProjectColumns =
    "SELECT w.name, p.name, p.key, p.created_us, p.next_run_number - 1 FROM projects p "
    "JOIN workspaces w ON w.id = p.workspace_id ";

}  // namespace

// --- workspaces and projects ---

Result<store::WorkspaceInfo> PgStore::CreateWorkspace(std::string_view name) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_RETURN_IF_ERROR(common::ValidateName("workspace", name));
  store::WorkspaceInfo out{std::string(name), NowUs()};
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  Result<PgResult> r = conn->Query("INSERT INTO workspaces(name, created_us) VALUES($1, $2)",
                                   PgParams().Text(name).Int(out.creation_time_us));
  if (r.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("workspace '" + out.name + "' exists");
  }
  NEREID_RETURN_IF_ERROR(r.status());
  return out;
}

Result<std::vector<store::WorkspaceInfo>> PgStore::ListWorkspaces() {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  // Byte order, as SQLite sorts, whatever the database's locale.
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query("SELECT name, created_us FROM workspaces ORDER BY name COLLATE \"C\""));
  std::vector<store::WorkspaceInfo> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.Text(i, 0), r.Int(i, 1)});
  return out;
}

Result<store::ProjectInfo> PgStore::CreateProject(std::string_view workspace, std::string_view name,
                                                  std::string_view key) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_RETURN_IF_ERROR(common::ValidateName("project", name));
  NEREID_RETURN_IF_ERROR(common::ValidateProjectKey(key));
  store::ProjectInfo out{std::string(workspace), std::string(name), std::string(key), NowUs(), 0};
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  Status s = Transact(*conn, [&](PgConn& c) -> Status {
    NEREID_ASSIGN_OR_RETURN(PgResult ws, c.Query("SELECT id FROM workspaces WHERE name = $1",
                                                 PgParams().Text(workspace)));
    if (ws.rows() == 0) return NotFound("workspace '" + out.workspace + "' not found");
    const int64_t workspace_id = ws.Int(0, 0);
    NEREID_ASSIGN_OR_RETURN(PgResult taken,
                            c.Query("SELECT 1 FROM projects WHERE key = $1", PgParams().Text(key)));
    if (taken.rows() > 0) return AlreadyExists("project key '" + out.key + "' is taken");
    NEREID_ASSIGN_OR_RETURN(PgResult exists,
                            c.Query("SELECT 1 FROM projects WHERE workspace_id = $1 AND name = $2",
                                    PgParams().Int(workspace_id).Text(name)));
    if (exists.rows() > 0) {
      return AlreadyExists("project '" + out.workspace + "/" + out.name + "' exists");
    }
    return c
        .Query("INSERT INTO projects(workspace_id, name, key, created_us) VALUES($1, $2, $3, $4)",
               PgParams().Int(workspace_id).Text(name).Text(key).Int(out.creation_time_us))
        .status();
  });
  // Another server created the same key or name between the checks and the INSERT.
  if (s.code() == StatusCode::kAlreadyExists && s.message().find("SQLSTATE") != std::string::npos) {
    return AlreadyExists("project '" + out.workspace + "/" + out.name + "' or key '" + out.key +
                         "' was just created by another request");
  }
  NEREID_RETURN_IF_ERROR(s);
  return out;
}

Result<int64_t> ResolveProject(PgConn& conn, std::string_view project) {
  auto [workspace, name] = SplitProject(project);
  NEREID_ASSIGN_OR_RETURN(PgResult r,
                          conn.Query("SELECT p.id FROM projects p JOIN workspaces w ON w.id = "
                                     "p.workspace_id WHERE w.name = $1 AND p.name = $2",
                                     PgParams().Text(workspace).Text(name)));
  if (r.rows() == 0) return NotFound("project '" + std::string(project) + "' not found");
  return r.Int(0, 0);
}

Result<store::ProjectInfo> PgStore::GetProject(std::string_view project) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  auto [workspace, name] = SplitProject(project);
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query(std::string(kProjectColumns) + "WHERE w.name = $1 AND p.name = $2",
                              PgParams().Text(workspace).Text(name)));
  if (r.rows() == 0) return NotFound("project '" + std::string(project) + "' not found");
  return ReadProject(r, 0);
}

Result<std::vector<store::ProjectInfo>> PgStore::ListProjects(std::string_view workspace) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  NEREID_ASSIGN_OR_RETURN(PgResult ws, conn->Query("SELECT 1 FROM workspaces WHERE name = $1",
                                                   PgParams().Text(workspace)));
  if (ws.rows() == 0) return NotFound("workspace '" + std::string(workspace) + "' not found");
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query(std::string(kProjectColumns) + "WHERE w.name = $1 ORDER BY p.name COLLATE \"C\"",
                  PgParams().Text(workspace)));
  std::vector<store::ProjectInfo> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadProject(r, i));
  return out;
}

// --- runs ---

Result<RunKey> ResolveRun(PgConn& conn, std::string_view run_id) {
  size_t dash = run_id.rfind('-');
  int64_t number = 0;
  bool valid = dash != std::string_view::npos && dash > 0 && dash + 1 < run_id.size() &&
               run_id.size() - dash <= 19;
  for (size_t i = dash + 1; valid && i < run_id.size(); ++i) {
    if (run_id[i] < '0' || run_id[i] > '9') valid = false;
    number = number * 10 + (run_id[i] - '0');
  }
  if (!valid) return NotFound("run '" + std::string(run_id) + "' not found");
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn.Query("SELECT r.id, r.project_id FROM runs r JOIN projects p ON p.id = "
                             "r.project_id WHERE p.key = $1 AND r.number = $2",
                             PgParams().Text(run_id.substr(0, dash)).Int(number)));
  if (r.rows() == 0) return NotFound("run '" + std::string(run_id) + "' not found");
  return RunKey{r.Int(0, 0), r.Int(0, 1), std::string(run_id.substr(0, dash))};
}

Result<std::vector<store::RunInfo>> LoadRunInfos(PgConn& conn, const std::vector<int64_t>& ids) {
  std::string array = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    array += (i > 0 ? "," : "") + std::to_string(ids[i]);
  }
  array += "}";
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query("SELECT r.id, p.key, r.number, w.name, p.name, r.custom_run_id, r.name, "
                 "r.description, r.state, r.failed, r.created_us, r.modified_us, r.ping_us, "
                 "r.owner, r.size_bytes, ARRAY(SELECT tag FROM run_tags t WHERE t.run_id = r.id "
                 "ORDER BY tag COLLATE \"C\"), COALESCE(r.trashed_us, 0) "
                 "FROM runs r JOIN projects p ON p.id = r.project_id "
                 "JOIN workspaces w ON w.id = p.workspace_id WHERE r.id = ANY($1::bigint[])",
                 PgParams().Text(array)));
  std::unordered_map<int64_t, int> row_of;
  for (int i = 0; i < r.rows(); ++i) row_of[r.Int(i, 0)] = i;
  std::vector<store::RunInfo> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    auto it = row_of.find(id);
    if (it == row_of.end()) return NotFound("run " + std::to_string(id) + " not found");
    const int i = it->second;
    store::RunInfo& run = out.emplace_back();
    run.id = r.Text(i, 1) + "-" + std::to_string(r.Int(i, 2));
    run.project = r.Text(i, 3) + "/" + r.Text(i, 4);
    run.custom_run_id = r.Text(i, 5);
    run.name = r.Text(i, 6);
    run.description = r.Text(i, 7);
    run.state = store::ParseRunState(r.Text(i, 8)).value_or(store::RunState::kRunning);
    run.failed = r.Bool(i, 9);
    run.creation_time_us = r.Int(i, 10);
    run.modification_time_us = r.Int(i, 11);
    run.ping_time_us = r.Int(i, 12);
    run.owner = r.Text(i, 13);
    run.size_bytes = r.Int(i, 14);
    run.tags = ParseTextArray(r.Raw(i, 15));
    run.trashed_time_us = r.Int(i, 16);
  }
  return out;
}

Result<store::RunInfo> LoadRunInfo(PgConn& conn, int64_t run_rowid) {
  NEREID_ASSIGN_OR_RETURN(std::vector<store::RunInfo> runs, LoadRunInfos(conn, {run_rowid}));
  return std::move(runs.front());
}

Result<store::CreateRunResult> PgStore::CreateRun(const store::CreateRunRequest& request) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  store::CreateRunResult out;
  const int64_t now = NowUs();
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  NEREID_RETURN_IF_ERROR(Transact(*conn, [&](PgConn& c) -> Status {
    NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(c, request.project));
    if (!request.custom_run_id.empty()) {
      // Lock the project row first: a concurrent creation of the same custom id (on this server
      // or another) waits here, then finds the run the first one made, instead of failing on the
      // unique constraint. The statements below read the latest committed rows (READ COMMITTED).
      NEREID_RETURN_IF_ERROR(
          c.Query("SELECT 1 FROM projects WHERE id = $1 FOR UPDATE", PgParams().Int(project_id))
              .status());
      NEREID_ASSIGN_OR_RETURN(
          PgResult found,
          c.Query("SELECT id FROM runs WHERE project_id = $1 AND custom_run_id = $2",
                  PgParams().Int(project_id).Text(request.custom_run_id)));
      if (found.rows() > 0) {
        NEREID_ASSIGN_OR_RETURN(out.run, LoadRunInfo(c, found.Int(0, 0)));
        out.created = false;
        return Status();
      }
    }
    // A counter, not MAX(number)+1: numbers are never reused. The UPDATE's row lock serialises
    // concurrent creations across servers; a rolled-back creation leaves a gap, never a repeat.
    NEREID_ASSIGN_OR_RETURN(
        PgResult counter,
        c.Query("UPDATE projects SET next_run_number = next_run_number + 1 WHERE id = $1 "
                "RETURNING next_run_number - 1",
                PgParams().Int(project_id)));
    if (counter.rows() == 0) return Internal("project vanished");
    const int64_t number = counter.Int(0, 0);
    PgParams p;
    p.Int(project_id).Int(number);
    if (request.custom_run_id.empty()) {
      p.Null();
    } else {
      p.Text(request.custom_run_id);
    }
    p.Text(request.name).Text(request.description).Int(now).Int(now).Int(now).Text(request.owner);
    NEREID_ASSIGN_OR_RETURN(
        PgResult inserted,
        c.Query("INSERT INTO runs(project_id, number, custom_run_id, name, description, "
                "created_us, modified_us, ping_us, owner) VALUES($1, $2, $3, $4, $5, $6, $7, $8, "
                "$9) RETURNING id",
                p));
    const int64_t id = inserted.Int(0, 0);
    for (const std::string& tag : request.tags) {
      NEREID_RETURN_IF_ERROR(c.Query("INSERT INTO run_tags(run_id, tag) VALUES($1, $2) "
                                     "ON CONFLICT (run_id, md5(tag)) DO NOTHING",
                                     PgParams().Int(id).Text(tag))
                                 .status());
    }
    NEREID_ASSIGN_OR_RETURN(out.run, LoadRunInfo(c, id));
    out.created = true;
    return Status();
  }));
  return out;
}

Result<store::RunInfo> PgStore::GetRun(std::string_view run_id) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  NEREID_ASSIGN_OR_RETURN(RunKey key, ResolveRun(*conn, run_id));
  return LoadRunInfo(*conn, key.id);
}

}  // namespace nereid::store_postgres
