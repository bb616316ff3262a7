// What every API handler needs: the store, the blob store, metrics, the authenticator, config.
// Owned by App; handlers hold a pointer. Everything here is safe to use from many threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/metrics.h"
#include "http/server.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/project_keys.h"
#include "server/ratelimit.h"
#include "store/blob_store.h"
#include "store/store.h"

namespace nereid::server {

struct Context {
  Config config;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::BlobStore> blobs;
  common::Metrics metrics;
  Authenticator auth;
  std::function<int64_t()> now_us;
  std::unique_ptr<RateLimiter> limiter;        // per user, on a monotonic clock
  std::unique_ptr<RateLimiter> login_limiter;  // login attempts per user name and address
  // Several servers on one database: shares both limiters' counts (null otherwise). Declared
  // after them and the store, so it stops before they are destroyed.
  std::unique_ptr<RateSyncLoop> rate_sync;
  std::unique_ptr<ProjectKeys> project_keys;
  // Set only by App::OpenOffline, which never listens: every request is this server
  // administrator, without a token (filesystem access to the data directory is the authority).
  std::shared_ptr<const Principal> offline_admin;
};

// The authenticated caller of the request this thread is handling inside Authed(), else null.
const Principal* CurrentPrincipal();

// Wraps a handler with the bearer-token check, the user's rate limit (RateLimit-* headers on
// every response; 429 when over), the route's permission rule (auth_policy.h) and
// Status -> HTTP translation.
using ApiHandler = std::function<Result<http::Response>(http::Request&)>;
http::Handler Authed(Context* ctx, ApiHandler handler);

http::Response JsonResponse(int status, const nlohmann::json& body);

// Route registration, one function per area (api_*.cc).
void AddProjectRoutes(Context* ctx, http::Server* server);
void AddIngestRoutes(Context* ctx, http::Server* server);
void AddSeriesRoutes(Context* ctx, http::Server* server);
void AddAccountRoutes(Context* ctx, http::Server* server);
void AddNotebookRoutes(Context* ctx, http::Server* server);
void AddLoginRoutes(Context* ctx, http::Server* server);

// Query parameter helpers: InvalidArgument naming the parameter on a bad value.
Result<std::optional<double>> QueryDouble(const http::Request& r, std::string_view name);
Result<std::optional<uint64_t>> QueryUint(const http::Request& r, std::string_view name);

}  // namespace nereid::server
