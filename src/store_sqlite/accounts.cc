// Users, tokens, memberships and workspace limits in SQLite.
#include "store_sqlite/accounts.h"

#include "common/path.h"
#include "store_sqlite/quota.h"
#include "store_sqlite/sqlite_store_impl.h"

namespace nereid::store_sqlite {
namespace {

using store::UserInfo;

constexpr const char* kAccountsSchema = R"sql(
CREATE TABLE IF NOT EXISTS users(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind INTEGER NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  password TEXT NOT NULL DEFAULT '',
  rate_per_minute INTEGER,
  rate_burst INTEGER,
  created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tokens(
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_us INTEGER NOT NULL,
  last_used_us INTEGER NOT NULL DEFAULT 0,
  revoked_us INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS tokens_user ON tokens(user_id);
CREATE TABLE IF NOT EXISTS workspace_members(
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  user_id INTEGER NOT NULL REFERENCES users(id),
  role INTEGER NOT NULL,
  PRIMARY KEY(workspace_id, user_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS workspace_members_user ON workspace_members(user_id);
CREATE TABLE IF NOT EXISTS project_members(
  project_id INTEGER NOT NULL REFERENCES projects(id),
  user_id INTEGER NOT NULL REFERENCES users(id),
  role INTEGER NOT NULL,
  PRIMARY KEY(project_id, user_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS project_members_user ON project_members(user_id);
CREATE TABLE IF NOT EXISTS sessions(
  hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_us INTEGER NOT NULL,
  expires_us INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS workspace_limits(
  workspace_id INTEGER PRIMARY KEY REFERENCES workspaces(id),
  rate_per_minute INTEGER,
  rate_burst INTEGER,
  quota_bytes INTEGER);
)sql";

#define NEREID_USER_COLUMNS \
  "id, name, kind, is_admin, disabled, created_us, rate_per_minute, rate_burst"

UserInfo ReadUser(const Stmt& q, int c) {
  UserInfo u;
  u.id = q.Int(c);
  u.name = q.Text(c + 1);
  u.kind = q.Int(c + 2) == 1 ? store::UserKind::kService : store::UserKind::kPerson;
  u.is_admin = q.Int(c + 3) != 0;
  u.disabled = q.Int(c + 4) != 0;
  u.creation_time_us = q.Int(c + 5);
  if (!q.IsNull(c + 6)) u.rate = store::RateSetting{q.Int(c + 6), q.Int(c + 7)};
  return u;
}

#define NEREID_TOKEN_COLUMNS "t.id, u.name, t.name, t.created_us, t.last_used_us, t.revoked_us"

store::TokenInfo ReadToken(const Stmt& q, int c) {
  return {q.Int(c), q.Text(c + 1), q.Text(c + 2), q.Int(c + 3), q.Int(c + 4), q.Int(c + 5)};
}

Result<int64_t> UserId(Db& db, std::string_view name) {
  auto q = db.Cached("SELECT id FROM users WHERE name = ?");
  q->Bind(1, name);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("user '" + std::string(name) + "' not found");
  return q->Int(0);
}

Result<int64_t> WorkspaceId(Db& db, std::string_view name) {
  auto q = db.Cached("SELECT id FROM workspaces WHERE name = ?");
  q->Bind(1, name);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("workspace '" + std::string(name) + "' not found");
  return q->Int(0);
}

Result<UserInfo> LoadUser(Db& db, std::string_view name) {
  auto q = db.Cached("SELECT " NEREID_USER_COLUMNS " FROM users WHERE name = ?");
  q->Bind(1, name);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("user '" + std::string(name) + "' not found");
  return ReadUser(*q, 0);
}

}  // namespace

Status SqliteAccounts::Init() {
  return store_->writer_->Run([](Db& db) { return db.Exec(kAccountsSchema); }, false);
}

// --- users ---

Result<UserInfo> SqliteAccounts::CreateUser(std::string_view name, store::UserKind kind,
                                            bool is_admin) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  NEREID_RETURN_IF_ERROR(common::ValidateName("user name", name));
  UserInfo out;
  out.name = std::string(name);
  out.kind = kind;
  out.is_admin = is_admin;
  out.creation_time_us = store_->NowUs();
  NEREID_RETURN_IF_ERROR(store_->writer_->Run(
      [&](Db& db) -> Status {
        {
          auto q = db.Cached("SELECT 1 FROM users WHERE name = ?");
          q->Bind(1, name);
          NEREID_ASSIGN_OR_RETURN(bool exists, q->Step());
          if (exists) return AlreadyExists("user '" + out.name + "' exists");
        }
        auto q =
            db.Cached("INSERT INTO users(name, kind, is_admin, created_us) VALUES(?, ?, ?, ?)");
        q->BindAll(out.name, kind == store::UserKind::kService ? 1 : 0, is_admin,
                   out.creation_time_us);
        NEREID_RETURN_IF_ERROR(q->Run());
        out.id = sqlite3_last_insert_rowid(db.raw());
        return Status();
      },
      false));
  return out;
}

Result<UserInfo> SqliteAccounts::GetUser(std::string_view name) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  return LoadUser(r.db(), name);
}

Result<std::vector<UserInfo>> SqliteAccounts::ListUsers() {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  auto q = r.db().Cached("SELECT " NEREID_USER_COLUMNS " FROM users ORDER BY name");
  std::vector<UserInfo> out;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back(ReadUser(*q, 0));
  }
  return out;
}

Result<UserInfo> SqliteAccounts::UpdateUser(std::string_view name, const UserUpdate& update) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  UserInfo out;
  NEREID_RETURN_IF_ERROR(store_->writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(int64_t id, UserId(db, name));
        if (update.disabled) {
          auto q = db.Cached("UPDATE users SET disabled = ? WHERE id = ?");
          q->BindAll(*update.disabled, id);
          NEREID_RETURN_IF_ERROR(q->Run());
        }
        if (update.is_admin) {
          auto q = db.Cached("UPDATE users SET is_admin = ? WHERE id = ?");
          q->BindAll(*update.is_admin, id);
          NEREID_RETURN_IF_ERROR(q->Run());
        }
        if (update.rate) {
          auto q = db.Cached("UPDATE users SET rate_per_minute = ?, rate_burst = ? WHERE id = ?");
          if (*update.rate) {
            q->BindAll((*update.rate)->per_minute, (*update.rate)->burst, id);
          } else {
            q->Bind(1, std::nullopt);
            q->Bind(2, std::nullopt);
            q->Bind(3, id);
          }
          NEREID_RETURN_IF_ERROR(q->Run());
        }
        NEREID_ASSIGN_OR_RETURN(out, LoadUser(db, name));
        return Status();
      },
      false));
  return out;
}

Status SqliteAccounts::SetPasswordHash(std::string_view user, std::string_view hash) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  return store_->writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(int64_t id, UserId(db, user));
        auto q = db.Cached("UPDATE users SET password = ? WHERE id = ?");
        q->BindAll(hash, id);
        return q->Run();
      },
      false);
}

