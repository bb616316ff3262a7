// File values, and how RunImpl copies a file into the spool (blobs/<sha256>) before a log call
// returns, so the upload survives the original file changing and the process dying.
#include "nereid/file.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "client/run_impl.h"

namespace nereid {

File File::FromPath(std::string path, std::string name) {
  File f;
  f.from_path_ = true;
  if (name.empty()) name = std::filesystem::path(path).filename().string();
  f.path_ = std::move(path);
  f.name_ = std::move(name);
  return f;
}

File File::FromBytes(std::string bytes, std::string name, std::string content_type) {
  File f;
  f.bytes_ = std::move(bytes);
  f.name_ = std::move(name);
  f.content_type_ = std::move(content_type);
  return f;
}

File File::Image(std::string bytes, std::string name, std::string content_type) {
  return FromBytes(std::move(bytes), std::move(name), std::move(content_type));
}

namespace client {

bool RunImpl::StoreFile(const File& file, FileRefData* ref) {
  if (state_.load(std::memory_order_relaxed) != kAccepting) return !Refuse();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::string tmp = dir_ + "/blobs/tmp-" + NewWriterId();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (file.from_path()) {
      std::ifstream in(file.path(), std::ios::binary);
      if (!in) {
        Report(NotFound("cannot read " + file.path() + "; nothing logged"));
        return false;
      }
      char buf[1 << 16];
      while (in) {
        in.read(buf, sizeof buf);
        std::streamsize n = in.gcount();
        if (n <= 0) break;
        EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(n));
        out.write(buf, n);
      }
    } else {
      EVP_DigestUpdate(ctx.get(), file.bytes().data(), file.bytes().size());
      out.write(file.bytes().data(), static_cast<std::streamsize>(file.bytes().size()));
    }
    // Close before checking: a small write sits in the stream's buffer, and a full disk refuses
    // it only at the flush (checking earlier stored a short blob under the full content's hash).
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      Report(InsufficientStorage("cannot copy " + file.name() + " into " + dir_));
      return false;
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  ref->sha256.clear();
  for (unsigned i = 0; i < len; ++i) {
    ref->sha256 += kHex[md[i] >> 4];
    ref->sha256 += kHex[md[i] & 15];
  }
  if (std::rename(tmp.c_str(), (dir_ + "/blobs/" + ref->sha256).c_str()) != 0) {
    std::remove(tmp.c_str());
    Report(Internal("cannot store " + file.name() + " in " + dir_));
    return false;
  }
  ref->name = file.name();
  ref->content_type = file.content_type();
  return true;
}

}  // namespace client
}  // namespace nereid
