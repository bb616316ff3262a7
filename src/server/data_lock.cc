#include "server/data_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <utility>

namespace nereid::server {
namespace {

LockHolder ReadHolder(int fd) {
  LockHolder holder;
  char buf[128];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return holder;
  std::istringstream in(std::string(buf, static_cast<size_t>(n)));
  if (!(in >> holder.pid)) return LockHolder{};
  std::getline(in >> std::ws, holder.role);
  return holder;
}

}  // namespace

Result<DataDirLock> DataDirLock::Acquire(const std::filesystem::path& dir, const std::string& role,
                                         LockHolder* holder) {
  std::string path = (dir / kFileName).string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  DataDirLock lock(fd);  // closes fd on every return below but the last
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err != EWOULDBLOCK) return Internal("cannot lock " + path + ": " + std::strerror(err));
    LockHolder h = ReadHolder(fd);
    if (holder) *holder = h;
    return Unavailable(dir.string() + " is in use by another process" +
                       (h.pid ? " (pid " + std::to_string(h.pid) + ")" : std::string()));
  }
  std::string content = std::to_string(::getpid()) + " " + role + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) {
    return Internal("cannot write " + path + ": " + std::strerror(errno));
  }
  return lock;
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor of the open file drops the flock
}

}  // namespace nereid::server