Result<std::string> SqliteAccounts::GetPasswordHash(std::string_view user) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  auto q = r.db().Cached("SELECT password FROM users WHERE name = ?");
  q->Bind(1, user);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("user '" + std::string(user) + "' not found");
  return q->Text(0);
}

// --- tokens ---

Result<store::TokenInfo> SqliteAccounts::CreateToken(std::string_view user, std::string_view name,
                                                     std::string_view hash) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  store::TokenInfo out;
  out.user = std::string(user);
  out.name = std::string(name);
  out.creation_time_us = store_->NowUs();
  NEREID_RETURN_IF_ERROR(store_->writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(int64_t user_id, UserId(db, user));
        auto q = db.Cached("INSERT INTO tokens(user_id, name, hash, created_us) VALUES(?,?,?,?)");
        q->BindAll(user_id, name, hash, out.creation_time_us);
        NEREID_RETURN_IF_ERROR(q->Run());
        out.id = sqlite3_last_insert_rowid(db.raw());
        return Status();
      },
      false));
  return out;
}

Result<store::TokenOwner> SqliteAccounts::LookupToken(std::string_view hash) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  auto q = r.db().Cached(
      "SELECT " NEREID_TOKEN_COLUMNS
      ", u.id, u.name, u.kind, u.is_admin, u.disabled, u.created_us, u.rate_per_minute, "
      "u.rate_burst FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?");
  q->Bind(1, hash);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("no such token");
  return store::TokenOwner{ReadToken(*q, 0), ReadUser(*q, 6)};
}

