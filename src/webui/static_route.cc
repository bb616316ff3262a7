#include "webui/static_route.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

#include "http/header_text.h"
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
    std::string_view tag = http::TrimOws(if_none_match.substr(pos, comma - pos));
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    pos = comma + 1;
  }
  return false;
}

// Whether an Accept-Encoding header allows gzip (RFC 9110 12.5.3): named (or "x-gzip") with a
// non-zero weight, or covered by "*" when not named. No header means identity only here: a
// client that says nothing gets the plain bytes.
bool AcceptsGzip(std::string_view header) {
  std::optional<bool> gzip, star;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view item = header.substr(pos, comma - pos);
    pos = comma + 1;
    std::string_view coding = item, params;
    if (size_t semi = item.find(';'); semi != std::string_view::npos) {
      coding = item.substr(0, semi);
      params = item.substr(semi + 1);
    }
    coding = http::TrimOws(coding);
    bool allowed = true;
    params = http::TrimOws(params);
    if (params.starts_with("q=") || params.starts_with("Q=")) {
      double q = 1;
      std::string_view v = http::TrimOws(params.substr(2));
      allowed = std::from_chars(v.data(), v.data() + v.size(), q).ec == std::errc() && q > 0;
    }
    if (http::TokenEquals(coding, "gzip") || http::TokenEquals(coding, "x-gzip")) gzip = allowed;
    if (coding == "*") star = allowed;
  }
  return gzip.value_or(star.value_or(false));
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
  // The gzip copy when the client takes it: the bytes on the wire shrink ~3x (the entry script
  // 150 kB -> 57 kB) at no cost per request, since the compression was done at build time.
  const bool gzip = asset->gzip && AcceptsGzip(request.Header("accept-encoding"));
  const std::string_view etag = gzip ? asset->gzip_etag : asset->etag;
  r.headers.emplace_back("ETag", std::string(etag));
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Caches must key on Accept-Encoding whenever the answer could have been the other copy.
  if (asset->gzip) r.headers.emplace_back("Vary", "Accept-Encoding");
  if (EtagMatches(request.Header("if-none-match"), etag)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.status = 200;
  r.content_type = std::string(asset->content_type);
  if (gzip) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body.assign(asset->gzip, asset->gzip_size);
  } else {
    r.body.assign(asset->data, asset->size);
  }
  return r;
}

}  // namespace nereid::webui
