// API tokens, minimal form: one admin token, created on first start. Only its SHA-256 is stored
// (settings key "admin_token_sha256"); the token itself is printed once and written to
// <data>/admin.token with mode 0600. Users, roles and per-user tokens build on this later.
//
// Thread-safety: Authenticator is immutable after Init; Check may run on any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "nereid/status.h"
#include "store/store.h"

namespace nereid::server {

// 256 random bits, URL-safe: "nrd_" + 64 hex characters.
std::string NewToken();
std::string TokenHash(std::string_view token);  // lowercase hex SHA-256

class Authenticator {
 public:
  // Loads the admin token hash, or creates a token on first start. `created_token` is set to the
  // new token (to print once) when one was created, else left empty.
  Status Init(store::Store* store, const std::filesystem::path& data_dir,
              std::string* created_token);
  // Checks an Authorization header value ("Bearer <token>"). Unauthenticated with a message that
  // never repeats the token.
  Status Check(std::string_view authorization) const;

 private:
  std::string admin_hash_;
};

}  // namespace nereid::server
