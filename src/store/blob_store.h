// Content-addressed file storage: DIR/files/ab/cdef... named by the SHA-256 of the content.
// Identical uploads are stored once. Uploads stream into DIR/files/tmp and are renamed into place
// only when complete, so a crash never leaves a half-written blob under a content name.
//
// Thread-safety: BlobStore methods may be called from many threads; one Upload is used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "nereid/status.h"

namespace nereid::store {

struct BlobInfo {
  std::string sha256;  // lowercase hex
  int64_t size = 0;
};

class BlobStore {
 public:
  // Creates DIR/files and DIR/files/tmp if missing; removes stale temp files.
  static Result<std::unique_ptr<BlobStore>> Open(const std::filesystem::path& data_dir);
  // The files folder itself (`nereid server --files DIR`). `shared`: several servers use it at
  // once, so a temp file is stale only when no bytes were written to it for kSharedTempIdle (an
  // upload in progress on another server keeps its temp file fresh); otherwise every temp file
  // left by a previous process is removed at once.
  static Result<std::unique_ptr<BlobStore>> OpenFolder(const std::filesystem::path& files,
                                                       bool shared);
  static constexpr std::chrono::minutes kSharedTempIdle{15};

  class Upload {
   public:
    virtual ~Upload() = default;  // an uncommitted upload deletes its temp file
    // Appends bytes, hashing as it goes. PayloadTooLarge past max_size; InsufficientStorage when
    // the disk is full.
    virtual Status Write(std::string_view bytes) = 0;
    // fsyncs and moves the blob into place (or drops it if that content exists already).
    virtual Result<BlobInfo> Commit() = 0;
  };

  virtual ~BlobStore() = default;
  virtual Result<std::unique_ptr<Upload>> Begin(int64_t max_size) = 0;
  virtual std::filesystem::path PathOf(std::string_view sha256) const = 0;
  virtual bool Exists(std::string_view sha256) const = 0;
  // Bytes under DIR/files (for /metrics); recomputed at most every few seconds.
  virtual uint64_t TotalBytes() = 0;
};

// True for 64 lowercase hex characters.
bool IsSha256Hex(std::string_view s);

}  // namespace nereid::store
