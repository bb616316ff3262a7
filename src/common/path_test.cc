#include "common/path.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nereid::common {
namespace {

std::string PathError(std::string_view path) {
  Status s = ValidatePath(path);
  EXPECT_FALSE(s.ok()) << path;
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  return s.message();
}

TEST(Utf8Test, AcceptsValidText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xC3\xA9t\xC3\xA9"));          // été
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));               // U+20AC
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));               // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));           // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));           // U+10FFFF, the largest
  EXPECT_TRUE(IsValidUtf8(std::string_view("a\0b", 3)));  // NUL is valid UTF-8
}

TEST(Utf8Test, RejectsOverlongs) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));  // '/' in two bytes
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // '/' in three bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));      // U+07FF in three bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));  // '/' in four bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in four bytes
}

TEST(Utf8Test, RejectsSurrogatesAndOutOfRange) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));      // U+DFFF
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));       // U+D7FF, just below
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xFE"));
}

TEST(Utf8Test, RejectsTruncatedAndStrayBytes) {
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(IsValidUtf8("a\xF0\x9F\x98"));
  EXPECT_FALSE(IsValidUtf8("\x80"));      // continuation without a lead
  EXPECT_FALSE(IsValidUtf8("\xC3\x28"));  // lead followed by ASCII
  EXPECT_FALSE(IsValidUtf8("\xE2\x28\xA1"));
}

TEST(PathTest, AcceptsOrdinaryPaths) {
  for (std::string_view p :
       {"train/loss", "params/lr", "sys/tags", "metrics/acc@1", "a", "weird path (1)",
        "x/.hidden/y", "a..b", "\xC3\xA9t\xC3\xA9/val", "params/optimizer/beta-2", "a+b"}) {
    EXPECT_TRUE(ValidatePath(p).ok()) << p << ": " << ValidatePath(p).message();
  }
  EXPECT_TRUE(ValidatePath(std::string(kMaxPathBytes, 'a')).ok());
}

TEST(PathTest, NamesTheRuleBroken) {
  EXPECT_EQ(PathError(""), "path is empty");
  EXPECT_EQ(PathError("train//loss"), "path 'train//loss' has an empty segment");
  EXPECT_EQ(PathError("/train"), "path '/train' starts with '/'");
  EXPECT_EQ(PathError("train/"), "path 'train/' ends with '/'");
  EXPECT_EQ(PathError("/"), "path '/' starts with '/'");
  EXPECT_EQ(PathError("a/./b"), "path 'a/./b' has a segment '.', which is not allowed");
  EXPECT_EQ(PathError(".."), "path '..' has a segment '..', which is not allowed");
  EXPECT_EQ(PathError("a:b"),
            "path 'a:b' contains ':' which is reserved (use it only in filters, as in "
            "train/loss:last)");
  EXPECT_EQ(PathError("a\\b"), "path 'a\\b' contains '\\', which is not allowed in paths");
  EXPECT_EQ(PathError("a`b"), "path 'a`b' contains '`', which is not allowed in paths");
  EXPECT_EQ(PathError("a\"b"), "path 'a\"b' contains '\"', which is not allowed in paths");
  EXPECT_EQ(PathError("a\tb"), "path 'a\\x09b' contains control character \\x09");
  EXPECT_EQ(PathError(std::string_view("a\0b", 3)),
            "path 'a\\x00b' contains control character \\x00");
  EXPECT_EQ(PathError("a\x7F"), "path 'a\\x7f' contains control character \\x7f");
  // Invalid bytes are escaped so the message itself is valid UTF-8 (it goes into JSON).
  EXPECT_EQ(PathError("a\xC0\xAF"), "path 'a\\xc0\\xaf' is not valid UTF-8");
  EXPECT_EQ(PathError(std::string(1300, 'a')), "path is 1300 bytes; the limit is 1024");
  EXPECT_EQ(PathError(std::string(kMaxPathBytes + 1, 'a')),
            "path is 1025 bytes; the limit is 1024");
}

