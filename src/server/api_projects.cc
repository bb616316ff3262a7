// Workspaces, projects and runs: create, list, read fields, the runs table, the trash.
#include <nlohmann/json.hpp>

#include "common/path.h"
#include "query/filter.h"
#include "server/context.h"
#include "server/json_render.h"
#include "server/liveness.h"

namespace nereid::server {
namespace {

using nlohmann::json;

// Deeper bodies are refused before parsing: nlohmann builds every level on the heap (1M levels of
// '[' took ~100 MB and seconds; the 64 MiB body limit would allow gigabytes), and no body here
// needs more than 2 levels. Found by tests/test_hostile_input.py.
constexpr int kMaxJsonDepth = 32;

bool NestedTooDeep(std::string_view s) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

Result<json> ParseJsonBody(const http::Request& r) {
  if (r.body.empty()) return json::object();
  if (NestedTooDeep(r.body)) {
    return InvalidArgument("request body nests deeper than " + std::to_string(kMaxJsonDepth) +
                           " levels");
  }
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("request body must be a JSON object");
  }
  return j;
}

Result<std::string> StringMember(const json& j, const char* key, size_t max_len) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument(std::string("'") + key + "' must be a string");
  std::string s = it->get<std::string>();
  if (s.size() > max_len) {
    return InvalidArgument(std::string("'") + key + "' is longer than " + std::to_string(max_len) +
                           " bytes");
  }
  if (!common::IsValidUtf8(s)) return InvalidArgument(std::string("'") + key + "' is not UTF-8");
  return s;
}

std::string ProjectOf(const http::Request& r) {
  return r.path_params.at("workspace") + "/" + r.path_params.at("project");
}

// "a,b:last" -> field refs. A path holding ',' cannot be a column (documented).
Result<std::vector<query::FieldRef>> ParseColumns(std::string_view text) {
  std::vector<query::FieldRef> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (!item.empty()) {
      NEREID_ASSIGN_OR_RETURN(auto ref, query::ParseFieldRef(item));
      out.push_back(std::move(ref));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.size() > 200) return InvalidArgument("at most 200 columns per request");
  return out;
}

std::string ColumnName(const query::FieldRef& ref) {
  static constexpr const char* kAgg[] = {"", ":last", ":min", ":max", ":count"};
  return ref.path + kAgg[static_cast<int>(ref.aggregate)];
}

// {"runs": ["VIS-1", ...]}: the ids a trash/restore/delete request names.
Result<std::vector<std::string>> RunIdsMember(const json& body) {
  auto it = body.find("runs");
  if (it == body.end() || !it->is_array()) {
    return InvalidArgument("body must be {\"runs\": [run ids]}");
  }
  std::vector<std::string> ids;
  for (const auto& v : *it) {
    if (!v.is_string() || v.get<std::string>().size() > 64) {
      return InvalidArgument("'runs' must be an array of run ids (\"KEY-N\")");
    }
    ids.push_back(v.get<std::string>());
  }
  return ids;
}

}  // namespace

