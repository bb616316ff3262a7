// Accounts API: the caller (/me, /limits), users, API tokens, workspace and project members,
// workspace limits. Who may call each route is in auth_policy.cc; handlers here only validate,
// call the account store, and drop the principal cache after every change.
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/path.h"
#include "server/context.h"
#include "server/json_render.h"

namespace nereid::server {
namespace {

using nlohmann::json;

Result<json> Body(const http::Request& r) {
  if (r.body.empty()) return json::object();
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("request body must be a JSON object");
  }
  return j;
}

Result<std::optional<std::string>> OptString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return InvalidArgument(std::string("'") + key + "' must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<bool>> OptBool(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return InvalidArgument(std::string("'") + key + "' must be true or false");
  return std::optional<bool>(it->get<bool>());
}

Result<int64_t> NonNegative(const json& j, const char* key, int64_t max) {
  if (!j.is_number_integer() || j.get<int64_t>() < 0 || j.get<int64_t>() > max) {
    return InvalidArgument(std::string("'") + key + "' must be an integer from 0 to " +
                           std::to_string(max));
  }
  return j.get<int64_t>();
}

// {"requests_per_minute": N, "burst": B}; burst defaults to a fifth of the rate (at least 1).
Result<store::RateSetting> ParseRate(const json& j) {
  if (!j.is_object()) {
    return InvalidArgument(
        "'rate_limit' must be {\"requests_per_minute\": N, \"burst\": B} or null");
  }
  auto rpm = j.find("requests_per_minute");
  if (rpm == j.end()) return InvalidArgument("'rate_limit' needs 'requests_per_minute'");
  store::RateSetting s;
  NEREID_ASSIGN_OR_RETURN(s.per_minute, NonNegative(*rpm, "requests_per_minute", 100'000'000));
  if (auto b = j.find("burst"); b != j.end() && !b->is_null()) {
    NEREID_ASSIGN_OR_RETURN(s.burst, NonNegative(*b, "burst", 100'000'000));
    if (s.burst < 1) return InvalidArgument("'burst' must be at least 1");
  } else {
    s.burst = std::max<int64_t>(1, s.per_minute / 5);
  }
  return s;
}

json RateJson(const std::optional<store::RateSetting>& r) {
  if (!r) return nullptr;
  return {{"requests_per_minute", r->per_minute}, {"burst", r->burst}};
}

json UserJson(const store::UserInfo& u) {
  return {{"name", u.name},
          {"kind", store::UserKindName(u.kind)},
          {"is_admin", u.is_admin},
          {"disabled", u.disabled},
          {"creation_time", IsoTime(u.creation_time_us)},
          {"rate_limit", RateJson(u.rate)}};
}

json TokenJson(const store::TokenInfo& t) {
  return {{"id", t.id},
          {"user", t.user},
          {"name", t.name},
          {"creation_time", IsoTime(t.creation_time_us)},
          {"last_used", t.last_used_us ? json(IsoTime(t.last_used_us)) : json(nullptr)},
          {"revoked", t.revoked_time_us != 0},
          {"revoked_time", t.revoked_time_us ? json(IsoTime(t.revoked_time_us)) : json(nullptr)}};
}

json MembersJson(const std::vector<store::Member>& members) {
  json a = json::array();
  for (const auto& m : members) a.push_back({{"user", m.user}, {"role", m.role}});
  return {{"members", a}};
}

std::string ProjectOf(const http::Request& r) {
  return r.path_params.at("workspace") + "/" + r.path_params.at("project");
}

Result<std::string> RoleOf(const http::Request& r) {
  NEREID_ASSIGN_OR_RETURN(json body, Body(r));
  NEREID_ASSIGN_OR_RETURN(auto role, OptString(body, "role"));
  if (!role) return InvalidArgument("body must be {\"role\": \"...\"}");
  return *role;
}

json RateStateJson(Context* ctx, const Principal& who) {
  json j = {{"requests_per_minute", who.rate.per_minute},
            {"burst", who.rate.burst},
            {"source", who.rate_source},
            {"unlimited", who.rate.unlimited()}};
  if (!who.rate.unlimited()) {
    RateDecision d = ctx->limiter->Peek(static_cast<uint64_t>(who.user_id), who.rate);
    j["remaining"] = d.remaining;
    j["reset_s"] = (d.reset_us + 999'999) / 1'000'000;
  }
  return j;
}

}  // namespace

void AddAccountRoutes(Context* ctx, http::Server* server) {
  store::AccountStore* accounts = ctx->store->Accounts();

  server->Route("GET", "/api/v1/me", Authed(ctx, [ctx](http::Request&) -> Result<http::Response> {
                  const Principal& who = *CurrentPrincipal();
                  json ws = json::array(), projects = json::array();
                  for (const auto& [name, role] : who.workspaces) {
                    ws.push_back({{"workspace", name}, {"role", store::WorkspaceRoleName(role)}});
                  }
                  for (const auto& [name, role] : who.projects) {
                    projects.push_back({{"project", name}, {"role", store::ProjectRoleName(role)}});
                  }
                  return JsonResponse(200, {{"user", who.user},
                                            {"kind", store::UserKindName(who.kind)},
                                            {"is_admin", who.is_admin},
                                            {"workspaces", ws},
                                            {"projects", projects},
                                            {"rate_limit", RateStateJson(ctx, who)}});
                }));

  server->Route(
      "GET", "/api/v1/limits", Authed(ctx, [ctx](http::Request&) -> Result<http::Response> {
        const Principal& who = *CurrentPrincipal();
        return JsonResponse(200, {{"user", who.user}, {"rate_limit", RateStateJson(ctx, who)}});
      }));

  // --- users ---
  server->Route("GET", "/api/v1/users",
                Authed(ctx, [accounts](http::Request&) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(auto users, accounts->ListUsers());
                  json a = json::array();
                  for (const auto& u : users) a.push_back(UserJson(u));
                  return JsonResponse(200, {{"users", a}});
                }));