// The rules stated once more, as plainly as possible, to check ValidatePath's one-pass fast path
// for ASCII paths against: it must accept exactly what the rules accept.
bool ByTheRules(const std::string& p) {
  if (p.empty() || p.size() > kMaxPathBytes || !IsValidUtf8(p)) return false;
  for (unsigned char c : p) {
    if (c < 0x20 || c == 0x7F || c == ':' || c == '\\' || c == '`' || c == '"') return false;
  }
  size_t start = 0;
  for (;;) {
    const size_t slash = p.find('/', start);
    const std::string seg = p.substr(start, slash == std::string::npos ? slash : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

TEST(PathTest, EveryShortPathIsJudgedByTheRules) {
  // All strings of up to 5 characters over an alphabet that meets every rule (and a
  // two-byte character, valid or cut): 111,111 of them.
  const std::string alphabet[] = {"a",    ".",    "/",        ":",    " ",
                                  "\x7f", "\x01", "\xc3\xa9", "\xc3", "\""};
  std::vector<std::string> level = {""};
  size_t checked = 0;
  for (int len = 0; len <= 5; ++len) {
    std::vector<std::string> next;
    for (const std::string& p : level) {
      ASSERT_EQ(ValidatePath(p).ok(), ByTheRules(p)) << "'" << p << "'";
      ++checked;
      if (len < 5) {
        for (const std::string& c : alphabet) next.push_back(p + c);
      }
    }
    level = std::move(next);
  }
  EXPECT_GT(checked, 100000u);
}

TEST(PathTest, LongPathsAreShortenedInMessages) {
  const std::string p = std::string(100, 'a') + ":x";
  const std::string m = PathError(p);
  EXPECT_NE(m.find("'" + std::string(80, 'a') + "...'"), std::string::npos) << m;
  EXPECT_LT(m.size(), 200u);
  // A two-byte character straddling the cut is dropped whole, never split.
  const std::string q = std::string(79, 'a') + "\xC3\xA9" + "/:";
  const std::string mq = PathError(q);
  EXPECT_NE(mq.find("'" + std::string(79, 'a') + "...'"), std::string::npos) << mq;
}

TEST(NameTest, Names) {
  EXPECT_TRUE(ValidateName("project", "nlp-2024_v1.0").ok());
  EXPECT_TRUE(ValidateName("workspace", "7eleven").ok());
  EXPECT_TRUE(ValidateName("workspace", std::string(64, 'w')).ok());
  EXPECT_EQ(ValidateName("project", "").message(), "project name is empty");
  EXPECT_EQ(ValidateName("project", std::string(65, 'p')).message(),
            "project name is 65 bytes; the limit is 64");
  EXPECT_EQ(ValidateName("workspace", "my team").message(),
            "workspace name 'my team' contains ' '; use only A-Z, a-z, 0-9, '_', '.' and '-'");
  EXPECT_EQ(ValidateName("workspace", "caf\xC3\xA9").message(),
            "workspace name 'caf\\xc3\\xa9' contains byte \\xc3; use only A-Z, a-z, 0-9, '_', '.' "
            "and '-'");
  EXPECT_EQ(ValidateName("project", "-x").message(),
            "project name '-x' must start with a letter or digit");
  EXPECT_EQ(ValidateName("project", ".x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateName("project", "a/b").code(), StatusCode::kInvalidArgument);
}

TEST(NameTest, ProjectKeys) {
  EXPECT_TRUE(ValidateProjectKey("NLP").ok());
  EXPECT_TRUE(ValidateProjectKey("A").ok());
  EXPECT_TRUE(ValidateProjectKey("ABCDEFGHIJ").ok());
  for (std::string_view k : {"", "ABCDEFGHIJK", "nlp", "NLP1", "NL-P", "ÉTÉ"}) {
    Status s = ValidateProjectKey(k);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << k;
    EXPECT_NE(s.message().find("1 to 10 capital letters A-Z"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace nereid::common
