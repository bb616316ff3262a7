// PgAccounts: the AccountStore of the PostgreSQL backend (tables in schema.cc, kAccountsV1).
// Several servers share these tables, so nothing here is cached per process: every call reads or
// writes the database, and concurrent writers are ordered by PostgreSQL (unique constraints,
// ON CONFLICT upserts, row locks) rather than by a writer thread.
//
// Thread-safety: as AccountStore. Each call borrows a pooled connection for its duration.
#pragma once

#include "store/accounts.h"

namespace nereid::store_postgres {

class PgStore;

class PgAccounts final : public store::AccountStore {
 public:
  explicit PgAccounts(PgStore* store) : store_(store) {}

  Result<store::UserInfo> CreateUser(std::string_view name, store::UserKind kind,
                                     bool is_admin) override;
  Result<store::UserInfo> GetUser(std::string_view name) override;
  Result<std::vector<store::UserInfo>> ListUsers() override;
  Result<store::UserInfo> UpdateUser(std::string_view name, const UserUpdate& update) override;
  Status SetPasswordHash(std::string_view user, std::string_view hash) override;
  Result<std::string> GetPasswordHash(std::string_view user) override;

  Result<store::TokenInfo> CreateToken(std::string_view user, std::string_view name,
                                       std::string_view hash) override;
  Result<store::TokenOwner> LookupToken(std::string_view hash) override;
  Result<std::vector<store::TokenInfo>> ListTokens(std::string_view user) override;
  Result<store::TokenInfo> GetToken(int64_t id) override;
  Status RevokeToken(int64_t id) override;
  Status TouchTokens(const std::vector<std::pair<int64_t, int64_t>>& id_and_time_us) override;

  Result<store::UserGrants> GetGrants(int64_t user_id) override;
  Status SetWorkspaceRole(std::string_view workspace, std::string_view user,
                          std::optional<store::WorkspaceRole> role) override;
  Status SetProjectRole(std::string_view project, std::string_view user,
                        std::optional<store::ProjectRole> role) override;
  Result<std::vector<store::Member>> ListWorkspaceMembers(std::string_view workspace) override;
  Result<std::vector<store::Member>> ListProjectMembers(std::string_view project) override;

  Status CreateSession(std::string_view user, std::string_view hash, int64_t expires_us) override;
  Result<store::UserInfo> LookupSession(std::string_view hash, int64_t now_us) override;
  Status DeleteSession(std::string_view hash) override;

  Result<store::WorkspaceLimits> GetWorkspaceLimits(std::string_view workspace) override;
  Status SetWorkspaceLimits(std::string_view workspace,
                            const store::WorkspaceLimits& limits) override;
  Result<store::WorkspaceUsage> GetWorkspaceUsage(std::string_view workspace) override;

 private:
  PgStore* store_;  // owns this
};

}  // namespace nereid::store_postgres
