// Authentication: API tokens ("nrd_" + 64 hex = 256 random bits) resolved to a Principal (the
// user, their roles, their rate limit). Only a token's SHA-256 is stored. The first start of an
// empty server creates the user "admin" (server administrator) and one token for it, printed once
// and written to <data>/admin.token (mode 0600).
//
// Resolved principals are cached by token hash (sharded, so users do not contend) and the cache
// is dropped whenever accounts change through this server (Invalidate), so a revoked token or a
// removed membership takes effect on the next request. Last-used times are kept in memory and
// written in one batch at most every kTouchInterval.
//
// Thread-safety: every method may be called from any thread after Init.
#pragma once

#include <array>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "nereid/status.h"
#include "server/ratelimit.h"
#include "store/store.h"

namespace nereid::server {

// 256 random bits, URL-safe: "nrd_" + 64 hex characters.
std::string NewToken();
// Lowercase hex of `bytes` bytes from the OS's CSPRNG (aborts rather than return weak randomness).
std::string RandomHex(size_t bytes);
std::string TokenHash(std::string_view token);  // lowercase hex SHA-256
// True if `token` has the shape of a token (does not say it exists).
bool IsWellFormedToken(std::string_view token);

// Who is making a request, and what they may do. Immutable once built; shared by the cache.
struct Principal {
  int64_t user_id = 0;
  std::string user;
  store::UserKind kind = store::UserKind::kPerson;
  bool is_admin = false;
  int64_t token_id = 0;            // 0 for a web session
  bool via_session = false;        // authenticated by the session cookie (CSRF rules apply)
  int64_t session_checked_us = 0;  // sessions: when the store last confirmed it
  std::map<std::string, store::WorkspaceRole, std::less<>> workspaces;
  std::map<std::string, store::ProjectRole, std::less<>> projects;  // "ws/project"
  RateLimit rate;
  std::string rate_source;  // "user", "workspace <name>", "server default", "server admin"

  // Effective role in a project: server admins and workspace admins are owners.
  std::optional<store::ProjectRole> ProjectRoleIn(std::string_view project) const;
  // True if the user has any role in the workspace or in one of its projects.
  bool SeesWorkspace(std::string_view workspace) const;
  bool IsWorkspaceAdmin(std::string_view workspace) const;
};

class Authenticator {
 public:
  // Ensures the bootstrap admin user and token exist; `created_token` receives a token created
  // now (to print once), else stays empty. A data directory from before accounts existed keeps
  // its admin token (the settings key "admin_token_sha256" becomes the admin user's token).
  // `default_rate`: the limit of users with no per-user or workspace limit.
  Status Init(store::Store* store, const std::filesystem::path& data_dir, RateLimit default_rate,
              std::string* created_token);

  // Resolves an Authorization header value ("Bearer <token>"). Unauthenticated with a message
  // that never repeats the token: missing, malformed, unknown, revoked, or the user disabled.
  Result<std::shared_ptr<const Principal>> Authenticate(std::string_view authorization);
  Status Check(std::string_view authorization) { return Authenticate(authorization).status(); }
  // Resolves a web session id (the cookie's value). Unauthenticated when unknown or expired.
  Result<std::shared_ptr<const Principal>> AuthenticateSession(std::string_view session_id,
                                                               int64_t now_us);

  // Drops every cached principal (call after any change to users, tokens, roles or limits).
  void Invalidate();
  // Several servers on one database: a change made through another server never reaches this
  // one's Invalidate, so cached principals are also reloaded once older than `max_age_us`
  // (0, the default: kept until Invalidate). Bounds how long a token revoked, a user disabled or a
  // role changed elsewhere still works here.
  void SetCacheMaxAge(int64_t max_age_us) { max_age_us_.store(max_age_us); }
  // Writes pending last-used times now (also done lazily by Authenticate).
  void FlushTouches();

  const RateLimit& default_rate() const { return default_rate_; }

 private:
  static constexpr size_t kShards = 16;
  static constexpr int64_t kTouchIntervalUs = 10'000'000;
  static constexpr int64_t kSessionCacheUs = 60'000'000;
  struct Entry {
    std::shared_ptr<const Principal> principal;
    uint64_t generation = 0;
    int64_t loaded_us = 0;  // wall clock
  };
  struct Shard {
    std::shared_mutex mu;
    std::unordered_map<std::string, Entry> entries;  // guarded by mu; key: token hash
    std::mutex touch_mu;
    std::unordered_map<int64_t, int64_t> touches;  // guarded by touch_mu: token id -> time us
  };

  Result<std::shared_ptr<const Principal>> Load(const std::string& hash);
  Result<std::shared_ptr<Principal>> BuildPrincipal(const store::UserInfo& user);
  std::shared_ptr<const Principal> CacheFind(Shard& shard, const std::string& key,
                                             uint64_t generation);
  bool Fresh(const Entry& entry, uint64_t generation) const;
  void Touch(Shard& shard, int64_t token_id);

  store::Store* store_ = nullptr;
  RateLimit default_rate_;
  std::atomic<uint64_t> generation_{1};
  std::atomic<int64_t> max_age_us_{0};
  std::array<Shard, kShards> shards_;
  std::atomic<int64_t> last_flush_us_{0};  // the request that advances it flushes
};

}  // namespace nereid::server
