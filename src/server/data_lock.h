// The exclusive lock a process holds on a data directory while it uses its embedded store:
// `nereid server` for as long as it runs, `nereid admin --offline` for one command. It stops two
// servers from opening one SQLite directory and offline admin from writing under a live server.
//
// The lock is flock(2) on DIR/nereid.lock, so the kernel releases it when the holder exits, even
// by SIGKILL: a crashed server never leaves a stale lock behind. The file holds "<pid> <role>" of
// the holder, for messages only; it is never deleted (deleting a flock'ed file races with the
// next locker).
//
// Thread-safety: a DataDirLock is a move-only handle; use it from one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "nereid/status.h"

namespace nereid::server {

// Who holds a data directory's lock, as it wrote itself into the lock file.
struct LockHolder {
  int64_t pid = 0;  // 0: not known (the holder had not written it yet)
  // "server", or the command holding it ("nereid admin --offline"); empty when not known.
  std::string role;
};

class DataDirLock {
 public:
  static constexpr const char* kFileName = "nereid.lock";

  // Takes DIR/nereid.lock without waiting and writes this process's pid and `role` (one line) into
  // it. When
  // another open file holds it (another process, or another DataDirLock of this one): Unavailable,
  // with the holder in *holder (if not null). Other failures (DIR missing, not writable): Internal.
  static Result<DataDirLock> Acquire(const std::filesystem::path& dir, const std::string& role,
                                     LockHolder* holder = nullptr);

  DataDirLock() = default;
  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();  // releases the lock

  bool held() const { return fd_ >= 0; }

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace nereid::server
