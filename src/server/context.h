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
};

// Wraps a handler with the bearer-token check and Status -> HTTP translation.
using ApiHandler = std::function<Result<http::Response>(http::Request&)>;
http::Handler Authed(Context* ctx, ApiHandler handler);

http::Response JsonResponse(int status, const nlohmann::json& body);

// Route registration, one function per area (api_*.cc).
void AddProjectRoutes(Context* ctx, http::Server* server);
void AddIngestRoutes(Context* ctx, http::Server* server);
void AddSeriesRoutes(Context* ctx, http::Server* server);

// Query parameter helpers: InvalidArgument naming the parameter on a bad value.
Result<std::optional<double>> QueryDouble(const http::Request& r, std::string_view name);
Result<std::optional<uint64_t>> QueryUint(const http::Request& r, std::string_view name);

}  // namespace nereid::server
