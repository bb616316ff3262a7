#include "server/data_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace nereid::server {
namespace {

namespace fs = std::filesystem;

fs::path TempDir() {
  fs::path dir = fs::temp_directory_path() / ("data_lock_test." + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(DataDirLockTest, SecondLockerIsRefusedAndToldWhoHoldsIt) {
  fs::path dir = TempDir();
  auto first = DataDirLock::Acquire(dir, "nereid admin migrate-store");
  ASSERT_TRUE(first.ok()) << first.status().message();
  LockHolder holder;
  auto second = DataDirLock::Acquire(dir, "nereid admin --offline", &holder);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(holder.pid, ::getpid());
  EXPECT_EQ(holder.role, "nereid admin migrate-store");
  EXPECT_NE(second.status().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.status().message();
  fs::remove_all(dir);
}

TEST(DataDirLockTest, ReleasedWhenTheHandleDiesOrMoves) {
  fs::path dir = TempDir();
  {
    auto first = DataDirLock::Acquire(dir, "nereid admin migrate-store");
    ASSERT_TRUE(first.ok());
    DataDirLock moved = std::move(first).value();
    EXPECT_TRUE(moved.held());
    EXPECT_FALSE(DataDirLock::Acquire(dir, "server").ok());
  }
  auto again = DataDirLock::Acquire(dir, "nereid admin --offline");
  ASSERT_TRUE(again.ok()) << again.status().message();
  std::ifstream in(dir / DataDirLock::kFileName);
  int64_t pid = 0;
  std::string role;
  in >> pid;
  std::getline(in >> std::ws, role);
  EXPECT_EQ(pid, ::getpid());
  EXPECT_EQ(role,
            "nereid admin --offline");  // the previous holder's longer line left nothing behind
  fs::remove_all(dir);
}

// The kernel drops the lock of a process that dies without cleaning up (a crashed server).
TEST(DataDirLockTest, ReleasedWhenTheHolderIsKilled) {
  fs::path dir = TempDir();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = DataDirLock::Acquire(dir, "server");
    char c = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  LockHolder holder;
  EXPECT_FALSE(DataDirLock::Acquire(dir, "nereid admin --offline", &holder).ok());
  EXPECT_EQ(holder.pid, child);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(DataDirLock::Acquire(dir, "nereid admin --offline").ok());
  ::close(ready[0]);
  ::close(ready[1]);
  fs::remove_all(dir);
}

TEST(DataDirLockTest, MissingDirectoryIsAnErrorNotABusyLock) {
  auto lock = DataDirLock::Acquire("/nonexistent/nereid-data", "server");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace nereid::server
