#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "server/auth_policy.h"
#include "server/context.h"
#include "server/http_errors.h"
#include "server/json_render.h"
#include "server/session.h"

namespace nereid::server {

namespace {

thread_local const Principal* tl_principal = nullptr;

const std::vector<double> kAuthBounds = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                         0.001,   0.0025,   0.005,   0.01,   0.025,   0.1};

int64_t CeilSeconds(int64_t us) {
  return (us + 999'999) / 1'000'000;
}

// The 429 answer: which limit, its value, when it resets, and Retry-After.
http::Response RateLimitedResponse(Context* ctx, const Principal& who, const RateDecision& d) {
  int64_t retry_s = std::max<int64_t>(1, CeilSeconds(d.retry_after_us));
  std::string message = fmt::format(
      "rate limit exceeded: user '{}' may make {} requests per minute (burst {}, limit set by "
      "{}); retry in {} s",
      who.user, who.rate.per_minute, who.rate.burst, who.rate_source, retry_s);
  nlohmann::json body = {{"error",
                          {{"code", "rate_limited"},
                           {"message", message},
                           {"limit",
                            {{"name", "requests_per_minute"},
                             {"value", who.rate.per_minute},
                             {"burst", who.rate.burst},
                             {"source", who.rate_source},
                             {"retry_after_s", retry_s},
                             {"reset_s", CeilSeconds(d.reset_us)},
                             {"reset_at", IsoTime(ctx->now_us() + d.reset_us)}}}}}};
  http::Response r = JsonResponse(429, body);
  r.headers.emplace_back("Retry-After", std::to_string(retry_s));
  return r;
}

void AddRateHeaders(http::Response& r, const Principal& who, const RateDecision& d) {
  if (who.rate.unlimited()) return;  // documented: unlimited users get no RateLimit-* headers
  r.headers.emplace_back("RateLimit-Limit", std::to_string(who.rate.per_minute));
  r.headers.emplace_back("RateLimit-Remaining", std::to_string(d.remaining));
  r.headers.emplace_back("RateLimit-Reset", std::to_string(CeilSeconds(d.reset_us)));
  r.headers.emplace_back("RateLimit-Policy", fmt::format("{};w=60;burst={}", who.rate.per_minute,
                                                         std::max<uint32_t>(1, who.rate.burst)));
}

}  // namespace

const Principal* CurrentPrincipal() {
  return tl_principal;
}

http::Handler Authed(Context* ctx, ApiHandler handler) {
  return [ctx, handler = std::move(handler)](http::Request& request) {
    const auto auth_started = std::chrono::steady_clock::now();
    // A bearer token wins; a browser without one is authenticated by its session cookie.
    std::string_view authorization = request.Header("authorization");
    std::optional<std::string> session;
    if (authorization.empty() && !ctx->offline_admin) {
      session = CookieValue(request.Header("cookie"), kSessionCookie);
    }
    auto who = ctx->offline_admin ? Result<std::shared_ptr<const Principal>>(ctx->offline_admin)
               : session          ? ctx->auth.AuthenticateSession(*session, ctx->now_us())
                                  : ctx->auth.Authenticate(authorization);
    if (!who.ok()) return ErrorResponse(who.status());
    const Principal& principal = **who;
    // CSRF: a state-changing request that rides on the cookie must also carry the token that
    // only our own pages can read (from POST /login or GET /session).
    bool safe_method = request.method == "GET" || request.method == "HEAD";
    if (session && !safe_method && request.Header(kCsrfHeader) != CsrfTokenFor(*session)) {
      return ErrorResponse(PermissionDenied(
          "a request authenticated by the session cookie that changes state needs the "
          "X-CSRF-Token header (from POST /api/v1/login or GET /api/v1/session)"));
    }
    RateDecision decision =
        ctx->limiter->Acquire(static_cast<uint64_t>(principal.user_id), principal.rate);
    http::Response response;
    Status allowed;
    if (decision.allowed) {
      allowed = Authorize(principal, request,
                          [ctx](std::string_view key) { return ctx->project_keys->Lookup(key); });
    }
    ctx->metrics.Observe(
        "nereid_auth_duration_seconds", {{"route", request.route}},
        std::chrono::duration<double>(std::chrono::steady_clock::now() - auth_started).count(),
        kAuthBounds);
    if (!decision.allowed) {
      ctx->metrics.Add("nereid_rate_limited_total", {});
      response = RateLimitedResponse(ctx, principal, decision);
    } else if (!allowed.ok()) {
      response = ErrorResponse(allowed);
    } else {
      struct PrincipalScope {  // cleared even if the handler throws
        explicit PrincipalScope(const Principal* p) { tl_principal = p; }
        ~PrincipalScope() { tl_principal = nullptr; }
      } scope(&principal);
      Result<http::Response> result = handler(request);
      response = result.ok() ? std::move(result).value() : ErrorResponse(result.status());
    }
    AddRateHeaders(response, principal, decision);
    return response;
  };
}

http::Response JsonResponse(int status, const nlohmann::json& body) {
  // Replace, not throw, on invalid UTF-8: stored strings are validated, so this only guards bugs.
  return http::Response::Json(status,
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<std::optional<double>> QueryDouble(const http::Request& r, std::string_view name) {
  auto text = r.Query(name);
  if (!text || text->empty()) return std::optional<double>();
  double v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(v)) {
    return InvalidArgument("query parameter '" + std::string(name) + "' must be a finite number");
  }
  return std::optional<double>(v);
}

Result<std::optional<uint64_t>> QueryUint(const http::Request& r, std::string_view name) {
  auto text = r.Query(name);
  if (!text || text->empty()) return std::optional<uint64_t>();
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return InvalidArgument("query parameter '" + std::string(name) +
                           "' must be a non-negative integer");
  }
  return std::optional<uint64_t>(v);
}

}  // namespace nereid::server
