// Users, tokens, memberships, sessions and workspace limits in PostgreSQL.
//
// Writes that used to be "check, then write" in the SQLite backend (whose single writer thread
// made that safe) are single statements here: another server may run the same request at the
// same moment, so existence checks ride on the write itself (INSERT ... ON CONFLICT DO NOTHING
// RETURNING, UPDATE ... RETURNING) and a missing row is reported from what the statement saw.
// Names are ordered with COLLATE "C" (byte order), as SQLite orders them, whatever the
// database's locale.
#include "store_postgres/accounts.h"

#include <algorithm>
#include <map>

#include "common/path.h"
#include "store_postgres/pg_store_impl.h"
#include "store_postgres/quota.h"

namespace nereid::store_postgres {
namespace {

using store::UserInfo;

constexpr const char* kUserColumns =
    "u.id, u.name, u.kind, u.is_admin, u.disabled, u.created_us, u.rate_per_minute, "
    "u.rate_burst";
constexpr int kUserColumnCount = 8;

UserInfo ReadUser(const PgResult& r, int row, int c) {
  UserInfo u;
  u.id = r.Int(row, c);
  u.name = r.Text(row, c + 1);
  u.kind = r.Int(row, c + 2) == 1 ? store::UserKind::kService : store::UserKind::kPerson;
  u.is_admin = r.Bool(row, c + 3);
  u.disabled = r.Bool(row, c + 4);
  u.creation_time_us = r.Int(row, c + 5);
  if (!r.IsNull(row, c + 6)) u.rate = store::RateSetting{r.Int(row, c + 6), r.Int(row, c + 7)};
  return u;
}

constexpr const char* kTokenColumns =
    "t.id, u.name, t.name, t.created_us, t.last_used_us, t.revoked_us";

store::TokenInfo ReadToken(const PgResult& r, int row, int c) {
  return {r.Int(row, c),     r.Text(row, c + 1), r.Text(row, c + 2),
          r.Int(row, c + 3), r.Int(row, c + 4),  r.Int(row, c + 5)};
}

std::string Sql(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out += p;
  return out;
}

Status UserNotFound(std::string_view name) {
  return NotFound("user '" + std::string(name) + "' not found");
}
Status WorkspaceNotFound(std::string_view name) {
  return NotFound("workspace '" + std::string(name) + "' not found");
}

Result<int64_t> UserId(PgConn& conn, std::string_view name) {
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn.Query("SELECT id FROM users WHERE name = $1", PgParams().Text(name)));
  if (r.rows() == 0) return UserNotFound(name);
  return r.Int(0, 0);
}

Result<int64_t> WorkspaceId(PgConn& conn, std::string_view name) {
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn.Query("SELECT id FROM workspaces WHERE name = $1", PgParams().Text(name)));
  if (r.rows() == 0) return WorkspaceNotFound(name);
  return r.Int(0, 0);
}

Result<PgPool::Lease> Borrow(PgStore* store) {
  NEREID_RETURN_IF_ERROR(store->CheckOpen());
  return store->pool().Borrow();
}

template <typename Role, typename NameOf>
Result<std::vector<store::Member>> ReadMembers(const PgResult& r, NameOf name_of) {
  std::vector<store::Member> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.Text(i, 0), std::string(name_of(static_cast<Role>(r.Int(i, 1))))});
  }
  return out;
}

}  // namespace

// --- users ---

Result<UserInfo> PgAccounts::CreateUser(std::string_view name, store::UserKind kind,
                                        bool is_admin) {
  NEREID_RETURN_IF_ERROR(common::ValidateName("user name", name));
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  UserInfo out;
  out.name = std::string(name);
  out.kind = kind;
  out.is_admin = is_admin;
  out.creation_time_us = store_->NowUs();
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query("INSERT INTO users(name, kind, is_admin, created_us) VALUES($1, $2, $3, $4) "
                  "ON CONFLICT (name) DO NOTHING RETURNING id",
                  PgParams()
                      .Text(name)
                      .Int(kind == store::UserKind::kService ? 1 : 0)
                      .Bool(is_admin)
                      .Int(out.creation_time_us)));
  if (r.rows() == 0) return AlreadyExists("user '" + out.name + "' exists");
  out.id = r.Int(0, 0);
  return out;
}

