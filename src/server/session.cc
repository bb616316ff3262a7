#include "server/session.h"

#include <sodium.h>

#include <array>
#include <cstdlib>
#include <mutex>

#include "server/auth.h"

namespace nereid::server {
namespace {

void InitSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no working crypto: refuse to run rather than guess
  });
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  InitSodium();
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength) {
    return InvalidArgument("a password must be " + std::to_string(kMinPasswordLength) + " to " +
                           std::to_string(kMaxPasswordLength) + " bytes long");
  }
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Internal("out of memory while hashing a password");
  }
  return std::string(out.data());
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  InitSodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string h(hash);  // NUL-terminated
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

const std::string& DummyPasswordHash() {
  static const std::string hash = [] {
    auto h = HashPassword(NewSessionId());
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

std::string NewSessionId() {
  return "nrs_" + RandomHex(32);
}

bool IsWellFormedSessionId(std::string_view id) {
  if (id.size() != 68 || id.substr(0, 4) != "nrs_") return false;
  for (char c : id.substr(4)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string CsrfTokenFor(std::string_view session_id) {
  return TokenHash("nereid-csrf:" + std::string(session_id));
}

std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

}  // namespace nereid::server
