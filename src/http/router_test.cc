// Pure helpers of the http layer: target parsing, routing, Range, Content-Disposition.
#include "http/router.h"

#include <gtest/gtest.h>

#include "http/range.h"

namespace nereid::http::internal {
namespace {

TEST(PercentDecodeTest, DecodesAndRejectsBadEscapes) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("%C3%A9", false), "\xC3\xA9");
  EXPECT_EQ(PercentDecode("%zz", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%4", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%", false), std::nullopt);
}

TEST(ParseTargetTest, SplitsBeforeDecoding) {
  auto t = ParseTarget("/runs/a%2Fb/x?k=v+w&e=&flag&k=second");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/runs/a/b/x");
  EXPECT_EQ(t->segments, (std::vector<std::string>{"runs", "a/b", "x"}));
  EXPECT_EQ(t->query.at("k"), "v w");  // first occurrence wins
  EXPECT_EQ(t->query.at("e"), "");
  EXPECT_EQ(t->query.at("flag"), "");
  EXPECT_FALSE(ParseTarget("http://host/x"));
  EXPECT_FALSE(ParseTarget("/a%zz"));
  EXPECT_FALSE(ParseTarget("/a?x=%"));
}

TEST(RouterTest, MatchesParamsAndReportsAllowedMethods) {
  Router r;
  auto h = [](Request&) { return Response{}; };
  r.Add("GET", "/runs/{run_id}", h, {});
  r.Add("POST", "/runs/{run_id}/batches", h, {});
  r.Add("DELETE", "/runs/{run_id}", h, {});
  auto m = r.Find("GET", {"runs", "VIS-1"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/runs/{run_id}");
  EXPECT_EQ(m.params.at("run_id"), "VIS-1");
  auto head = r.Find("HEAD", {"runs", "VIS-1"});
  ASSERT_NE(head.route, nullptr);
  EXPECT_EQ(head.route->method, "GET");
  auto put = r.Find("PUT", {"runs", "VIS-1"});
  EXPECT_EQ(put.route, nullptr);
  EXPECT_EQ(put.allow, "DELETE, GET, HEAD");
  auto none = r.Find("GET", {"runs"});
  EXPECT_EQ(none.route, nullptr);
  EXPECT_EQ(none.allow, "");
  EXPECT_EQ(r.Find("GET", {"runs", ""}).route, nullptr);  // a param never matches empty
}

TEST(RangeTest, SingleRanges) {
  auto r = ParseRange("bytes=10-19", 100);
  EXPECT_EQ(r.kind, RangeKind::kPartial);
  EXPECT_EQ(r.start, 10u);
  EXPECT_EQ(r.length, 10u);
  r = ParseRange("bytes=90-", 100);
  EXPECT_EQ(r.kind, RangeKind::kPartial);
  EXPECT_EQ(r.start, 90u);
  EXPECT_EQ(r.length, 10u);
  r = ParseRange("bytes=95-500", 100);  // the end is clamped
  EXPECT_EQ(r.length, 5u);
  r = ParseRange("bytes=-30", 100);
  EXPECT_EQ(r.start, 70u);
  EXPECT_EQ(r.length, 30u);
  r = ParseRange("bytes=-300", 100);
  EXPECT_EQ(r.start, 0u);
  EXPECT_EQ(r.length, 100u);
}

TEST(RangeTest, UnsatisfiableAndIgnored) {
  EXPECT_EQ(ParseRange("bytes=100-", 100).kind, RangeKind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 100).kind, RangeKind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-", 0).kind, RangeKind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=5-1", 100).kind, RangeKind::kFull);
  EXPECT_EQ(ParseRange("bytes=0-1,5-6", 100).kind, RangeKind::kFull);
  EXPECT_EQ(ParseRange("items=0-1", 100).kind, RangeKind::kFull);
  EXPECT_EQ(ParseRange("bytes=a-b", 100).kind, RangeKind::kFull);
  EXPECT_EQ(ParseRange("bytes=99999999999999999999-", 100).kind, RangeKind::kFull);
}

TEST(ContentDispositionTest, AsciiAndUtf8Names) {
  EXPECT_EQ(ContentDisposition("model.pt"), "attachment; filename=\"model.pt\"");
  EXPECT_EQ(ContentDisposition("r\xC3\xA9sum\xC3\xA9 \"1\".txt"),
            "attachment; filename=\"r__sum__ _1_.txt\"; "
            "filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22.txt");
}

TEST(ContentDispositionTest, NamesArePlainFileNamesNeverPaths) {
  EXPECT_EQ(ContentDisposition("../../etc/passwd"), "attachment; filename=\"passwd\"");
  EXPECT_EQ(ContentDisposition("a\\b.txt"), "attachment; filename=\"b.txt\"");
  EXPECT_EQ(ContentDisposition("dir/"), "attachment; filename=\"download\"");
  EXPECT_EQ(ContentDisposition(".."), "attachment; filename=\"download\"");
  EXPECT_EQ(ContentDisposition("x\r\nSet-Cookie: a"),
            "attachment; filename=\"x__Set-Cookie: a\"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20a");
}

}  // namespace
}  // namespace nereid::http::internal
