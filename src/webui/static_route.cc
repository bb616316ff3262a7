#include "webui/static_route.h"

#include <algorithm>
#include <string>

#include "webui/assets.h"

namespace nereid::webui {
namespace {

// Vite names every bundled file under /assets/ by a hash of its content, so a given URL never
// changes meaning and browsers may keep it. index.html names those files, so it must be
// revalidated on every load to pick up a new build.
constexpr std::string_view kImmutablePrefix = "/assets/";

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match == "*") return true;
  size_t pos = 0;
  while (pos < if_none_match.size()) {
    size_t comma = if_none_match.find(',', pos);
    if (comma == std::string_view::npos) comma = if_none_match.size();
    std::string_view tag = if_none_match.substr(pos, comma - pos);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    pos = comma + 1;
  }
  return false;
}

}  // namespace

const Asset* FindAsset(std::string_view path) {
  auto assets = Assets();
  auto it = std::lower_bound(assets.begin(), assets.end(), path,
                             [](const Asset& a, std::string_view p) { return a.path < p; });
  return it != assets.end() && it->path == path ? &*it : nullptr;
}

bool IsUiPath(std::string_view path) {
  return !(path == "/api" || path.starts_with("/api/") || path == "/metrics");
}

http::Response ServeUi(const http::Request& request) {
  http::Response r;
  if (request.method != "GET" && request.method != "HEAD") {
    r = http::Response::Json(
        405, http::ErrorBody("method_not_allowed",
                             "the web UI at " + request.path + " only answers GET and HEAD"));
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const Asset* asset = FindAsset(request.path == "/" ? "/index.html" : request.path);
  // An unknown asset under /assets/ is a stale or mistyped bundle name: a 404 says so, where the
  // SPA fallback would hand a script tag an HTML page.
  if (!asset && request.path.starts_with(kImmutablePrefix)) {
    return http::Response::Json(404, http::ErrorBody("not_found", "no UI file " + request.path));
  }
  if (!asset) asset = FindAsset("/index.html");
  if (!asset) {  // the generator refuses a dist without index.html; this is defence in depth
    return http::Response::Json(404, http::ErrorBody("not_found", "the web UI is not built"));
  }
  const bool immutable = request.path.starts_with(kImmutablePrefix);
  r.headers.emplace_back("ETag", std::string(asset->etag));
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (EtagMatches(request.Header("if-none-match"), asset->etag)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.status = 200;
  r.content_type = std::string(asset->content_type);
  r.body.assign(asset->data, asset->size);
  return r;
}

}  // namespace nereid::webui