void AddProjectRoutes(Context* ctx, http::Server* server) {
  store::Store* st = ctx->store.get();

  server->Route("GET", "/api/v1/workspaces",
                Authed(ctx, [st](http::Request&) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(auto list, st->ListWorkspaces());
                  const Principal* who = CurrentPrincipal();
                  json a = json::array();
                  for (const auto& w : list) {
                    if (who->SeesWorkspace(w.name)) a.push_back({{"name", w.name}});
                  }
                  return JsonResponse(200, {{"workspaces", a}});
                }));

  server->Route("POST", "/api/v1/workspaces",
                Authed(ctx, [st](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
                  NEREID_ASSIGN_OR_RETURN(std::string name, StringMember(body, "name", 64));
                  NEREID_RETURN_IF_ERROR(common::ValidateName("workspace name", name));
                  NEREID_ASSIGN_OR_RETURN(auto w, st->CreateWorkspace(name));
                  return JsonResponse(201, {{"name", w.name}});
                }));

  server->Route(
      "GET", "/api/v1/workspaces/{workspace}/projects",
      Authed(ctx, [st](http::Request& r) -> Result<http::Response> {
        NEREID_ASSIGN_OR_RETURN(auto list, st->ListProjects(r.path_params.at("workspace")));
        // Workspace members see every project name; others only their projects.
        const Principal* who = CurrentPrincipal();
        bool member = who->is_admin || who->workspaces.count(r.path_params.at("workspace"));
        json a = json::array();
        for (const auto& p : list) {
          if (member || who->ProjectRoleIn(p.workspace + "/" + p.name)) {
            a.push_back(ProjectJson(p));
          }
        }
        return JsonResponse(200, {{"projects", a}});
      }));

  server->Route("POST", "/api/v1/workspaces/{workspace}/projects",
                Authed(ctx, [st](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
                  NEREID_ASSIGN_OR_RETURN(std::string name, StringMember(body, "name", 64));
                  NEREID_ASSIGN_OR_RETURN(std::string key, StringMember(body, "key", 10));
                  NEREID_RETURN_IF_ERROR(common::ValidateName("project name", name));
                  NEREID_RETURN_IF_ERROR(common::ValidateProjectKey(key));
                  NEREID_ASSIGN_OR_RETURN(
                      auto p, st->CreateProject(r.path_params.at("workspace"), name, key));
                  return JsonResponse(201, ProjectJson(p));
                }));

  server->Route("GET", "/api/v1/projects/{workspace}/{project}",
                Authed(ctx, [st](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(auto p, st->GetProject(ProjectOf(r)));
                  return JsonResponse(200, ProjectJson(p));
                }));

  server->Route(
      "POST", "/api/v1/projects/{workspace}/{project}/runs",
      Authed(ctx, [ctx, st](http::Request& r) -> Result<http::Response> {
        NEREID_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
        store::CreateRunRequest req;
        req.project = ProjectOf(r);
        NEREID_ASSIGN_OR_RETURN(req.custom_run_id, StringMember(body, "custom_run_id", 128));
        NEREID_ASSIGN_OR_RETURN(req.name, StringMember(body, "name", 1024));
        NEREID_ASSIGN_OR_RETURN(req.description, StringMember(body, "description", 16 * 1024));
        if (auto it = body.find("tags"); it != body.end() && !it->is_null()) {
          if (!it->is_array()) return InvalidArgument("'tags' must be an array of strings");
          for (const auto& t : *it) {
            if (!t.is_string() || !common::IsValidUtf8(t.get<std::string>())) {
              return InvalidArgument("'tags' must be an array of UTF-8 strings");
            }
            req.tags.push_back(t.get<std::string>());
          }
        }
        req.owner = CurrentPrincipal()->user;
        NEREID_ASSIGN_OR_RETURN(auto created, st->CreateRun(req));
        json j = RunJson(created.run);
        ApplyLiveness(j, created.run, ctx->now_us(), ctx->config.NotRespondingUs());
        j["created"] = created.created;
        return JsonResponse(created.created ? 201 : 200, j);
      }));

  server->Route("GET", "/api/v1/projects/{workspace}/{project}/runs",
                Authed(ctx, [ctx, st](http::Request& r) -> Result<http::Response> {
                  store::ListRunsQuery q;
                  q.project = ProjectOf(r);
                  std::unique_ptr<query::Expr> filter;
                  if (auto text = r.Query("filter")) {
                    NEREID_ASSIGN_OR_RETURN(filter, query::ParseFilter(*text));
                    RewriteLivenessFilter(filter, ctx->now_us() - ctx->config.NotRespondingUs());
                    q.filter = filter.get();
                  }
                  if (auto sort = r.Query("sort"); sort && !sort->empty()) {
                    NEREID_ASSIGN_OR_RETURN(q.sort, query::ParseFieldRef(*sort));
                  }
                  if (auto order = r.Query("order")) {
                    if (*order != "asc" && *order != "desc") {
                      return InvalidArgument("query parameter 'order' must be 'asc' or 'desc'");
                    }
                    q.descending = *order == "desc";
                  }
                  if (auto cols = r.Query("columns")) {
                    NEREID_ASSIGN_OR_RETURN(q.columns, ParseColumns(*cols));
                  }
                  NEREID_ASSIGN_OR_RETURN(auto limit, QueryUint(r, "limit"));
                  if (limit) {
                    if (*limit < 1 || *limit > 1000) {
                      return InvalidArgument("query parameter 'limit' must be 1 to 1000");
                    }
                    q.limit = static_cast<uint32_t>(*limit);
                  }
                  q.cursor = r.Query("cursor").value_or("");
                  NEREID_ASSIGN_OR_RETURN(auto offset, QueryUint(r, "offset"));
                  // Its bounds, and that it does not come with a cursor, are the store's check
                  // (store::CheckListRunsQuery), the same on both backends.
                  if (offset) q.offset = *offset;
                  // Counting the matches touches every one of them; the first page's count
                  // serves the whole list, so later pages (cursor or offset) skip it.
                  q.count_total = q.cursor.empty() && q.offset == 0;
                  if (auto trashed = r.Query("trashed")) {
                    if (*trashed != "true" && *trashed != "false") {
                      return InvalidArgument("query parameter 'trashed' must be 'true' or 'false'");
                    }
                    q.trashed = *trashed == "true";
                  }
                  NEREID_ASSIGN_OR_RETURN(auto page, st->ListRuns(q));
                  json runs = json::array();
                  for (const auto& row : page.rows) {
                    json j = RunJson(row.run);
                    ApplyLiveness(j, row.run, ctx->now_us(), ctx->config.NotRespondingUs());
                    json cols = json::object();
                    for (size_t i = 0; i < q.columns.size() && i < row.cells.size(); ++i) {
                      cols[ColumnName(q.columns[i])] = ValueJson(row.cells[i]);
                    }
                    j["columns"] = std::move(cols);
                    runs.push_back(std::move(j));
                  }
                  json out = {{"runs", runs}};
                  if (page.total) out["total"] = *page.total;
                  out["next_cursor"] =
                      page.next_cursor.empty() ? json(nullptr) : json(page.next_cursor);
                  return JsonResponse(200, out);
                }));

  // The project's field names for filter completion and the column picker, from the registry
  // ingest keeps (store/project_fields.h): as fast at 100k runs as at 10.
  server->Route("GET", "/api/v1/projects/{workspace}/{project}/fields",
                Authed(ctx, [st](http::Request& r) -> Result<http::Response> {
                  store::FieldListQuery q;
                  q.project = ProjectOf(r);
                  q.prefix = r.Query("prefix").value_or("");
                  NEREID_ASSIGN_OR_RETURN(auto limit, QueryUint(r, "limit"));
                  if (limit) {
                    if (*limit < 1 || *limit > store::kMaxFieldListLimit) {
                      return InvalidArgument("query parameter 'limit' must be 1 to " +
                                             std::to_string(store::kMaxFieldListLimit));
                    }
                    q.limit = static_cast<uint32_t>(*limit);
                  }
                  NEREID_ASSIGN_OR_RETURN(auto list, st->ListProjectFields(q));
                  json a = json::array();
                  for (const auto& f : list.fields) {
                    a.push_back({{"path", f.path}, {"type", store::FieldTypeName(f.type)}});
                  }
                  return JsonResponse(200, {{"fields", a}, {"truncated", list.truncated}});
                }));

  // The trash (store/trash.h). Each request is all or nothing: an unknown id (404) or, for
  // delete, a run not in the trash (409) is named and nothing is changed.
  server->Route("POST", "/api/v1/projects/{workspace}/{project}/runs/trash",
                Authed(ctx, [st](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
                  NEREID_ASSIGN_OR_RETURN(auto ids, RunIdsMember(body));
                  NEREID_RETURN_IF_ERROR(st->TrashRuns(ProjectOf(r), ids));
                  return JsonResponse(200, {{"trashed", ids}});
                }));
  server->Route("POST", "/api/v1/projects/{workspace}/{project}/runs/restore",
                Authed(ctx, [st](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
                  NEREID_ASSIGN_OR_RETURN(auto ids, RunIdsMember(body));
                  NEREID_RETURN_IF_ERROR(st->RestoreRuns(ProjectOf(r), ids));
                  return JsonResponse(200, {{"restored", ids}});
                }));
  server->Route("POST", "/api/v1/projects/{workspace}/{project}/runs/delete",
                Authed(ctx, [st](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
                  NEREID_ASSIGN_OR_RETURN(auto ids, RunIdsMember(body));
                  NEREID_ASSIGN_OR_RETURN(auto done, st->DeleteRuns(ProjectOf(r), ids));
                  return JsonResponse(200, {{"deleted", done.deleted},
                                            {"freed_bytes", done.freed_bytes},
                                            {"removed_files", done.removed_files}});
                }));

  server->Route("GET", "/api/v1/runs/{run_id}",
                Authed(ctx, [ctx, st](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(auto run, st->GetRun(r.path_params.at("run_id")));
                  json j = RunJson(run);
                  ApplyLiveness(j, run, ctx->now_us(), ctx->config.NotRespondingUs());
                  return JsonResponse(200, j);
                }));

  server->Route("GET", "/api/v1/runs/{run_id}/fields",
                Authed(ctx, [ctx, st](http::Request& r) -> Result<http::Response> {
                  std::string prefix = r.Query("prefix").value_or("");
                  NEREID_ASSIGN_OR_RETURN(auto fields,
                                          st->GetFields(r.path_params.at("run_id"), prefix));
                  json a = json::array();
                  for (const auto& f : fields) a.push_back(FieldJson(f));
                  ApplyLivenessToFields(a, fields, ctx->now_us(), ctx->config.NotRespondingUs());
                  return JsonResponse(200, {{"run_id", r.path_params.at("run_id")}, {"fields", a}});
                }));
}

}  // namespace nereid::server