Result<UserInfo> PgAccounts::GetUser(std::string_view name) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(PgResult r,
                          conn->Query(Sql({"SELECT ", kUserColumns, " FROM users u WHERE name = $1"}),
                                      PgParams().Text(name)));
  if (r.rows() == 0) return UserNotFound(name);
  return ReadUser(r, 0, 0);
}

Result<std::vector<UserInfo>> PgAccounts::ListUsers() {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query(Sql({"SELECT ", kUserColumns, " FROM users u ORDER BY u.name COLLATE \"C\""})));
  std::vector<UserInfo> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadUser(r, i, 0));
  return out;
}

Result<UserInfo> PgAccounts::UpdateUser(std::string_view name, const UserUpdate& update) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  // One statement, so the change is atomic and the row returned is the one written. An unset
  // field keeps its value (NULL parameter -> COALESCE); the rate is replaced only when
  // update.rate is set, possibly by NULLs (override cleared).
  PgParams p;
  p.Text(name);
  update.disabled ? p.Bool(*update.disabled) : p.Null();
  update.is_admin ? p.Bool(*update.is_admin) : p.Null();
  p.Bool(update.rate.has_value());
  if (update.rate && *update.rate) {
    p.Int((*update.rate)->per_minute).Int((*update.rate)->burst);
  } else {
    p.Null().Null();
  }
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query(Sql({"UPDATE users u SET disabled = COALESCE($2::boolean, u.disabled),"
                       " is_admin = COALESCE($3::boolean, u.is_admin),"
                       " rate_per_minute = CASE WHEN $4::boolean THEN $5::bigint"
                       " ELSE u.rate_per_minute END,"
                       " rate_burst = CASE WHEN $4::boolean THEN $6::bigint ELSE u.rate_burst END"
                       " WHERE u.name = $1 RETURNING ",
                       kUserColumns}),
                  p));
  if (r.rows() == 0) return UserNotFound(name);
  return ReadUser(r, 0, 0);
}

Status PgAccounts::SetPasswordHash(std::string_view user, std::string_view hash) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(int64_t n, conn->Exec("UPDATE users SET password = $2 WHERE name = $1",
                                                PgParams().Text(user).Text(hash)));
  return n == 0 ? UserNotFound(user) : Status();
}

Result<std::string> PgAccounts::GetPasswordHash(std::string_view user) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(PgResult r, conn->Query("SELECT password FROM users WHERE name = $1",
                                                  PgParams().Text(user)));
  if (r.rows() == 0) return UserNotFound(user);
  return r.Text(0, 0);
}

// --- tokens ---

Result<store::TokenInfo> PgAccounts::CreateToken(std::string_view user, std::string_view name,
                                                 std::string_view hash) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  store::TokenInfo out;
  out.user = std::string(user);
  out.name = std::string(name);
  out.creation_time_us = store_->NowUs();
  Result<PgResult> r = conn->Query(
      "INSERT INTO tokens(user_id, name, hash, created_us) "
      "SELECT id, $2, $3, $4 FROM users WHERE name = $1 RETURNING id",
      PgParams().Text(user).Text(name).Text(hash).Int(out.creation_time_us));
  if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("a token with this hash exists");  // 256 random bits: a caller's bug
  }
  NEREID_RETURN_IF_ERROR(r.status());
  if (r->rows() == 0) return UserNotFound(user);
  out.id = r->Int(0, 0);
  return out;
}

