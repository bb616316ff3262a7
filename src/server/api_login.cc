// Web login: POST /login (user + password -> HttpOnly SameSite session cookie and the CSRF token),
// POST /logout, GET /session, PUT /users/{user}/password. Login attempts are throttled per user
// name and per client address with the same GCRA limiter as requests.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

#include "server/context.h"
#include "server/http_errors.h"
#include "server/json_render.h"
#include "server/session.h"

namespace nereid::server {
namespace {

using nlohmann::json;

constexpr int64_t kSessionLifetimeUs = 7 * 24 * 3600 * 1'000'000ll;
const RateLimit kLoginPerUser{10, 5};      // 5 tries at once, then one per 6 s
const RateLimit kLoginPerAddress{60, 20};  // one address guessing many names

Result<json> Body(const http::Request& r) {
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("request body must be a JSON object");
  }
  return j;
}

std::string StringOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string SessionCookie(const Context* ctx, const std::string& value, int64_t max_age_s) {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}", kSessionCookie,
                     value, max_age_s, ctx->config.secure_cookies ? "; Secure" : "");
}

// The client address without the port, for login throttling.
std::string Address(const http::Request& r) {
  size_t colon = r.remote.rfind(':');
  return colon == std::string::npos ? r.remote : r.remote.substr(0, colon);
}

http::Response TooManyAttempts(const RateDecision& d, const std::string& what) {
  int64_t retry = std::max<int64_t>(1, (d.retry_after_us + 999'999) / 1'000'000);
  http::Response r = ErrorResponse(
      Status(StatusCode::kRateLimited,
             fmt::format("too many login attempts for {}; retry in {} s", what, retry)));
  r.headers.emplace_back("Retry-After", std::to_string(retry));
  return r;
}

}  // namespace

void AddLoginRoutes(Context* ctx, http::Server* server) {
  store::AccountStore* accounts = ctx->store->Accounts();

  // Not behind Authed: this is how a browser gets its credentials.
  server->Route("POST", "/api/v1/login", [ctx, accounts](http::Request& r) -> http::Response {
    auto body = Body(r);
    if (!body.ok()) return ErrorResponse(body.status());
    std::string user = StringOr(*body, "user");
    std::string password = StringOr(*body, "password");
    if (user.empty() || password.empty()) {
      return ErrorResponse(InvalidArgument("body must be {\"user\": ..., \"password\": ...}"));
    }
    RateDecision by_address = ctx->login_limiter->Acquire(
        std::hash<std::string>{}("addr:" + Address(r)), kLoginPerAddress);
    if (!by_address.allowed) return TooManyAttempts(by_address, "this address");
    RateDecision by_user =
        ctx->login_limiter->Acquire(std::hash<std::string>{}("user:" + user), kLoginPerUser);
    if (!by_user.allowed) return TooManyAttempts(by_user, "user '" + user + "'");
    // One message for every failure, and the same work for unknown users: names are not probed.
    Status wrong = Unauthenticated("wrong user name or password");
    auto info = accounts->GetUser(user);
    auto hash = info.ok() ? accounts->GetPasswordHash(user) : Result<std::string>(info.status());
    if (!hash.ok() || hash->empty()) {
      (void)VerifyPassword(DummyPasswordHash(), password);
      return ErrorResponse(wrong);
    }
    if (!VerifyPassword(*hash, password) || info->disabled ||
        info->kind == store::UserKind::kService) {
      return ErrorResponse(wrong);
    }
    std::string session = NewSessionId();
    int64_t expires = ctx->now_us() + kSessionLifetimeUs;
    Status created = accounts->CreateSession(user, TokenHash(session), expires);
    if (!created.ok()) return ErrorResponse(created);
    http::Response resp = JsonResponse(
        200,
        {{"user", user}, {"csrf_token", CsrfTokenFor(session)}, {"expires", IsoTime(expires)}});
    resp.headers.emplace_back("Set-Cookie",
                              SessionCookie(ctx, session, kSessionLifetimeUs / 1'000'000));
    resp.headers.emplace_back("Cache-Control", "no-store");
    return resp;
  });

  server->Route("POST", "/api/v1/logout",
                Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
                  auto session = CookieValue(r.Header("cookie"), kSessionCookie);
                  if (session && CurrentPrincipal()->via_session) {
                    NEREID_RETURN_IF_ERROR(accounts->DeleteSession(TokenHash(*session)));
                    ctx->auth.Invalidate();
                  }
                  http::Response resp = JsonResponse(200, {{"logged_out", true}});
                  resp.headers.emplace_back("Set-Cookie", SessionCookie(ctx, "", 0));
                  return resp;
                }));

  server->Route(
      "GET", "/api/v1/session", Authed(ctx, [](http::Request& r) -> Result<http::Response> {
        const Principal& who = *CurrentPrincipal();
        json j = {{"user", who.user},
                  {"is_admin", who.is_admin},
                  {"via", who.via_session ? "session" : "token"}};
        if (auto s = CookieValue(r.Header("cookie"), kSessionCookie); s && who.via_session) {
          j["csrf_token"] = CsrfTokenFor(*s);
        }
        return JsonResponse(200, j);
      }));

  server->Route(
      "PUT", "/api/v1/users/{user}/password",
      Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
        NEREID_ASSIGN_OR_RETURN(json body, Body(r));
        const std::string& name = r.path_params.at("user");
        NEREID_ASSIGN_OR_RETURN(auto user, accounts->GetUser(name));
        if (user.kind == store::UserKind::kService) {
          return InvalidArgument("service accounts have no password; they use API tokens");
        }
        const Principal& who = *CurrentPrincipal();
        if (!who.is_admin) {  // changing one's own password needs the current one
          NEREID_ASSIGN_OR_RETURN(std::string old_hash, accounts->GetPasswordHash(name));
          if (!old_hash.empty() && !VerifyPassword(old_hash, StringOr(body, "current_password"))) {
            return PermissionDenied("'current_password' is wrong");
          }
        }
        NEREID_ASSIGN_OR_RETURN(std::string hash, HashPassword(StringOr(body, "password")));
        NEREID_RETURN_IF_ERROR(accounts->SetPasswordHash(name, hash));
        return JsonResponse(200, {{"user", name}, {"password_set", true}});
      }));
}

}  // namespace nereid::server