  server->Route("POST", "/api/v1/users",
                Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(json body, Body(r));
                  NEREID_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
                  if (!name) return InvalidArgument("'name' is required");
                  NEREID_ASSIGN_OR_RETURN(auto kind_name, OptString(body, "kind"));
                  store::UserKind kind = store::UserKind::kPerson;
                  if (kind_name && *kind_name == "service") {
                    kind = store::UserKind::kService;
                  } else if (kind_name && *kind_name != "user") {
                    return InvalidArgument("'kind' must be 'user' or 'service'");
                  }
                  NEREID_ASSIGN_OR_RETURN(auto is_admin, OptBool(body, "is_admin"));
                  NEREID_ASSIGN_OR_RETURN(
                      auto user, accounts->CreateUser(*name, kind, is_admin.value_or(false)));
                  ctx->auth.Invalidate();
                  return JsonResponse(201, UserJson(user));
                }));

  server->Route("GET", "/api/v1/users/{user}",
                Authed(ctx, [accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(auto user, accounts->GetUser(r.path_params.at("user")));
                  return JsonResponse(200, UserJson(user));
                }));

  server->Route("PATCH", "/api/v1/users/{user}",
                Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(json body, Body(r));
                  store::AccountStore::UserUpdate update;
                  NEREID_ASSIGN_OR_RETURN(update.disabled, OptBool(body, "disabled"));
                  NEREID_ASSIGN_OR_RETURN(update.is_admin, OptBool(body, "is_admin"));
                  if (auto it = body.find("rate_limit"); it != body.end()) {
                    if (it->is_null()) {
                      update.rate = std::optional<store::RateSetting>();
                    } else {
                      NEREID_ASSIGN_OR_RETURN(auto rate, ParseRate(*it));
                      update.rate = std::optional<store::RateSetting>(rate);
                    }
                  }
                  NEREID_ASSIGN_OR_RETURN(auto user,
                                          accounts->UpdateUser(r.path_params.at("user"), update));
                  ctx->auth.Invalidate();
                  return JsonResponse(200, UserJson(user));
                }));

  // --- tokens ---
  server->Route("GET", "/api/v1/users/{user}/tokens",
                Authed(ctx, [accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(auto tokens,
                                          accounts->ListTokens(r.path_params.at("user")));
                  json a = json::array();
                  for (const auto& t : tokens) a.push_back(TokenJson(t));
                  return JsonResponse(200, {{"tokens", a}});
                }));

  server->Route("POST", "/api/v1/users/{user}/tokens",
                Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(json body, Body(r));
                  NEREID_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
                  std::string label = name.value_or("");
                  if (label.size() > 128 || !common::IsValidUtf8(label)) {
                    return InvalidArgument("'name' must be UTF-8 of at most 128 bytes");
                  }
                  std::string token = NewToken();
                  NEREID_ASSIGN_OR_RETURN(
                      auto info,
                      accounts->CreateToken(r.path_params.at("user"), label, TokenHash(token)));
                  ctx->auth.Invalidate();
                  json j = TokenJson(info);
                  j["token"] = token;  // the only time it is shown
                  return JsonResponse(201, j);
                }));

  server->Route("DELETE", "/api/v1/tokens/{token_id}",
                Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
                  const std::string& text = r.path_params.at("token_id");
                  int64_t id = 0;
                  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
                  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
                    return InvalidArgument("token id must be a positive integer");
                  }
                  const Principal& who = *CurrentPrincipal();
                  auto token = accounts->GetToken(id);
                  // Someone else's token looks like a missing one: ids are not a way to probe
                  // accounts.
                  if (!token.ok() || (!who.is_admin && token->user != who.user)) {
                    return NotFound("token " + text + " not found");
                  }
                  NEREID_RETURN_IF_ERROR(accounts->RevokeToken(id));
                  ctx->auth.Invalidate();
                  NEREID_ASSIGN_OR_RETURN(auto revoked, accounts->GetToken(id));
                  return JsonResponse(200, TokenJson(revoked));
                }));

  // --- members ---
  server->Route("GET", "/api/v1/workspaces/{workspace}/members",
                Authed(ctx, [accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(
                      auto m, accounts->ListWorkspaceMembers(r.path_params.at("workspace")));
                  return JsonResponse(200, MembersJson(m));
                }));
  server->Route("PUT", "/api/v1/workspaces/{workspace}/members/{user}",
                Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(std::string name, RoleOf(r));
                  auto role = store::ParseWorkspaceRole(name);
                  if (!role) return InvalidArgument("workspace role must be 'admin' or 'member'");
                  NEREID_RETURN_IF_ERROR(accounts->SetWorkspaceRole(
                      r.path_params.at("workspace"), r.path_params.at("user"), role));
                  ctx->auth.Invalidate();
                  return JsonResponse(200, {{"user", r.path_params.at("user")}, {"role", name}});
                }));
  server->Route("DELETE", "/api/v1/workspaces/{workspace}/members/{user}",
                Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_RETURN_IF_ERROR(accounts->SetWorkspaceRole(
                      r.path_params.at("workspace"), r.path_params.at("user"), std::nullopt));
                  ctx->auth.Invalidate();
                  return JsonResponse(200, {{"user", r.path_params.at("user")}, {"role", nullptr}});
                }));

  server->Route("GET", "/api/v1/projects/{workspace}/{project}/members",
                Authed(ctx, [accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(auto m, accounts->ListProjectMembers(ProjectOf(r)));
                  return JsonResponse(200, MembersJson(m));
                }));
  server->Route(
      "PUT", "/api/v1/projects/{workspace}/{project}/members/{user}",
      Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
        NEREID_ASSIGN_OR_RETURN(std::string name, RoleOf(r));
        auto role = store::ParseProjectRole(name);
        if (!role)
          return InvalidArgument("project role must be 'owner', 'contributor' or 'viewer'");
        NEREID_RETURN_IF_ERROR(
            accounts->SetProjectRole(ProjectOf(r), r.path_params.at("user"), role));
        ctx->auth.Invalidate();
        return JsonResponse(200, {{"user", r.path_params.at("user")}, {"role", name}});
      }));
  server->Route("DELETE", "/api/v1/projects/{workspace}/{project}/members/{user}",
                Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_RETURN_IF_ERROR(accounts->SetProjectRole(
                      ProjectOf(r), r.path_params.at("user"), std::nullopt));
                  ctx->auth.Invalidate();
                  return JsonResponse(200, {{"user", r.path_params.at("user")}, {"role", nullptr}});
                }));

  // --- workspace limits ---
  server->Route("GET", "/api/v1/workspaces/{workspace}/limits",
                Authed(ctx, [accounts](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(
                      auto l, accounts->GetWorkspaceLimits(r.path_params.at("workspace")));
                  return JsonResponse(
                      200, {{"workspace", r.path_params.at("workspace")},
                            {"rate_limit", RateJson(l.rate)},
                            {"quota_bytes", l.quota_bytes ? json(*l.quota_bytes) : json(nullptr)}});
                }));
  server->Route(
      "GET", "/api/v1/workspaces/{workspace}/usage",
      Authed(ctx, [accounts](http::Request& r) -> Result<http::Response> {
        NEREID_ASSIGN_OR_RETURN(auto u, accounts->GetWorkspaceUsage(r.path_params.at("workspace")));
        json projects = json::array();
        for (const auto& p : u.projects) {
          projects.push_back({{"project", p.project},
                              {"runs", p.runs},
                              {"used_bytes", p.bytes},
                              {"run_bytes", p.run_bytes},
                              {"notebook_checkpoints", p.notebook_checkpoints},
                              {"notebook_bytes", p.notebook_bytes}});
        }
        return JsonResponse(200,
                            {{"workspace", u.workspace},
                             {"used_bytes", u.used_bytes},
                             {"notebook_bytes", u.notebook_bytes},
                             {"quota_bytes", u.quota_bytes ? json(*u.quota_bytes) : json(nullptr)},
                             {"projects", projects}});
      }));
  server->Route(
      "PUT", "/api/v1/workspaces/{workspace}/limits",
      Authed(ctx, [ctx, accounts](http::Request& r) -> Result<http::Response> {
        NEREID_ASSIGN_OR_RETURN(json body, Body(r));
        const std::string& ws = r.path_params.at("workspace");
        // Absent keys keep their value; null clears.
        NEREID_ASSIGN_OR_RETURN(auto limits, accounts->GetWorkspaceLimits(ws));
        if (auto it = body.find("rate_limit"); it != body.end()) {
          if (it->is_null()) {
            limits.rate.reset();
          } else {
            NEREID_ASSIGN_OR_RETURN(limits.rate, ParseRate(*it));
          }
        }
        if (auto it = body.find("quota_bytes"); it != body.end()) {
          if (it->is_null()) {
            limits.quota_bytes.reset();
          } else {
            NEREID_ASSIGN_OR_RETURN(limits.quota_bytes, NonNegative(*it, "quota_bytes", INT64_MAX));
          }
        }
        NEREID_RETURN_IF_ERROR(accounts->SetWorkspaceLimits(ws, limits));
        ctx->auth.Invalidate();
        return JsonResponse(
            200, {{"workspace", ws},
                  {"rate_limit", RateJson(limits.rate)},
                  {"quota_bytes", limits.quota_bytes ? json(*limits.quota_bytes) : json(nullptr)}});
      }));
}

}  // namespace nereid::server
