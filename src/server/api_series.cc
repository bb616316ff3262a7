// Reads of series points, chart buckets, and file downloads.
#include <nlohmann/json.hpp>

#include "server/context.h"
#include "server/json_render.h"
#include "store/blob_store.h"

namespace nereid::server {
namespace {

using nlohmann::json;

Result<std::string> RequiredQuery(const http::Request& r, std::string_view name) {
  auto v = r.Query(name);
  if (!v || v->empty()) {
    return InvalidArgument("query parameter '" + std::string(name) + "' is required");
  }
  return *v;
}

http::Response FileDownload(Context* ctx, const store::FileInfo& f) {
  return http::Response::File(ctx->blobs->PathOf(f.sha256), f.content_type, f.name);
}

}  // namespace

void AddSeriesRoutes(Context* ctx, http::Server* server) {
  store::Store* st = ctx->store.get();

  server->Route("GET", "/api/v1/runs/{run_id}/series",
                Authed(ctx, [st](http::Request& r) -> Result<http::Response> {
                  store::SeriesQuery q;
                  q.run_id = r.path_params.at("run_id");
                  NEREID_ASSIGN_OR_RETURN(q.path, RequiredQuery(r, "path"));
                  NEREID_ASSIGN_OR_RETURN(auto from, QueryDouble(r, "from"));
                  NEREID_ASSIGN_OR_RETURN(auto to, QueryDouble(r, "to"));
                  NEREID_ASSIGN_OR_RETURN(auto limit, QueryUint(r, "limit"));
                  if (from) q.step_from = *from;
                  if (to) q.step_to = *to;
                  if (limit) {
                    if (*limit < 1 || *limit > 100000) {
                      return InvalidArgument("query parameter 'limit' must be 1 to 100000");
                    }
                    q.limit = static_cast<uint32_t>(*limit);
                  }
                  q.cursor = r.Query("cursor").value_or("");
                  NEREID_ASSIGN_OR_RETURN(auto page, st->ReadSeries(q));
                  // Columns, not objects per point: a 100k-point page stays a few MB and parses
                  // fast.
                  json steps = json::array(), times = json::array(), values = json::array();
                  if (page.type == store::FieldType::kFloatSeries) {
                    for (const auto& p : page.floats) {
                      steps.push_back(p.step);
                      times.push_back(p.timestamp_us);
                      values.push_back(FloatJson(p.value));
                    }
                  } else if (page.type == store::FieldType::kStringSeries) {
                    for (const auto& p : page.strings) {
                      steps.push_back(p.step);
                      times.push_back(p.timestamp_us);
                      values.push_back(p.value);
                    }
                  } else {
                    for (size_t i = 0; i < page.files.size(); ++i) {
                      steps.push_back(page.file_steps[i].first);
                      times.push_back(page.file_steps[i].second);
                      values.push_back(FileJson(page.files[i]));
                    }
                  }
                  json out = {{"path", q.path},
                              {"type", store::FieldTypeName(page.type)},
                              {"steps", steps},
                              {"timestamps_us", times},
                              {"values", values}};
                  out["next_cursor"] =
                      page.next_cursor.empty() ? json(nullptr) : json(page.next_cursor);
                  return JsonResponse(200, out);
                }));

  server->Route("GET", "/api/v1/runs/{run_id}/series/buckets",
                Authed(ctx, [st](http::Request& r) -> Result<http::Response> {
                  store::BucketQuery q;
                  q.run_id = r.path_params.at("run_id");
                  NEREID_ASSIGN_OR_RETURN(q.path, RequiredQuery(r, "path"));
                  NEREID_ASSIGN_OR_RETURN(q.step_from, QueryDouble(r, "from"));
                  NEREID_ASSIGN_OR_RETURN(q.step_to, QueryDouble(r, "to"));
                  NEREID_ASSIGN_OR_RETURN(auto n, QueryUint(r, "n"));
                  if (n) {
                    if (*n < 1 || *n > 10000)
                      return InvalidArgument("query parameter 'n' must be 1 to 10000");
                    q.buckets = static_cast<uint32_t>(*n);
                  }
                  if (q.step_from && q.step_to && *q.step_from > *q.step_to) {
                    return InvalidArgument("'from' must not be greater than 'to'");
                  }
                  NEREID_ASSIGN_OR_RETURN(auto buckets, st->ReadBuckets(q));
                  return http::Response::Json(200, BucketsJson(q.path, buckets));
                }));

  server->Route("GET", "/api/v1/runs/{run_id}/file",
                Authed(ctx, [ctx, st](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(std::string path, RequiredQuery(r, "path"));
                  NEREID_ASSIGN_OR_RETURN(auto step, QueryDouble(r, "step"));
                  NEREID_ASSIGN_OR_RETURN(auto file,
                                          st->GetFile(r.path_params.at("run_id"), path, step));
                  return FileDownload(ctx, file);
                }));

  server->Route(
      "GET", "/api/v1/files/{sha256}",
      Authed(ctx, [ctx, st](http::Request& r) -> Result<http::Response> {
        const std::string& sha = r.path_params.at("sha256");
        if (!store::IsSha256Hex(sha)) return InvalidArgument("'" + sha + "' is not a sha256");
        NEREID_ASSIGN_OR_RETURN(int64_t size, st->BlobSize(sha));
        (void)size;
        store::FileInfo f{sha, r.Query("name").value_or(sha), "application/octet-stream", 0};
        return FileDownload(ctx, f);
      }));
}

}  // namespace nereid::server
