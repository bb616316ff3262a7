#include "webui/static_route.h"

#include <gtest/gtest.h>

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
