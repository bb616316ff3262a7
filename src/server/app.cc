#include "server/app.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "http/server.h"
#include "server/context.h"
#include "server/http_errors.h"
#include "store_postgres/postgres_store.h"
#include "store_sqlite/sqlite_store.h"
#include "webui/static_route.h"

namespace nereid::server {
namespace {

int64_t WallClockUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Test-only (not a documented flag): NEREID_TEST_CLOCK_SKEW_FILE names a file holding a number
// of seconds added to the server's wall clock, re-read on every use, so a system test can move
// time forward (run liveness) without sleeping. Unset in production: the plain wall clock.
std::function<int64_t()> MakeClock() {
  const char* skew_file = std::getenv("NEREID_TEST_CLOCK_SKEW_FILE");
  if (skew_file == nullptr || *skew_file == '\0') return WallClockUs;
  spdlog::warn("test clock: adding the seconds in {} to the wall clock", skew_file);
  return [path = std::string(skew_file)] {
    std::ifstream in(path);
    int64_t seconds = 0;
    if (!(in >> seconds)) seconds = 0;
    return WallClockUs() + seconds * 1'000'000;
  };
}

// With several servers on one database: how long a token revoked (a user disabled, a role
// changed) through another server may still work here. Each active token then costs one reload
// (a few small queries) per period.
constexpr int64_t kSharedAuthCacheUs = 5'000'000;

// First start of an empty server: a workspace and a project to log into at once.
Status EnsureDefaults(store::Store* store) {
  NEREID_ASSIGN_OR_RETURN(auto workspaces, store->ListWorkspaces());
  if (!workspaces.empty()) return Status::Ok();
  NEREID_RETURN_IF_ERROR(store->CreateWorkspace("default").status());
  NEREID_RETURN_IF_ERROR(store->CreateProject("default", "sandbox", "SAND").status());
  spdlog::info("created workspace 'default' and project 'default/sandbox' (key SAND)");
  return Status::Ok();
}

// The directory of an embedded SQLite store ("sqlite", "sqlite:DIR" or none: the data
// directory), else nullopt (PostgreSQL).
std::optional<std::filesystem::path> SqliteDir(const Config& config) {
  const std::string& url = config.store_url;
  if (url.empty() || url == "sqlite") return std::filesystem::path(config.data_dir);
  if (url.rfind("sqlite:", 0) == 0 && url.size() > 7) return std::filesystem::path(url.substr(7));
  return std::nullopt;
}

constexpr const char* kServerRole = "server";

std::string LockedMessage(const std::string& dir, const LockHolder& holder, bool offline) {
  std::string pid = holder.pid ? " (pid " + std::to_string(holder.pid) + ")" : "";
  if (!holder.role.empty() && holder.role != kServerRole) {
    return "`" + holder.role + "`" + pid + " is using " + dir + "; try again when it is done";
  }
  if (offline) return "a server is running on " + dir + pid + "; stop it or use --url";
  return "another server is running on " + dir + pid +
         "; two servers cannot share an embedded store (use PostgreSQL for several servers)";
}

}  // namespace

App::App(Config config) : config_(std::move(config)) {}

App::~App() {
  Stop();
}

Status App::Start() {
  NEREID_RETURN_IF_ERROR(Open(/*offline=*/false));
  return http_->Start();
}

Status App::OpenOffline() {
  return Open(/*offline=*/true);
}

http::Response App::Handle(std::string method, std::string_view target, std::string body,
                           std::string content_type) {
  if (!http_) return ErrorResponse(Unavailable("the server's state is not open"));
  std::vector<std::pair<std::string, std::string>> headers;
  if (!content_type.empty()) headers.emplace_back("content-type", std::move(content_type));
  return http_->Handle(std::move(method), target, std::move(headers), std::move(body));
}

Status App::Open(bool offline) {
  std::optional<std::filesystem::path> sqlite_dir = SqliteDir(config_);
  std::error_code ec;
  if (offline && sqlite_dir) {
    // Offline on a directory that is not there is a typo (or the wrong machine): say so instead
    // of creating an empty server.
    if (!std::filesystem::is_directory(*sqlite_dir, ec)) {
      return NotFound("no data directory " + sqlite_dir->string() +
                      " (give --data DIR of the stopped server)");
    }
  } else {
    std::filesystem::create_directories(config_.data_dir, ec);
    if (ec) {
      return Internal("cannot create data directory '" + config_.data_dir + "': " + ec.message());
    }
  }
  if (sqlite_dir) {
    // One process at a time on an embedded store: two servers on one SQLite directory would both
    // think they own it (run numbering, group commit), and offline admin must not write under a
    // live server. PostgreSQL is made for several servers (and offline admin beside them).
    std::filesystem::create_directories(*sqlite_dir, ec);
    LockHolder holder;
    auto lock = DataDirLock::Acquire(*sqlite_dir, offline ? "nereid admin --offline" : kServerRole,
                                     &holder);
    if (!lock.ok()) {
      if (lock.status().code() != StatusCode::kUnavailable) return lock.status();
      return Unavailable(LockedMessage(sqlite_dir->string(), holder, offline));
    }
    lock_ = std::move(lock).value();
  }
  ctx_ = std::make_unique<Context>();
  ctx_->config = config_;
  ctx_->now_us = MakeClock();

  store_sqlite::Register();
  store_postgres::Register();
  store::StoreOptions options;
  options.url = config_.store_url.empty() ? "sqlite:" + config_.data_dir : config_.store_url;
  options.data_dir = config_.data_dir;
  options.files_dir = config_.files_dir;
  options.synchronous = config_.synchronous;
  options.now_us = ctx_->now_us;
  NEREID_ASSIGN_OR_RETURN(ctx_->store, store::OpenStore(options));
  NEREID_ASSIGN_OR_RETURN(ctx_->blobs,
                          config_.files_dir.empty()
                              ? store::BlobStore::Open(config_.data_dir)
                              : store::BlobStore::OpenFolder(config_.files_dir, /*shared=*/true));
  NEREID_RETURN_IF_ERROR(EnsureDefaults(ctx_->store.get()));
  NEREID_RETURN_IF_ERROR(ctx_->auth.Init(ctx_->store.get(), config_.data_dir,
                                         RateLimit{config_.rate_limit, config_.rate_burst},
                                         &created_token_));
  ctx_->limiter = std::make_unique<RateLimiter>([] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  });
  ctx_->login_limiter = std::make_unique<RateLimiter>([] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  });
  if (offline) {
    // The holder of the data directory (or of the database's URL) is the authority offline, as
    // the admin token is online. Unlimited: it is one command, and a limit would only lock out
    // the operator repairing the server.
    auto admin = std::make_shared<Principal>();
    admin->user = "offline admin";
    admin->is_admin = true;
    admin->rate = RateLimit{0, 0};
    admin->rate_source = "server admin";
    ctx_->offline_admin = std::move(admin);
  } else if (store::RateShare* share = ctx_->store->RateSharing()) {
    // Several servers may use this database: account changes made through another server reach
    // this one's cache within kSharedAuthCacheUs, and limits are per user across all of them.
    ctx_->auth.SetCacheMaxAge(kSharedAuthCacheUs);
    ctx_->limiter->ShareThrough(share, RateLimiter::kRequestSpace);
    ctx_->login_limiter->ShareThrough(share, RateLimiter::kLoginSpace);
    ctx_->rate_sync = std::make_unique<RateSyncLoop>(
        std::vector<RateLimiter*>{ctx_->limiter.get(), ctx_->login_limiter.get()}, kRateSyncPeriod);
  }
  ctx_->project_keys = std::make_unique<ProjectKeys>(ctx_->store.get());

  http::ServerOptions http_options;
  http_options.host = config_.host;
  http_options.port = config_.port;
  http_options.io_threads = config_.io_threads;
  // Offline, Handle runs handlers on the caller's thread: the pool would only idle.
  http_options.handler_threads = offline ? 1 : config_.handler_threads;
  http_options.body_limit = config_.body_limit;
  http_options.access_log = config_.access_log;
  http_ = std::make_unique<http::Server>(http_options, &ctx_->metrics);

  Context* ctx = ctx_.get();
  ctx->metrics.Describe("nereid_auth_duration_seconds",
                        "Authentication, rate limit and permission check of an API request.");
  ctx->metrics.Describe(
      "nereid_ingest_stage_seconds",
      "Batch ingest by stage: decode, prepare, commit_queue (waiting for the group-commit "
      "writer), apply (the whole group's transaction), commit (COMMIT, the fsync), wake.");
  http_->Route("GET", "/api/v1/health",
               [](http::Request&) { return http::Response::Json(200, R"({"status":"ok"})"); });
  http_->Route("GET", "/metrics", [ctx](http::Request&) {
    http::Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = ctx->metrics.Render();
    // The store's group-commit histogram comes as counts; render it as a Prometheus histogram.
    store::StoreStats stats = ctx->store->Stats();
    static constexpr const char* kBounds[] = {"1", "2", "4", "8", "16", "32", "64", "+Inf"};
    r.body += "# HELP nereid_group_commit_size Batches committed per transaction.\n";
    r.body += "# TYPE nereid_group_commit_size histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < std::size(kBounds); ++i) {
      if (i < stats.group_size_hist.size()) cumulative += stats.group_size_hist[i];
      r.body +=
          fmt::format("nereid_group_commit_size_bucket{{le=\"{}\"}} {}\n", kBounds[i], cumulative);
    }
    r.body += fmt::format("nereid_group_commit_size_sum {}\n", stats.batches);
    r.body += fmt::format("nereid_group_commit_size_count {}\n", stats.commits);
    r.body += "# TYPE nereid_database_bytes gauge\n";
    r.body += fmt::format("nereid_database_bytes {}\n", stats.database_bytes);
    r.body += "# TYPE nereid_files_bytes gauge\n";
    r.body += fmt::format("nereid_files_bytes {}\n", ctx->blobs->TotalBytes());
    return r;
  });
  AddProjectRoutes(ctx, http_.get());
  AddIngestRoutes(ctx, http_.get());
  AddSeriesRoutes(ctx, http_.get());
  AddAccountRoutes(ctx, http_.get());
  AddNotebookRoutes(ctx, http_.get());
  AddLoginRoutes(ctx, http_.get());
  http_->SetNotFound([](http::Request& r) {
    if (webui::IsUiPath(r.path)) return webui::ServeUi(r);
    return ErrorResponse(
        NotFound("no API endpoint " + r.method + " " + r.path + "; see docs/http-api.md"));
  });
  return Status::Ok();
}

uint16_t App::port() const {
  return http_ ? http_->port() : 0;
}

void App::Stop() {
  if (http_) {
    http_->Stop(config_.shutdown_grace);
    http_.reset();
  }
  if (ctx_ && ctx_->store) {
    ctx_->auth.FlushTouches();  // last-used times of the final seconds
    ctx_->rate_sync.reset();    // no exchange with a closed store
    ctx_->store->Close();
  }
  ctx_.reset();
  lock_ = DataDirLock();  // only once the store is closed
}

}  // namespace nereid::server
