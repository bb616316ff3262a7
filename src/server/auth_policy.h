// Who may call which endpoint: one table from (method, route pattern) to a requirement, checked
// centrally by Authed() before any handler runs. A route missing from the table is refused
// (fail closed), and a unit test walks every registered route to keep the table complete.
//
// Thread-safety: the table is immutable; Authorize may run on any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http/server.h"
#include "nereid/status.h"
#include "server/auth.h"

namespace nereid::server {

enum class Scope {
  kAnyUser,         // any authenticated user
  kAnyContributor,  // a contributor (or more) of at least one project, or a workspace admin
  kServerAdmin,
  kSelfOrAdmin,  // path parameter {user} is the caller, or the caller is a server admin
  kWorkspace,    // path parameter {workspace}
  kProject,      // path parameters {workspace}/{project}
  kRun,          // path parameter {run_id}: its project
};

// kRead: viewer / any role in the workspace. kWrite: contributor / workspace admin.
// kManage: project owner / workspace admin.
enum class Level { kRead, kWrite, kManage };

struct Requirement {
  Scope scope;
  Level level = Level::kRead;
};

// The requirement of a route, or nullopt when the route is not in the table.
std::optional<Requirement> RequirementFor(std::string_view method, std::string_view route);

// Maps a run id's project key ("SAND" of "SAND-12") to "workspace/project"; nullopt if unknown.
using ProjectOfKey = std::function<std::optional<std::string>(std::string_view key)>;

// PermissionDenied (403) naming what is missing, NotFound for a run id whose project key does
// not exist. Never mentions the token.
Status Authorize(const Principal& who, const http::Request& request,
                 const ProjectOfKey& project_of_key);

}  // namespace nereid::server