Result<std::vector<store::TokenInfo>> SqliteAccounts::ListTokens(std::string_view user) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  if (!user.empty()) NEREID_RETURN_IF_ERROR(UserId(r.db(), user).status());
  auto q = r.db().Cached("SELECT " NEREID_TOKEN_COLUMNS
                         " FROM tokens t JOIN users u ON u.id = t.user_id"
                         " WHERE ?1 = '' OR u.name = ?1 ORDER BY t.id");
  q->Bind(1, user);
  std::vector<store::TokenInfo> out;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back(ReadToken(*q, 0));
  }
  return out;
}

Result<store::TokenInfo> SqliteAccounts::GetToken(int64_t id) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  auto q = r.db().Cached("SELECT " NEREID_TOKEN_COLUMNS
                         " FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?");
  q->Bind(1, id);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("token " + std::to_string(id) + " not found");
  return ReadToken(*q, 0);
}

Status SqliteAccounts::RevokeToken(int64_t id) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  int64_t now = store_->NowUs();
  return store_->writer_->Run(
      [&](Db& db) -> Status {
        auto q = db.Cached("UPDATE tokens SET revoked_us = ? WHERE id = ? AND revoked_us = 0");
        q->BindAll(now, id);
        NEREID_RETURN_IF_ERROR(q->Run());
        auto check = db.Cached("SELECT 1 FROM tokens WHERE id = ?");
        check->Bind(1, id);
        NEREID_ASSIGN_OR_RETURN(bool found, check->Step());
        if (!found) return NotFound("token " + std::to_string(id) + " not found");
        return Status();
      },
      false);
}

Status SqliteAccounts::TouchTokens(const std::vector<std::pair<int64_t, int64_t>>& touches) {
  if (touches.empty()) return Status();
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  return store_->writer_->Run(
      [&](Db& db) -> Status {
        for (const auto& [id, us] : touches) {
          auto q = db.Cached("UPDATE tokens SET last_used_us = max(last_used_us, ?) WHERE id = ?");
          q->BindAll(us, id);
          NEREID_RETURN_IF_ERROR(q->Run());
        }
        return Status();
      },
      false);
}

// --- memberships ---

Result<store::UserGrants> SqliteAccounts::GetGrants(int64_t user_id) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  store::UserGrants out;
  {
    auto q = r.db().Cached(
        "SELECT w.name, m.role FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id"
        " WHERE m.user_id = ?");
    q->Bind(1, user_id);
    for (;;) {
      NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      out.workspaces.push_back({q->Text(0), static_cast<store::WorkspaceRole>(q->Int(1))});
    }
  }
  auto q = r.db().Cached(
      "SELECT w.name || '/' || p.name, m.role FROM project_members m"
      " JOIN projects p ON p.id = m.project_id JOIN workspaces w ON w.id = p.workspace_id"
      " WHERE m.user_id = ?");
  q->Bind(1, user_id);
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.projects.push_back({q->Text(0), static_cast<store::ProjectRole>(q->Int(1))});
  }
  return out;
}