Result<store::TokenOwner> PgAccounts::LookupToken(std::string_view hash) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query(Sql({"SELECT ", kTokenColumns, ", ", kUserColumns,
                                   " FROM tokens t JOIN users u ON u.id = t.user_id"
                                   " WHERE t.hash = $1"}),
                              PgParams().Text(hash)));
  if (r.rows() == 0) return NotFound("no such token");
  return store::TokenOwner{ReadToken(r, 0, 0), ReadUser(r, 0, 6)};
}

Result<std::vector<store::TokenInfo>> PgAccounts::ListTokens(std::string_view user) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  if (!user.empty()) NEREID_RETURN_IF_ERROR(UserId(*conn, user).status());
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query(Sql({"SELECT ", kTokenColumns,
                                   " FROM tokens t JOIN users u ON u.id = t.user_id"
                                   " WHERE $1 = '' OR u.name = $1 ORDER BY t.id"}),
                              PgParams().Text(user)));
  std::vector<store::TokenInfo> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadToken(r, i, 0));
  return out;
}

Result<store::TokenInfo> PgAccounts::GetToken(int64_t id) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query(Sql({"SELECT ", kTokenColumns,
                                   " FROM tokens t JOIN users u ON u.id = t.user_id"
                                   " WHERE t.id = $1"}),
                              PgParams().Int(id)));
  if (r.rows() == 0) return NotFound("token " + std::to_string(id) + " not found");
  return ReadToken(r, 0, 0);
}

Status PgAccounts::RevokeToken(int64_t id) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  // The first revocation's time is kept (idempotent); the outer SELECT sees the statement's
  // snapshot, in which the token exists exactly when the UPDATE could have found it.
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query("WITH revoked AS (UPDATE tokens SET revoked_us = $2 WHERE id = $1 AND "
                  "revoked_us = 0 RETURNING id) SELECT EXISTS(SELECT 1 FROM tokens WHERE id = $1)",
                  PgParams().Int(id).Int(store_->NowUs())));
  if (!r.Bool(0, 0)) return NotFound("token " + std::to_string(id) + " not found");
  return Status();
}

Status PgAccounts::TouchTokens(const std::vector<std::pair<int64_t, int64_t>>& touches) {
  if (touches.empty()) return Status();
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  // Latest time per token, in id order: two servers flushing overlapping sets then lock the
  // rows in the same order (no deadlock), and last_used_us only moves forward.
  std::map<int64_t, int64_t> latest;
  for (const auto& [id, us] : touches) latest[id] = std::max(latest[id], us);
  std::vector<int64_t> ids, times;
  for (const auto& [id, us] : latest) {
    ids.push_back(id);
    times.push_back(us);
  }
  return Transact(*conn, [&](PgConn& c) -> Status {
    return c
        .Query(
            "UPDATE tokens t SET last_used_us = GREATEST(t.last_used_us, v.us)"
            " FROM (SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS x(id, us) ORDER BY id) v"
            " WHERE t.id = v.id",
            PgParams().IntArray(ids).IntArray(times))
        .status();
  });
}

// --- memberships ---

Result<store::UserGrants> PgAccounts::GetGrants(int64_t user_id) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  // One statement: both halves from one snapshot.
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query("SELECT 0, w.name, m.role FROM workspace_members m"
                  " JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1"
                  " UNION ALL "
                  "SELECT 1, w.name || '/' || p.name, m.role FROM project_members m"
                  " JOIN projects p ON p.id = m.project_id"
                  " JOIN workspaces w ON w.id = p.workspace_id WHERE m.user_id = $1",
                  PgParams().Int(user_id)));
  store::UserGrants out;
  for (int i = 0; i < r.rows(); ++i) {
    if (r.Int(i, 0) == 0) {
      out.workspaces.push_back({r.Text(i, 1), static_cast<store::WorkspaceRole>(r.Int(i, 2))});
    } else {
      out.projects.push_back({r.Text(i, 1), static_cast<store::ProjectRole>(r.Int(i, 2))});
    }
  }
  return out;
}

