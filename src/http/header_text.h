// Small pieces of reading HTTP header values (RFC 9110 5.6), shared by the header parsers.
#pragma once

#include <string_view>

namespace nereid::http {

// `s` without the optional whitespace (spaces and tabs) around it.
inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether `token` equals `lower` (written in lower case) ignoring ASCII case, as header tokens
// such as content codings compare.
inline bool TokenEquals(std::string_view token, std::string_view lower) {
  if (token.size() != lower.size()) return false;
  for (size_t i = 0; i < token.size(); ++i) {
    char c = token[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace nereid::http