Status SqliteAccounts::SetWorkspaceRole(std::string_view workspace, std::string_view user,
                                        std::optional<store::WorkspaceRole> role) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  return store_->writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(int64_t ws, WorkspaceId(db, workspace));
        NEREID_ASSIGN_OR_RETURN(int64_t uid, UserId(db, user));
        if (!role) {
          auto q =
              db.Cached("DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?");
          q->BindAll(ws, uid);
          return q->Run();
        }
        auto q = db.Cached(
            "INSERT INTO workspace_members(workspace_id, user_id, role) VALUES(?, ?, ?)"
            " ON CONFLICT(workspace_id, user_id) DO UPDATE SET role = excluded.role");
        q->BindAll(ws, uid, static_cast<int64_t>(*role));
        return q->Run();
      },
      false);
}

Status SqliteAccounts::SetProjectRole(std::string_view project, std::string_view user,
                                      std::optional<store::ProjectRole> role) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  return store_->writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(int64_t pid, ResolveProject(db, project));
        NEREID_ASSIGN_OR_RETURN(int64_t uid, UserId(db, user));
        if (!role) {
          auto q = db.Cached("DELETE FROM project_members WHERE project_id = ? AND user_id = ?");
          q->BindAll(pid, uid);
          return q->Run();
        }
        auto q = db.Cached(
            "INSERT INTO project_members(project_id, user_id, role) VALUES(?, ?, ?)"
            " ON CONFLICT(project_id, user_id) DO UPDATE SET role = excluded.role");
        q->BindAll(pid, uid, static_cast<int64_t>(*role));
        return q->Run();
      },
      false);
}

Result<std::vector<store::Member>> SqliteAccounts::ListWorkspaceMembers(
    std::string_view workspace) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  NEREID_ASSIGN_OR_RETURN(int64_t ws, WorkspaceId(r.db(), workspace));
  auto q = r.db().Cached(
      "SELECT u.name, m.role FROM workspace_members m JOIN users u ON u.id = m.user_id"
      " WHERE m.workspace_id = ? ORDER BY u.name");
  q->Bind(1, ws);
  std::vector<store::Member> out;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({q->Text(0), std::string(store::WorkspaceRoleName(
                                   static_cast<store::WorkspaceRole>(q->Int(1))))});
  }
  return out;
}

Result<std::vector<store::Member>> SqliteAccounts::ListProjectMembers(std::string_view project) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  NEREID_ASSIGN_OR_RETURN(int64_t pid, ResolveProject(r.db(), project));
  auto q = r.db().Cached(
      "SELECT u.name, m.role FROM project_members m JOIN users u ON u.id = m.user_id"
      " WHERE m.project_id = ? ORDER BY u.name");
  q->Bind(1, pid);
  std::vector<store::Member> out;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({q->Text(0), std::string(store::ProjectRoleName(
                                   static_cast<store::ProjectRole>(q->Int(1))))});
  }
  return out;
}

// --- sessions ---

Status SqliteAccounts::CreateSession(std::string_view user, std::string_view hash,
                                     int64_t expires_us) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  int64_t now = store_->NowUs();
  return store_->writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(int64_t uid, UserId(db, user));
        {  // expired sessions go when new ones come
          auto q = db.Cached("DELETE FROM sessions WHERE expires_us < ?");
          q->Bind(1, now);
          NEREID_RETURN_IF_ERROR(q->Run());
        }
        auto q = db.Cached(
            "INSERT INTO sessions(hash, user_id, created_us, expires_us) VALUES(?, ?, ?, ?)");
        q->BindAll(hash, uid, now, expires_us);
        return q->Run();
      },
      false);
}

Result<store::UserInfo> SqliteAccounts::LookupSession(std::string_view hash, int64_t now_us) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  auto q = r.db().Cached(
      "SELECT u.id, u.name, u.kind, u.is_admin, u.disabled, u.created_us, u.rate_per_minute,"
      " u.rate_burst FROM sessions s JOIN users u ON u.id = s.user_id"
      " WHERE s.hash = ? AND s.expires_us > ?");
  q->BindAll(hash, now_us);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("no such session");
  return ReadUser(*q, 0);
}