Status PgAccounts::SetWorkspaceRole(std::string_view workspace, std::string_view user,
                                    std::optional<store::WorkspaceRole> role) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(int64_t ws, WorkspaceId(*conn, workspace));
  NEREID_ASSIGN_OR_RETURN(int64_t uid, UserId(*conn, user));
  if (!role) {
    return conn
        ->Exec("DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2",
               PgParams().Int(ws).Int(uid))
        .status();
  }
  return conn
      ->Exec(
          "INSERT INTO workspace_members(workspace_id, user_id, role) VALUES($1, $2, $3)"
          " ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
          PgParams().Int(ws).Int(uid).Int(static_cast<int64_t>(*role)))
      .status();
}

Status PgAccounts::SetProjectRole(std::string_view project, std::string_view user,
                                  std::optional<store::ProjectRole> role) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(int64_t pid, ResolveProject(*conn, project));
  NEREID_ASSIGN_OR_RETURN(int64_t uid, UserId(*conn, user));
  if (!role) {
    return conn
        ->Exec("DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
               PgParams().Int(pid).Int(uid))
        .status();
  }
  return conn
      ->Exec(
          "INSERT INTO project_members(project_id, user_id, role) VALUES($1, $2, $3)"
          " ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
          PgParams().Int(pid).Int(uid).Int(static_cast<int64_t>(*role)))
      .status();
}

Result<std::vector<store::Member>> PgAccounts::ListWorkspaceMembers(std::string_view workspace) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(int64_t ws, WorkspaceId(*conn, workspace));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query("SELECT u.name, m.role FROM workspace_members m"
                              " JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1"
                              " ORDER BY u.name COLLATE \"C\"",
                              PgParams().Int(ws)));
  return ReadMembers<store::WorkspaceRole>(r, store::WorkspaceRoleName);
}

Result<std::vector<store::Member>> PgAccounts::ListProjectMembers(std::string_view project) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(int64_t pid, ResolveProject(*conn, project));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query("SELECT u.name, m.role FROM project_members m"
                              " JOIN users u ON u.id = m.user_id WHERE m.project_id = $1"
                              " ORDER BY u.name COLLATE \"C\"",
                              PgParams().Int(pid)));
  return ReadMembers<store::ProjectRole>(r, store::ProjectRoleName);
}

// --- sessions ---

Status PgAccounts::CreateSession(std::string_view user, std::string_view hash,
                                 int64_t expires_us) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  const int64_t now = store_->NowUs();
  return Transact(*conn, [&](PgConn& c) -> Status {
    // Expired sessions go when new ones come (any server's login cleans up for all).
    NEREID_RETURN_IF_ERROR(
        c.Exec("DELETE FROM sessions WHERE expires_us < $1", PgParams().Int(now)).status());
    NEREID_ASSIGN_OR_RETURN(
        int64_t n, c.Exec("INSERT INTO sessions(hash, user_id, created_us, expires_us)"
                          " SELECT $1, id, $3, $4 FROM users WHERE name = $2",
                          PgParams().Text(hash).Text(user).Int(now).Int(expires_us)));
    return n == 0 ? UserNotFound(user) : Status();
  });
}

Result<UserInfo> PgAccounts::LookupSession(std::string_view hash, int64_t now_us) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query(Sql({"SELECT ", kUserColumns,
                                   " FROM sessions s JOIN users u ON u.id = s.user_id"
                                   " WHERE s.hash = $1 AND s.expires_us > $2"}),
                              PgParams().Text(hash).Int(now_us)));
  if (r.rows() == 0) return NotFound("no such session");
  return ReadUser(r, 0, 0);
}

Status PgAccounts::DeleteSession(std::string_view hash) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  return conn->Exec("DELETE FROM sessions WHERE hash = $1", PgParams().Text(hash)).status();
}

// --- limits ---

