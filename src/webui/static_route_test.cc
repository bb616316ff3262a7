#include "webui/static_route.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "webui/assets.h"

namespace nereid::webui {
namespace {

http::Request Get(std::string path) {
  http::Request r;
  r.method = "GET";
  r.path = std::move(path);
  return r;
}

std::string HeaderOf(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

const Asset* FirstHashedAsset(std::string_view suffix) {
  for (const Asset& a : Assets()) {
    if (a.path.starts_with("/assets/") && a.path.ends_with(suffix)) return &a;
  }
  return nullptr;
}

TEST(WebUi, EmbedsTheBuiltIndexAndItsBundles) {
  const Asset* index = FindAsset("/index.html");
  ASSERT_NE(index, nullptr);
  std::string html(index->data, index->size);
  EXPECT_NE(html.find("<div id=\"app\">"), std::string::npos);
  const Asset* js = FirstHashedAsset(".js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  ASSERT_NE(FirstHashedAsset(".css"), nullptr);
  // Every script shipped is reachable: named by index.html (the entry) or imported by another
  // script (a page loaded on demand), so no chunk the UI asks for is missing from the binary.
  int entries = 0;
  for (const Asset& a : Assets()) {
    if (!a.path.starts_with("/assets/") || !a.path.ends_with(".js")) continue;
    std::string name(a.path.substr(a.path.rfind('/') + 1));
    bool named = html.find(std::string(a.path)) != std::string::npos;
    entries += named;
    for (const Asset& other : Assets()) {
      if (named) break;
      if (&other == &a || !other.path.ends_with(".js")) continue;
      named = std::string_view(other.data, other.size).find(name) != std::string_view::npos;
    }
    EXPECT_TRUE(named) << a.path << " is embedded but nothing loads it";
  }
  EXPECT_EQ(entries, 1);  // one entry script
}

TEST(WebUi, RootAndUnknownPagesGetIndexRevalidated) {
  const Asset* index = FindAsset("/index.html");
  ASSERT_NE(index, nullptr);
  for (std::string path : {"/", "/p/default/sandbox", "/runs/SAND-1"}) {
    http::Response r = ServeUi(Get(path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
    EXPECT_EQ(r.body, std::string(index->data, index->size)) << path;
    EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache") << path;
    EXPECT_EQ(HeaderOf(r, "ETag"), index->etag) << path;
  }
}

TEST(WebUi, HashedAssetsAreImmutableAndRevalidateTo304) {
  const Asset* js = FirstHashedAsset(".js");
  ASSERT_NE(js, nullptr);
  http::Response r = ServeUi(Get(std::string(js->path)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), js->size);
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "public, max-age=31536000, immutable");

  http::Request again = Get(std::string(js->path));
  again.headers.emplace_back("if-none-match", "\"other\", " + std::string(js->etag));
  http::Response cached = ServeUi(again);
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());

  http::Request stale = Get(std::string(js->path));
  stale.headers.emplace_back("if-none-match", "\"0000000000000000\"");
  EXPECT_EQ(ServeUi(stale).status, 200);
}

http::Request GetWith(std::string path, std::string accept_encoding) {
  http::Request r = Get(std::move(path));
  r.headers.emplace_back("accept-encoding", std::move(accept_encoding));
  return r;
}

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(WebUi, TextFilesGoGzippedWhenAcceptedAndPlainOtherwise) {
  for (std::string_view suffix : {".js", ".css"}) {
    const Asset* a = FirstHashedAsset(suffix);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(a->gzip, nullptr) << a->path << " has a gzip copy";
    EXPECT_LT(a->gzip_size, a->size / 2) << a->path;
    EXPECT_NE(a->gzip_etag, a->etag);
    const std::string plain(a->data, a->size);

    http::Response gz = ServeUi(GetWith(std::string(a->path), "gzip, deflate, br, zstd"));
    EXPECT_EQ(gz.status, 200);
    EXPECT_EQ(HeaderOf(gz, "Content-Encoding"), "gzip");
    EXPECT_EQ(HeaderOf(gz, "Vary"), "Accept-Encoding");
    EXPECT_EQ(HeaderOf(gz, "ETag"), a->gzip_etag);
    EXPECT_EQ(HeaderOf(gz, "Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(gz.content_type, a->content_type);
    EXPECT_EQ(Gunzip(gz.body), plain);

    // Not accepted: the plain bytes, still with Vary (a cache must not hand them the gzip copy).
    for (std::string ae : {"", "identity", "br", "gzip;q=0", "gzip;q=0, *", "deflate, *;q=0"}) {
      http::Response id =
          ServeUi(ae.empty() ? Get(std::string(a->path)) : GetWith(std::string(a->path), ae));
      EXPECT_EQ(id.status, 200) << ae;
      EXPECT_EQ(HeaderOf(id, "Content-Encoding"), "") << ae;
      EXPECT_EQ(HeaderOf(id, "Vary"), "Accept-Encoding") << ae;
      EXPECT_EQ(HeaderOf(id, "ETag"), a->etag) << ae;
      EXPECT_EQ(id.body, plain) << ae;
    }
    for (std::string ae :
         {"*", "GZIP;q=0.5", "x-gzip", "br;q=1.0 , gzip ; q=0.2", "gzip;q=0, x-gzip"}) {
      EXPECT_EQ(HeaderOf(ServeUi(GetWith(std::string(a->path), ae)), "Content-Encoding"), "gzip")
          << ae;
    }
  }
}

TEST(WebUi, IndexIsGzippedTooAndEachCopyRevalidatesByItsOwnEtag) {
  const Asset* index = FindAsset("/index.html");
  ASSERT_NE(index, nullptr);
  ASSERT_NE(index->gzip, nullptr);
  http::Response r = ServeUi(GetWith("/p/acme/vision", "gzip"));
  EXPECT_EQ(HeaderOf(r, "Content-Encoding"), "gzip");
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(Gunzip(r.body), std::string(index->data, index->size));

  http::Request again = GetWith("/", "gzip");
  again.headers.emplace_back("if-none-match", std::string(index->gzip_etag));
  http::Response cached = ServeUi(again);
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
  EXPECT_EQ(HeaderOf(cached, "ETag"), index->gzip_etag);
  EXPECT_EQ(HeaderOf(cached, "Vary"), "Accept-Encoding");

  // The plain copy's ETag does not validate the gzip copy, nor the other way round.
  http::Request other = GetWith("/", "gzip");
  other.headers.emplace_back("if-none-match", std::string(index->etag));
  EXPECT_EQ(ServeUi(other).status, 200);
  http::Request plain = Get("/");
  plain.headers.emplace_back("if-none-match", std::string(index->gzip_etag));
  EXPECT_EQ(ServeUi(plain).status, 200);
}

TEST(WebUi, MissingBundleIs404NotIndex) {
  http::Response r = ServeUi(Get("/assets/index-gone.js"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
}

TEST(WebUi, OnlyGetAndHead) {
  http::Request post = Get("/");
  post.method = "POST";
  http::Response r = ServeUi(post);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(HeaderOf(r, "Allow"), "GET, HEAD");
}

TEST(WebUi, ApiAndMetricsAreNotUiPaths) {
  EXPECT_FALSE(IsUiPath("/api/v1/nothing"));
  EXPECT_FALSE(IsUiPath("/api"));
  EXPECT_FALSE(IsUiPath("/metrics"));
  EXPECT_TRUE(IsUiPath("/"));
  EXPECT_TRUE(IsUiPath("/apis"));
  EXPECT_TRUE(IsUiPath("/runs/SAND-1"));
}

}  // namespace
}  // namespace nereid::webui
