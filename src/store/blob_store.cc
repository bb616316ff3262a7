// Content-addressed blobs on the local file system. Durability order on Commit: fsync the temp
// file, rename it to its content name, fsync the directory, so that after a crash a content name
// always holds the complete content.
#include "store/blob_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <system_error>

namespace nereid::store {
namespace fs = std::filesystem;

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

namespace {

Status IoError(std::string_view what, const fs::path& path, int err) {
  std::string message = std::string(what) + " " + path.string() + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return InsufficientStorage(message);
  return Internal(message);
}

Status FsyncPath(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status() : IoError("fsync", path, err);
}

class FsBlobStore;

class FsUpload : public BlobStore::Upload {
 public:
  FsUpload(fs::path files_dir, fs::path temp, int fd, int64_t max_size)
      : files_dir_(std::move(files_dir)),
        temp_(std::move(temp)),
        fd_(fd),
        max_size_(max_size),
        md_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(md_, EVP_sha256(), nullptr);
  }
  ~FsUpload() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) {
      std::error_code ec;
      fs::remove(temp_, ec);
    }
    EVP_MD_CTX_free(md_);
  }

  Status Write(std::string_view bytes) override {
    if (fd_ < 0) return Internal("upload already committed or failed");
    if (static_cast<int64_t>(bytes.size()) > max_size_ - size_) {
      return PayloadTooLarge("file is larger than the limit of " + std::to_string(max_size_) +
                             " bytes");
    }
    EVP_DigestUpdate(md_, bytes.data(), bytes.size());
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("write", temp_, errno);
      }
      bytes.remove_prefix(static_cast<size_t>(n));
      size_ += n;
    }
    return Status();
  }

  Result<BlobInfo> Commit() override {
    if (fd_ < 0) return Internal("upload already committed or failed");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md_, digest, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    BlobInfo info;
    info.size = size_;
    for (unsigned int i = 0; i < len; ++i) {
      info.sha256 += kHex[digest[i] >> 4];
      info.sha256 += kHex[digest[i] & 15];
    }
    int fd = fd_;
    fd_ = -1;
    if (::fsync(fd) != 0) {
      int err = errno;
      ::close(fd);
      return IoError("fsync", temp_, err);
    }
    ::close(fd);
    fs::path dir = files_dir_ / info.sha256.substr(0, 2);
    fs::path target = dir / info.sha256;
    std::error_code ec;
    if (fs::exists(target, ec)) {
      // Same content stored before: drop the temp file now, before the upload is answered (the
      // destructor would do it only after the response went out).
      fs::remove(temp_, ec);
      committed_ = true;
      return info;
    }
    bool created_dir = fs::create_directory(dir, ec);
    if (ec) return IoError("mkdir", dir, ec.value());
    if (::rename(temp_.c_str(), target.c_str()) != 0) return IoError("rename", target, errno);
    committed_ = true;
    NEREID_RETURN_IF_ERROR(FsyncPath(dir));
    if (created_dir) NEREID_RETURN_IF_ERROR(FsyncPath(files_dir_));
    return info;
  }

 private:
  fs::path files_dir_, temp_;
  int fd_;
  int64_t max_size_;
  int64_t size_ = 0;
  bool committed_ = false;
  EVP_MD_CTX* md_;
};

class FsBlobStore : public BlobStore {
 public:
  explicit FsBlobStore(fs::path files_dir) : files_dir_(std::move(files_dir)) {}

  Result<std::unique_ptr<Upload>> Begin(int64_t max_size) override {
    fs::path temp;
    int fd = -1;
    for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
      temp = files_dir_ / "tmp" / ("upload-" + RandomName());
      fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EEXIST) return IoError("create", temp, errno);
    }
    if (fd < 0) return Internal("could not create a temp file in " + files_dir_.string());
    return std::unique_ptr<Upload>(new FsUpload(files_dir_, temp, fd, max_size));
  }

  fs::path PathOf(std::string_view sha256) const override {
    return files_dir_ / std::string(sha256.substr(0, 2)) / std::string(sha256);
  }

  bool Exists(std::string_view sha256) const override {
    if (!IsSha256Hex(sha256)) return false;
    std::error_code ec;
    return fs::is_regular_file(PathOf(sha256), ec);
  }

  uint64_t TotalBytes() override {
    using Clock = std::chrono::steady_clock;
    std::lock_guard lock(mu_);
    if (computed_ && Clock::now() - computed_at_ < std::chrono::seconds(5)) return total_;
    uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(files_dir_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code size_ec;
      if (it->is_regular_file(size_ec)) {
        uintmax_t size = it->file_size(size_ec);
        if (!size_ec) total += size;
      }
    }
    total_ = total;
    computed_ = true;
    computed_at_ = Clock::now();
    return total_;
  }

 private:
  static std::string RandomName() {
    static std::atomic<uint64_t> counter{0};
    thread_local std::mt19937_64 rng(std::random_device{}());
    return std::to_string(rng()) + "-" + std::to_string(counter.fetch_add(1));
  }

  fs::path files_dir_;
  std::mutex mu_;  // guards the cached total below
  uint64_t total_ = 0;
  bool computed_ = false;
  std::chrono::steady_clock::time_point computed_at_;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> BlobStore::Open(const fs::path& data_dir) {
  return OpenFolder(data_dir / "files", /*shared=*/false);
}

Result<std::unique_ptr<BlobStore>> BlobStore::OpenFolder(const fs::path& files, bool shared) {
  std::error_code ec;
  fs::create_directories(files / "tmp", ec);
  if (ec) return IoError("mkdir", files / "tmp", ec.value());
  // Temp files belong to uploads of a previous process: none of them can still be committed.
  for (auto it = fs::directory_iterator(files / "tmp", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code remove_ec;
    if (shared) {
      auto written = fs::last_write_time(it->path(), remove_ec);
      if (remove_ec || fs::file_time_type::clock::now() - written < kSharedTempIdle) continue;
    }
    fs::remove(it->path(), remove_ec);
  }
  return std::unique_ptr<BlobStore>(new FsBlobStore(files));
}

}  // namespace nereid::store
