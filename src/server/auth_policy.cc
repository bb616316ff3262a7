#include "server/auth_policy.h"

#include <array>

namespace nereid::server {
namespace {

struct Rule {
  std::string_view method;
  std::string_view route;
  Requirement requirement;
};

// Every API route. Keep in step with docs/http-api.md ("Who may call it").
constexpr std::array kRules = {
    // catalog
    Rule{"GET", "/api/v1/workspaces", {Scope::kAnyUser}},  // lists only what the caller sees
    Rule{"POST", "/api/v1/workspaces", {Scope::kServerAdmin}},
    Rule{"GET", "/api/v1/workspaces/{workspace}/projects", {Scope::kWorkspace, Level::kRead}},
    Rule{"POST", "/api/v1/workspaces/{workspace}/projects", {Scope::kWorkspace, Level::kManage}},
    Rule{"GET", "/api/v1/projects/{workspace}/{project}", {Scope::kProject, Level::kRead}},
    Rule{"POST", "/api/v1/projects/{workspace}/{project}/runs", {Scope::kProject, Level::kWrite}},
    Rule{"GET", "/api/v1/projects/{workspace}/{project}/runs", {Scope::kProject, Level::kRead}},
    Rule{"GET", "/api/v1/projects/{workspace}/{project}/fields", {Scope::kProject, Level::kRead}},
    // the trash: contributors move runs there and back; deleting forever frees usage, which is
    // the project owner's (or workspace admin's) call
    Rule{"POST", "/api/v1/projects/{workspace}/{project}/runs/trash",
         {Scope::kProject, Level::kWrite}},
    Rule{"POST", "/api/v1/projects/{workspace}/{project}/runs/restore",
         {Scope::kProject, Level::kWrite}},
    Rule{"POST", "/api/v1/projects/{workspace}/{project}/runs/delete",
         {Scope::kProject, Level::kManage}},
    // runs
    Rule{"GET", "/api/v1/runs/{run_id}", {Scope::kRun, Level::kRead}},
    Rule{"GET", "/api/v1/runs/{run_id}/fields", {Scope::kRun, Level::kRead}},
    Rule{"POST", "/api/v1/runs/{run_id}/batches", {Scope::kRun, Level::kWrite}},
    Rule{"GET", "/api/v1/runs/{run_id}/series", {Scope::kRun, Level::kRead}},
    Rule{"GET", "/api/v1/runs/{run_id}/series/buckets", {Scope::kRun, Level::kRead}},
    Rule{"GET", "/api/v1/runs/{run_id}/file", {Scope::kRun, Level::kRead}},
    // files: blobs are content-addressed and shared; uploading needs write access somewhere,
    // downloading by hash needs a role somewhere (the hash itself comes from a readable run)
    Rule{"POST", "/api/v1/files", {Scope::kAnyContributor}},
    Rule{"GET", "/api/v1/files/{sha256}", {Scope::kAnyUser}},
    // accounts
    Rule{"GET", "/api/v1/me", {Scope::kAnyUser}},
    Rule{"GET", "/api/v1/limits", {Scope::kAnyUser}},
    Rule{"GET", "/api/v1/users", {Scope::kServerAdmin}},
    Rule{"POST", "/api/v1/users", {Scope::kServerAdmin}},
    Rule{"GET", "/api/v1/users/{user}", {Scope::kSelfOrAdmin}},
    Rule{"PATCH", "/api/v1/users/{user}", {Scope::kServerAdmin}},
    Rule{"GET", "/api/v1/users/{user}/tokens", {Scope::kSelfOrAdmin}},
    Rule{"POST", "/api/v1/users/{user}/tokens", {Scope::kSelfOrAdmin}},
    Rule{"DELETE", "/api/v1/tokens/{token_id}", {Scope::kAnyUser}},  // own token or admin: handler
    Rule{"GET", "/api/v1/workspaces/{workspace}/members", {Scope::kWorkspace, Level::kRead}},
    Rule{"PUT",
         "/api/v1/workspaces/{workspace}/members/{user}",
         {Scope::kWorkspace, Level::kManage}},
    Rule{"DELETE",
         "/api/v1/workspaces/{workspace}/members/{user}",
         {Scope::kWorkspace, Level::kManage}},
    Rule{"GET", "/api/v1/projects/{workspace}/{project}/members", {Scope::kProject, Level::kRead}},
    Rule{"PUT",
         "/api/v1/projects/{workspace}/{project}/members/{user}",
         {Scope::kProject, Level::kManage}},
    Rule{"DELETE",
         "/api/v1/projects/{workspace}/{project}/members/{user}",
         {Scope::kProject, Level::kManage}},
    Rule{"GET", "/api/v1/workspaces/{workspace}/limits", {Scope::kWorkspace, Level::kRead}},
    Rule{"PUT", "/api/v1/workspaces/{workspace}/limits", {Scope::kServerAdmin}},
    Rule{"GET", "/api/v1/workspaces/{workspace}/usage", {Scope::kWorkspace, Level::kRead}},
    // web login (POST /login itself needs no credentials and is not behind Authed)
    Rule{"POST", "/api/v1/logout", {Scope::kAnyUser}},
    Rule{"GET", "/api/v1/session", {Scope::kAnyUser}},
    Rule{"PUT", "/api/v1/users/{user}/password", {Scope::kSelfOrAdmin}},
    // notebooks
    Rule{"POST",
         "/api/v1/projects/{workspace}/{project}/notebooks/checkpoints",
         {Scope::kProject, Level::kWrite}},
    Rule{
        "GET", "/api/v1/projects/{workspace}/{project}/notebooks", {Scope::kProject, Level::kRead}},
    Rule{"GET",
         "/api/v1/projects/{workspace}/{project}/notebooks/checkpoints",
         {Scope::kProject, Level::kRead}},
    Rule{"GET",
         "/api/v1/projects/{workspace}/{project}/notebooks/checkpoints/{checkpoint}",
         {Scope::kProject, Level::kRead}},
    Rule{"GET",
         "/api/v1/projects/{workspace}/{project}/notebooks/diff",
         {Scope::kProject, Level::kRead}},
};

std::string_view LevelWord(Level level) {
  switch (level) {
    case Level::kRead:
      return "read";
    case Level::kWrite:
      return "write to";
    case Level::kManage:
      return "manage";
  }
  return "use";
}

store::ProjectRole MinProjectRole(Level level) {
  switch (level) {
    case Level::kRead:
      return store::ProjectRole::kViewer;
    case Level::kWrite:
      return store::ProjectRole::kContributor;
    case Level::kManage:
      return store::ProjectRole::kOwner;
  }
  return store::ProjectRole::kOwner;
}

std::string_view Param(const http::Request& r, const char* name) {
  auto it = r.path_params.find(name);
  return it == r.path_params.end() ? std::string_view() : std::string_view(it->second);
}

Status CheckProject(const Principal& who, std::string_view project, Level level) {
  auto role = who.ProjectRoleIn(project);
  if (role && *role >= MinProjectRole(level)) return Status();
  std::string need(store::ProjectRoleName(MinProjectRole(level)));
  if (!role) {
    return PermissionDenied("user '" + who.user + "' has no role in project '" +
                            std::string(project) + "'");
  }
  return PermissionDenied(
      "user '" + who.user + "' is " + std::string(store::ProjectRoleName(*role)) + " of project '" +
      std::string(project) + "'; to " + std::string(LevelWord(level)) + " it needs " + need);
}

}  // namespace

std::optional<Requirement> RequirementFor(std::string_view method, std::string_view route) {
  if (method == "HEAD") method = "GET";
  for (const Rule& rule : kRules) {
    if (rule.method == method && rule.route == route) return rule.requirement;
  }
  return std::nullopt;
}

Status Authorize(const Principal& who, const http::Request& r, const ProjectOfKey& project_of_key) {
  auto req = RequirementFor(r.method, r.route);
  if (!req) {
    return PermissionDenied("no permission rule for " + r.method + " " + r.route +
                            " (refused until one is written)");
  }
  switch (req->scope) {
    case Scope::kAnyUser:
      return Status();
    case Scope::kAnyContributor: {
      if (who.is_admin) return Status();
      for (const auto& [ws, role] : who.workspaces) {
        if (role == store::WorkspaceRole::kAdmin) return Status();
      }
      for (const auto& [project, role] : who.projects) {
        if (role >= store::ProjectRole::kContributor) return Status();
      }
      return PermissionDenied("user '" + who.user + "' is not a contributor of any project");
    }
    case Scope::kServerAdmin:
      if (who.is_admin) return Status();
      return PermissionDenied("only a server administrator may do this");
    case Scope::kSelfOrAdmin:
      if (who.is_admin || Param(r, "user") == who.user) return Status();
      return PermissionDenied("user '" + who.user + "' may only see and manage their own account");
    case Scope::kWorkspace: {
      std::string_view ws = Param(r, "workspace");
      if (req->level == Level::kRead ? who.SeesWorkspace(ws) : who.IsWorkspaceAdmin(ws)) {
        return Status();
      }
      return PermissionDenied("user '" + who.user + "' may not " +
                              std::string(LevelWord(req->level)) + " workspace '" +
                              std::string(ws) + "'");
    }
    case Scope::kProject:
      return CheckProject(
          who, std::string(Param(r, "workspace")) + "/" + std::string(Param(r, "project")),
          req->level);
    case Scope::kRun: {
      std::string_view run_id = Param(r, "run_id");
      std::string_view key = run_id.substr(0, run_id.find('-'));
      std::optional<std::string> project = project_of_key(key);
      if (!project) {
        if (who.is_admin) return Status();  // the handler answers 404 in its own words
        return NotFound("run '" + std::string(run_id) + "' not found");
      }
      return CheckProject(who, *project, req->level);
    }
  }
  return PermissionDenied("refused");
}

}  // namespace nereid::server
