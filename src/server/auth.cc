#include "server/auth.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "server/session.h"

namespace nereid::server {
namespace {

constexpr std::string_view kLegacyAdminHashKey = "admin_token_sha256";
constexpr std::string_view kAdminUser = "admin";
constexpr std::string_view kTokenPrefix = "nrd_";

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

Status WriteTokenFile(const std::filesystem::path& path, const std::string& token) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot write " + path.string() + ": " + strerror(errno));
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ::fchmod(fd, 0600) == 0 && ok;
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return Internal("cannot write " + path.string());
  return Status::Ok();
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RateLimit ToLimit(const store::RateSetting& s) {
  return {static_cast<uint32_t>(s.per_minute), static_cast<uint32_t>(s.burst)};
}

}  // namespace

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    std::abort();  // no randomness: never hand out a guessable secret
  }
  return Hex(buf.data(), buf.size());
}

std::string NewToken() {
  return std::string(kTokenPrefix) + RandomHex(32);
}

std::string TokenHash(std::string_view token) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), md.data(), &len, EVP_sha256(), nullptr);
  return Hex(md.data(), len);
}

bool IsWellFormedToken(std::string_view token) {
  if (token.size() != kTokenPrefix.size() + 64 || token.substr(0, 4) != kTokenPrefix) return false;
  for (char c : token.substr(4)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<store::ProjectRole> Principal::ProjectRoleIn(std::string_view project) const {
  if (is_admin) return store::ProjectRole::kOwner;
  std::string_view workspace = project.substr(0, project.find('/'));
  if (IsWorkspaceAdmin(workspace)) return store::ProjectRole::kOwner;
  auto it = projects.find(project);
  if (it == projects.end()) return std::nullopt;
  return it->second;
}

bool Principal::IsWorkspaceAdmin(std::string_view workspace) const {
  if (is_admin) return true;
  auto it = workspaces.find(workspace);
  return it != workspaces.end() && it->second == store::WorkspaceRole::kAdmin;
}

bool Principal::SeesWorkspace(std::string_view workspace) const {
  if (is_admin || workspaces.find(workspace) != workspaces.end()) return true;
  for (const auto& [project, role] : projects) {
    if (std::string_view(project).substr(0, project.find('/')) == workspace) return true;
  }
  return false;
}

Status Authenticator::Init(store::Store* store, const std::filesystem::path& data_dir,
                           RateLimit default_rate, std::string* created_token) {
  store_ = store;
  default_rate_ = default_rate;
  store::AccountStore* accounts = store->Accounts();
  NEREID_ASSIGN_OR_RETURN(auto users, accounts->ListUsers());
  if (users.empty()) {
    Status created = accounts->CreateUser(kAdminUser, store::UserKind::kPerson, true).status();
    // Several servers starting at once on one new database: another one made "admin" (and its
    // token, in its own data directory) first.
    if (created.code() == StatusCode::kAlreadyExists) return Status::Ok();
    NEREID_RETURN_IF_ERROR(created);
    NEREID_ASSIGN_OR_RETURN(auto legacy, store->GetSetting(kLegacyAdminHashKey));
    if (legacy) {  // a data directory from before accounts: its token stays valid
      return accounts->CreateToken(kAdminUser, "admin.token", *legacy).status();
    }
  } else {
    // Recovery (docs/operations.md): an "admin" whose tokens were all revoked offline gets a
    // new one. Any other state is left alone.
    auto admin_tokens = accounts->ListTokens(kAdminUser);
    if (!admin_tokens.ok()) return Status::Ok();  // no user "admin": nothing to recover
    for (const auto& t : *admin_tokens) {
      if (t.revoked_time_us == 0) return Status::Ok();
    }
  }
  std::string token = NewToken();
  // The file first: if we crash between the two, the next start finds "admin" without a live
  // token and makes a new one (the recovery path above).
  NEREID_RETURN_IF_ERROR(WriteTokenFile(data_dir / "admin.token", token));
  NEREID_RETURN_IF_ERROR(
      accounts->CreateToken(kAdminUser, "admin.token", TokenHash(token)).status());
  *created_token = token;
  spdlog::info("created the server administrator 'admin' and its token (in {})",
               (data_dir / "admin.token").string());
  return Status::Ok();
}

Result<std::shared_ptr<const Principal>> Authenticator::Authenticate(
    std::string_view authorization) {
  if (authorization.empty()) {
    return Unauthenticated("missing 'Authorization: Bearer <token>' header");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Unauthenticated("the Authorization header must be 'Bearer <token>'");
  }
  std::string_view token = authorization.substr(kBearer.size());
  if (!IsWellFormedToken(token)) {
    return Unauthenticated("the API token is malformed (expected 'nrd_' and 64 hex digits)");
  }
  std::string hash = TokenHash(token);
  Shard& shard = shards_[static_cast<unsigned char>(hash[0]) % kShards];
  uint64_t generation = generation_.load();
  std::shared_ptr<const Principal> principal;
  {
    std::shared_lock lock(shard.mu);
    auto it = shard.entries.find(hash);
    if (it != shard.entries.end() && Fresh(it->second, generation)) {
      principal = it->second.principal;
    }
  }
  if (principal == nullptr) {
    NEREID_ASSIGN_OR_RETURN(principal, Load(hash));
    std::unique_lock lock(shard.mu);
    if (generation_.load() == generation) {
      shard.entries[hash] = {principal, generation, NowUs()};
    }
  }
  Touch(shard, principal->token_id);
  return principal;
}

Result<std::shared_ptr<const Principal>> Authenticator::Load(const std::string& hash) {
  auto owner = store_->Accounts()->LookupToken(hash);
  if (!owner.ok()) {
    if (owner.status().code() == StatusCode::kNotFound) {
      return Unauthenticated("the API token is not valid");
    }
    return owner.status();
  }
  if (owner->token.revoked_time_us != 0) return Unauthenticated("the API token has been revoked");
  if (owner->user.disabled) return Unauthenticated("the user of this API token is disabled");
  NEREID_ASSIGN_OR_RETURN(std::shared_ptr<Principal> p, BuildPrincipal(owner->user));
  p->token_id = owner->token.id;
  return std::shared_ptr<const Principal>(std::move(p));
}

Result<std::shared_ptr<Principal>> Authenticator::BuildPrincipal(const store::UserInfo& user) {
  store::AccountStore* accounts = store_->Accounts();
  auto p = std::make_shared<Principal>();
  p->user_id = user.id;
  p->user = user.name;
  p->kind = user.kind;
  p->is_admin = user.is_admin;
  NEREID_ASSIGN_OR_RETURN(auto grants, accounts->GetGrants(p->user_id));
  for (auto& g : grants.workspaces) p->workspaces.emplace(std::move(g.workspace), g.role);
  for (auto& g : grants.projects) p->projects.emplace(std::move(g.project), g.role);
  // The rate limit: the user's own, else the most generous of their workspaces', else the
  // server's. Server administrators are unlimited unless given their own: an operator must not
  // be locked out of the server that they are trying to fix.
  if (user.rate) {
    p->rate = ToLimit(*user.rate);
    p->rate_source = "user";
  } else if (p->is_admin) {
    p->rate = RateLimit{0, 0};
    p->rate_source = "server admin";
  } else {
    bool found = false;
    for (const auto& [workspace, role] : p->workspaces) {
      NEREID_ASSIGN_OR_RETURN(auto limits, accounts->GetWorkspaceLimits(workspace));
      if (!limits.rate) continue;
      RateLimit candidate = ToLimit(*limits.rate);
      bool better = !found || candidate.unlimited() ||
                    (!p->rate.unlimited() && candidate.per_minute > p->rate.per_minute);
      if (better) {
        p->rate = candidate;
        p->rate_source = "workspace " + workspace;
        found = true;
      }
    }
    if (!found) {
      p->rate = default_rate_;
      p->rate_source = "server default";
    }
  }
  return p;
}

std::shared_ptr<const Principal> Authenticator::CacheFind(Shard& shard, const std::string& key,
                                                          uint64_t generation) {
  std::shared_lock lock(shard.mu);
  auto it = shard.entries.find(key);
  if (it != shard.entries.end() && Fresh(it->second, generation)) {
    return it->second.principal;
  }
  return nullptr;
}

bool Authenticator::Fresh(const Entry& entry, uint64_t generation) const {
  if (entry.generation != generation) return false;
  const int64_t max_age = max_age_us_.load();
  return max_age == 0 || NowUs() - entry.loaded_us < max_age;
}

Result<std::shared_ptr<const Principal>> Authenticator::AuthenticateSession(
    std::string_view session_id, int64_t now_us) {
  if (!IsWellFormedSessionId(session_id)) {
    return Unauthenticated("the session cookie is malformed; log in again");
  }
  // Sessions share the principal cache under a prefixed key; expiry is checked on every load,
  // and the cache is dropped at least every kSessionCacheUs so an expired session ends.
  std::string key = "session:" + TokenHash(session_id);
  Shard& shard = shards_[static_cast<unsigned char>(key[8]) % kShards];
  uint64_t generation = generation_.load();
  std::shared_ptr<const Principal> principal = CacheFind(shard, key, generation);
  if (principal != nullptr && now_us < principal->session_checked_us + kSessionCacheUs) {
    return principal;
  }
  auto user = store_->Accounts()->LookupSession(key.substr(8), now_us);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) {
      return Unauthenticated("the session has expired or was logged out; log in again");
    }
    return user.status();
  }
  if (user->disabled) return Unauthenticated("the user of this session is disabled");
  NEREID_ASSIGN_OR_RETURN(std::shared_ptr<Principal> p, BuildPrincipal(*user));
  p->via_session = true;
  p->session_checked_us = now_us;
  principal = std::move(p);
  std::unique_lock lock(shard.mu);
  if (generation_.load() == generation) shard.entries[key] = {principal, generation, NowUs()};
  return principal;
}

void Authenticator::Invalidate() {
  generation_.fetch_add(1);
  for (auto& shard : shards_) {
    std::unique_lock lock(shard.mu);
    shard.entries.clear();
  }
}

void Authenticator::Touch(Shard& shard, int64_t token_id) {
  int64_t now = NowUs();
  {
    std::lock_guard lock(shard.touch_mu);
    shard.touches[token_id] = now;
  }
  int64_t last = last_flush_us_.load();
  if (now - last < kTouchIntervalUs) return;
  if (!last_flush_us_.compare_exchange_strong(last, now)) return;  // another request flushes
  FlushTouches();
}

void Authenticator::FlushTouches() {
  std::vector<std::pair<int64_t, int64_t>> due;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.touch_mu);
    due.insert(due.end(), shard.touches.begin(), shard.touches.end());
    shard.touches.clear();
  }
  if (store_ == nullptr || due.empty()) return;
  Status s = store_->Accounts()->TouchTokens(due);
  if (!s.ok()) spdlog::warn("recording token last-used times failed: {}", s.message());
}

}  // namespace nereid::server
