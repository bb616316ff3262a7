// The accounts part of the storage interface: users (people and service accounts), API tokens
// (stored only as hashes), workspace and project memberships with roles, per-user and
// per-workspace limits. Backends implement it beside their Store (Store::Accounts()). No SQL
// outside the backends.
//
// Thread-safety: every method may be called from many threads at once. Writes are durable when
// they return. Failure: a Status; NotFound names the missing user, workspace, project or token,
// AlreadyExists a taken name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nereid/status.h"

namespace nereid::store {

enum class UserKind { kPerson, kService };
std::string_view UserKindName(UserKind kind);  // "user", "service"

// A per-minute request rate with a burst; per_minute == 0 means unlimited.
struct RateSetting {
  int64_t per_minute = 0;
  int64_t burst = 0;
  bool operator==(const RateSetting&) const = default;
};

struct UserInfo {
  int64_t id = 0;
  std::string name;
  UserKind kind = UserKind::kPerson;
  bool is_admin = false;  // server administrator: every permission
  bool disabled = false;  // a disabled user's tokens and sessions are refused
  int64_t creation_time_us = 0;
  std::optional<RateSetting> rate;  // overrides the workspace and server defaults
};

struct TokenInfo {
  int64_t id = 0;
  std::string user;
  std::string name;  // a label chosen by its creator ("ci", "laptop")
  int64_t creation_time_us = 0;
  int64_t last_used_us = 0;     // 0: never used
  int64_t revoked_time_us = 0;  // 0: active
};

// Roles. Workspace: admin > member. Project: owner > contributor > viewer.
enum class WorkspaceRole { kMember = 1, kAdmin = 2 };
enum class ProjectRole { kViewer = 1, kContributor = 2, kOwner = 3 };
std::string_view WorkspaceRoleName(WorkspaceRole role);
std::optional<WorkspaceRole> ParseWorkspaceRole(std::string_view name);
std::string_view ProjectRoleName(ProjectRole role);
std::optional<ProjectRole> ParseProjectRole(std::string_view name);

struct WorkspaceGrant {
  std::string workspace;
  WorkspaceRole role;
};
struct ProjectGrant {
  std::string project;  // "workspace/project"
  ProjectRole role;
};
// Everything the server needs to authorize one user's requests, loaded in one read.
struct UserGrants {
  std::vector<WorkspaceGrant> workspaces;
  std::vector<ProjectGrant> projects;
};

struct Member {
  std::string user;
  std::string role;  // the role's name
};

struct WorkspaceLimits {
  std::optional<RateSetting> rate;     // for members without a per-user rate
  std::optional<int64_t> quota_bytes;  // storage quota; unset: unlimited
};

struct ProjectUsage {
  std::string project;  // "workspace/project"
  int64_t runs = 0;
  int64_t bytes = 0;  // run_bytes + notebook_bytes
  int64_t run_bytes = 0;
  int64_t notebook_checkpoints = 0;
  int64_t notebook_bytes = 0;
};
// What the storage quota is checked against (store/quota.h): the bytes of every run and every
// notebook checkpoint of the workspace. used_bytes is the sum of the projects' bytes.
struct WorkspaceUsage {
  std::string workspace;
  int64_t used_bytes = 0;
  int64_t notebook_bytes = 0;  // the part of used_bytes that is notebook checkpoints
  std::optional<int64_t> quota_bytes;
  std::vector<ProjectUsage> projects;
};

// A token looked up by hash, with its owner.
struct TokenOwner {
  TokenInfo token;
  UserInfo user;
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  // --- users ---
  virtual Result<UserInfo> CreateUser(std::string_view name, UserKind kind, bool is_admin) = 0;
  virtual Result<UserInfo> GetUser(std::string_view name) = 0;
  virtual Result<std::vector<UserInfo>> ListUsers() = 0;
  // Each optional that is set is changed; `rate` set to nullopt-inside clears the override.
  struct UserUpdate {
    std::optional<bool> disabled;
    std::optional<bool> is_admin;
    std::optional<std::optional<RateSetting>> rate;
  };
  virtual Result<UserInfo> UpdateUser(std::string_view name, const UserUpdate& update) = 0;
  // Password hash (an argon2id string) for web login; empty clears it.
  virtual Status SetPasswordHash(std::string_view user, std::string_view hash) = 0;
  virtual Result<std::string> GetPasswordHash(std::string_view user) = 0;  // empty: none set

  // --- tokens ---
  // `hash` is the token's SHA-256 (hex); the token itself never reaches the store.
  virtual Result<TokenInfo> CreateToken(std::string_view user, std::string_view name,
                                        std::string_view hash) = 0;
  // NotFound when no token has this hash (revoked tokens are found: the caller refuses them).
  virtual Result<TokenOwner> LookupToken(std::string_view hash) = 0;
  virtual Result<std::vector<TokenInfo>> ListTokens(std::string_view user) = 0;  // "" = all
  virtual Result<TokenInfo> GetToken(int64_t id) = 0;
  virtual Status RevokeToken(int64_t id) = 0;  // idempotent
  // Records last-used times (batched by the caller so requests do not each write).
  virtual Status TouchTokens(const std::vector<std::pair<int64_t, int64_t>>& id_and_time_us) = 0;

  // --- memberships ---
  virtual Result<UserGrants> GetGrants(int64_t user_id) = 0;
  // role nullopt removes the membership (idempotent).
  virtual Status SetWorkspaceRole(std::string_view workspace, std::string_view user,
                                  std::optional<WorkspaceRole> role) = 0;
  virtual Status SetProjectRole(std::string_view project, std::string_view user,
                                std::optional<ProjectRole> role) = 0;
  virtual Result<std::vector<Member>> ListWorkspaceMembers(std::string_view workspace) = 0;
  virtual Result<std::vector<Member>> ListProjectMembers(std::string_view project) = 0;

  // --- web sessions (only the session id's SHA-256 reaches the store) ---
  virtual Status CreateSession(std::string_view user, std::string_view hash,
                               int64_t expires_us) = 0;
  // The session's user; NotFound if the session is unknown or expired at `now_us`.
  virtual Result<UserInfo> LookupSession(std::string_view hash, int64_t now_us) = 0;
  virtual Status DeleteSession(std::string_view hash) = 0;  // idempotent

  // --- limits ---
  virtual Result<WorkspaceLimits> GetWorkspaceLimits(std::string_view workspace) = 0;
  virtual Status SetWorkspaceLimits(std::string_view workspace, const WorkspaceLimits& limits) = 0;
  virtual Result<WorkspaceUsage> GetWorkspaceUsage(std::string_view workspace) = 0;
};

}  // namespace nereid::store
