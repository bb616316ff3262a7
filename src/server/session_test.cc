#include "server/session.h"

#include <gtest/gtest.h>

namespace nereid::server {
namespace {

TEST(Session, PasswordHashIsArgon2idAndVerifies) {
  auto hash = HashPassword("correct horse battery");
  ASSERT_TRUE(hash.ok()) << hash.status().message();
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_EQ(hash->find("correct"), std::string::npos);
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword("", "anything"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "anything"));
  auto again = HashPassword("correct horse battery");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *hash);  // salted
  EXPECT_FALSE(VerifyPassword(DummyPasswordHash(), "correct horse battery"));
}

TEST(Session, PasswordLengthLimits) {
  EXPECT_EQ(HashPassword("short").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword(std::string(kMaxPasswordLength + 1, 'x')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Session, IdsCsrfAndCookies) {
  std::string a = NewSessionId(), b = NewSessionId();
  EXPECT_TRUE(IsWellFormedSessionId(a));
  EXPECT_NE(a, b);
  EXPECT_FALSE(IsWellFormedSessionId("nrs_xyz"));
  EXPECT_NE(CsrfTokenFor(a), CsrfTokenFor(b));
  EXPECT_EQ(CsrfTokenFor(a), CsrfTokenFor(a));
  EXPECT_EQ(CookieValue("theme=dark; nereid_session=nrs_1; x=y", "nereid_session"), "nrs_1");
  EXPECT_EQ(CookieValue("nereid_session=abc", "nereid_session"), "abc");
  EXPECT_EQ(CookieValue("nereid_sessionx=abc", "nereid_session"), std::nullopt);
  EXPECT_EQ(CookieValue("", "nereid_session"), std::nullopt);
}

}  // namespace
}  // namespace nereid::server
