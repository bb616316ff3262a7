// Web login pieces: argon2id password hashes (libsodium), session cookies and the CSRF token that
// goes with each session. A session id is "nrs_" + 64 hex (256 random bits); the store keeps only
// its SHA-256. The CSRF token is derived from the session id (SHA-256 of a fixed label and the
// id), so it needs no storage and only a page that can read the login response knows it: a
// cross-site form can send the cookie but not the header.
//
// Thread-safety: free functions; safe from any thread (libsodium is initialised once).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "nereid/status.h"

namespace nereid::server {

inline constexpr std::string_view kSessionCookie = "nereid_session";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";
inline constexpr size_t kMinPasswordLength = 8;
inline constexpr size_t kMaxPasswordLength = 1024;

// An argon2id hash string ($argon2id$v=19$m=...,t=...,p=...$salt$hash) of `password`.
// InvalidArgument for a password outside kMin..kMaxPasswordLength bytes.
Result<std::string> HashPassword(std::string_view password);
// True if `password` matches `hash` (false for an empty or malformed hash). Constant-time in the
// password; takes as long for a missing user when given DummyPasswordHash().
bool VerifyPassword(std::string_view hash, std::string_view password);
// A valid hash of a random password, to verify against when the user does not exist.
const std::string& DummyPasswordHash();

std::string NewSessionId();
bool IsWellFormedSessionId(std::string_view id);
std::string CsrfTokenFor(std::string_view session_id);

// The value of cookie `name` in a Cookie header ("a=1; nereid_session=nrs_..."), or nullopt.
std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace nereid::server