Status SqliteAccounts::DeleteSession(std::string_view hash) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  return store_->writer_->Run(
      [&](Db& db) -> Status {
        auto q = db.Cached("DELETE FROM sessions WHERE hash = ?");
        q->Bind(1, hash);
        return q->Run();
      },
      false);
}

// --- limits ---

Result<store::WorkspaceLimits> SqliteAccounts::GetWorkspaceLimits(std::string_view workspace) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  NEREID_ASSIGN_OR_RETURN(int64_t ws, WorkspaceId(r.db(), workspace));
  auto q = r.db().Cached(
      "SELECT rate_per_minute, rate_burst, quota_bytes FROM workspace_limits"
      " WHERE workspace_id = ?");
  q->Bind(1, ws);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  store::WorkspaceLimits out;
  if (!found) return out;
  if (!q->IsNull(0)) out.rate = store::RateSetting{q->Int(0), q->Int(1)};
  if (!q->IsNull(2)) out.quota_bytes = q->Int(2);
  return out;
}

Status SqliteAccounts::SetWorkspaceLimits(std::string_view workspace,
                                          const store::WorkspaceLimits& limits) {
  NEREID_RETURN_IF_ERROR(store_->CheckOpen());
  return store_->writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(int64_t ws, WorkspaceId(db, workspace));
        auto q = db.Cached(
            "INSERT OR REPLACE INTO workspace_limits(workspace_id, rate_per_minute, rate_burst,"
            " quota_bytes) VALUES(?, ?, ?, ?)");
        q->Bind(1, ws);
        q->Bind(2, limits.rate ? std::optional<int64_t>(limits.rate->per_minute) : std::nullopt);
        q->Bind(3, limits.rate ? std::optional<int64_t>(limits.rate->burst) : std::nullopt);
        q->Bind(4, limits.quota_bytes);
        return q->Run();
      },
      false);
}

Result<store::WorkspaceUsage> SqliteAccounts::GetWorkspaceUsage(std::string_view workspace) {
  NEREID_ASSIGN_OR_RETURN(auto r, store_->BorrowReader());
  NEREID_ASSIGN_OR_RETURN(int64_t ws, WorkspaceId(r.db(), workspace));
  store::WorkspaceUsage out;
  out.workspace = std::string(workspace);
  {
    auto q = r.db().Cached("SELECT quota_bytes FROM workspace_limits WHERE workspace_id = ?");
    q->Bind(1, ws);
    NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
    if (found && !q->IsNull(0)) out.quota_bytes = q->Int(0);
  }
  // The total is the sum of the per-project figures, so the two always agree; it is the sum
  // the quota is checked against (quota.h: QuotaSql::WorkspaceUsedBytes).
  auto q = r.db().Cached(
      "SELECT p.name,"
      " (SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id),"
      " (SELECT COALESCE(SUM(r.size_bytes), 0) FROM runs r WHERE r.project_id = p.id),"
      " (SELECT COUNT(*) FROM notebook_checkpoints c JOIN notebooks n ON n.id = c.notebook_id"
      "  WHERE n.project_id = p.id),"
      " (SELECT COALESCE(SUM(c.size), 0) FROM notebook_checkpoints c"
      "  JOIN notebooks n ON n.id = c.notebook_id WHERE n.project_id = p.id)"
      " FROM projects p WHERE p.workspace_id = ? ORDER BY p.name");
  q->Bind(1, ws);
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    store::ProjectUsage p{out.workspace + "/" + q->Text(0), q->Int(1), 0, q->Int(2), q->Int(3),
                          q->Int(4)};
    p.bytes = p.run_bytes + p.notebook_bytes;
    out.used_bytes += p.bytes;
    out.notebook_bytes += p.notebook_bytes;
    out.projects.push_back(std::move(p));
  }
  return out;
}

}  // namespace nereid::store_sqlite
