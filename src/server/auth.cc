#include "server/auth.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>

namespace nereid::server {
namespace {

constexpr std::string_view kAdminHashKey = "admin_token_sha256";

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

Status WriteTokenFile(const std::filesystem::path& path, const std::string& token) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot write " + path.string() + ": " + strerror(errno));
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ::fchmod(fd, 0600) == 0 && ok;
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return Internal("cannot write " + path.string());
  return Status::Ok();
}

}  // namespace

std::string NewToken() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    std::abort();  // no randomness: never hand out a guessable token
  }
  return "nrd_" + Hex(bytes.data(), bytes.size());
}

std::string TokenHash(std::string_view token) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), md.data(), &len, EVP_sha256(), nullptr);
  return Hex(md.data(), len);
}

Status Authenticator::Init(store::Store* store, const std::filesystem::path& data_dir,
                           std::string* created_token) {
  NEREID_ASSIGN_OR_RETURN(auto stored, store->GetSetting(kAdminHashKey));
  if (stored) {
    admin_hash_ = *stored;
    return Status::Ok();
  }
  std::string token = NewToken();
  // The file first: if we crash between the two, the next start makes a new token.
  NEREID_RETURN_IF_ERROR(WriteTokenFile(data_dir / "admin.token", token));
  admin_hash_ = TokenHash(token);
  NEREID_RETURN_IF_ERROR(store->SetSetting(kAdminHashKey, admin_hash_));
  *created_token = token;
  return Status::Ok();
}

Status Authenticator::Check(std::string_view authorization) const {
  if (authorization.empty()) {
    return Unauthenticated("missing 'Authorization: Bearer <token>' header");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Unauthenticated("the Authorization header must be 'Bearer <token>'");
  }
  std::string hash = TokenHash(authorization.substr(kBearer.size()));
  if (hash.size() != admin_hash_.size() ||
      CRYPTO_memcmp(hash.data(), admin_hash_.data(), hash.size()) != 0) {
    return Unauthenticated("the API token is not valid");
  }
  return Status::Ok();
}

}  // namespace nereid::server
