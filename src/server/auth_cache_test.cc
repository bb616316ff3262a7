// The principal cache against changes made behind its back (by another server on the same
// database): kept until Invalidate by default, reloaded after SetCacheMaxAge's age otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "server/auth.h"
#include "store_sqlite/sqlite_store.h"

namespace nereid::server {
namespace {

TEST(AuthCacheTest, ChangesElsewhereReachTheCacheAfterItsMaxAge) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("nereid-auth-cache-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  store::StoreOptions options;
  options.url = "sqlite:" + dir.string();
  options.data_dir = dir.string();
  options.synchronous = "normal";
  auto store = store_sqlite::OpenSqliteStore(options, dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Authenticator auth;
  std::string token;
  ASSERT_TRUE(auth.Init(store->get(), dir, RateLimit{}, &token).ok());
  ASSERT_FALSE(token.empty());
  const std::string header = "Bearer " + token;
  ASSERT_TRUE(auth.Authenticate(header).ok());

  // "Another server" revokes the token: this one's Invalidate is not called.
  auto tokens = (*store)->Accounts()->ListTokens("admin");
  ASSERT_TRUE(tokens.ok() && tokens->size() == 1u);
  ASSERT_TRUE((*store)->Accounts()->RevokeToken((*tokens)[0].id).ok());
  EXPECT_TRUE(auth.Authenticate(header).ok());  // default: cached until Invalidate

  auth.SetCacheMaxAge(20'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  auto refused = auth.Authenticate(header);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("revoked"), std::string::npos);

  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nereid::server