Result<store::WorkspaceLimits> PgAccounts::GetWorkspaceLimits(std::string_view workspace) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query("SELECT l.rate_per_minute, l.rate_burst, l.quota_bytes"
                              " FROM workspaces w LEFT JOIN workspace_limits l"
                              " ON l.workspace_id = w.id WHERE w.name = $1",
                              PgParams().Text(workspace)));
  if (r.rows() == 0) return WorkspaceNotFound(workspace);
  store::WorkspaceLimits out;
  if (!r.IsNull(0, 0)) out.rate = store::RateSetting{r.Int(0, 0), r.Int(0, 1)};
  if (!r.IsNull(0, 2)) out.quota_bytes = r.Int(0, 2);
  return out;
}

Status PgAccounts::SetWorkspaceLimits(std::string_view workspace,
                                      const store::WorkspaceLimits& limits) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  PgParams p;
  p.Text(workspace);
  limits.rate ? p.Int(limits.rate->per_minute).Int(limits.rate->burst) : p.Null().Null();
  limits.quota_bytes ? p.Int(*limits.quota_bytes) : p.Null();
  NEREID_ASSIGN_OR_RETURN(
      int64_t n,
      conn->Exec("INSERT INTO workspace_limits(workspace_id, rate_per_minute, rate_burst,"
                 " quota_bytes) SELECT id, $2::bigint, $3::bigint, $4::bigint FROM workspaces"
                 " WHERE name = $1 ON CONFLICT (workspace_id) DO UPDATE SET"
                 " rate_per_minute = excluded.rate_per_minute, rate_burst = excluded.rate_burst,"
                 " quota_bytes = excluded.quota_bytes",
                 p));
  return n == 0 ? WorkspaceNotFound(workspace) : Status();
}

Result<store::WorkspaceUsage> PgAccounts::GetWorkspaceUsage(std::string_view workspace) {
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, Borrow(store_));
  NEREID_ASSIGN_OR_RETURN(
      PgResult ws, conn->Query("SELECT w.id, l.quota_bytes FROM workspaces w"
                               " LEFT JOIN workspace_limits l ON l.workspace_id = w.id"
                               " WHERE w.name = $1",
                               PgParams().Text(workspace)));
  if (ws.rows() == 0) return WorkspaceNotFound(workspace);
  store::WorkspaceUsage out;
  out.workspace = std::string(workspace);
  if (!ws.IsNull(0, 1)) out.quota_bytes = ws.Int(0, 1);
  // The total is the sum of the per-project figures, so the two always agree (one snapshot); it
  // is the same sum QuotaGuard checks ingest against (quota.h).
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query("SELECT p.name,"
                  " (SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id),"
                  " (SELECT COALESCE(SUM(r.size_bytes), 0) FROM runs r"
                  "  WHERE r.project_id = p.id)::bigint,"
                  " (SELECT COUNT(*) FROM notebook_checkpoints c"
                  "  JOIN notebooks n ON n.id = c.notebook_id WHERE n.project_id = p.id),"
                  " (SELECT COALESCE(SUM(c.size), 0) FROM notebook_checkpoints c"
                  "  JOIN notebooks n ON n.id = c.notebook_id WHERE n.project_id = p.id)::bigint"
                  " FROM projects p WHERE p.workspace_id = $1 ORDER BY p.name COLLATE \"C\"",
                  PgParams().Int(ws.Int(0, 0))));
  for (int i = 0; i < r.rows(); ++i) {
    store::ProjectUsage p{out.workspace + "/" + r.Text(i, 0), r.Int(i, 1), 0, r.Int(i, 2),
                          r.Int(i, 3), r.Int(i, 4)};
    p.bytes = p.run_bytes + p.notebook_bytes;
    out.used_bytes += p.bytes;
    out.notebook_bytes += p.notebook_bytes;
    out.projects.push_back(std::move(p));
  }
  return out;
}

}  // namespace nereid::store_postgres
