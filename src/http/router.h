// Request-target parsing (percent-decoding of path and query) and method + pattern routing.
// Private to the http subsystem; no Beast here so that it compiles fast and tests directly.
//
// Thread-safety: Router is built before the server starts and only read afterwards; Find is
// const and may run concurrently.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"

namespace nereid::http::internal {

// Decodes %XX escapes (and '+' as space when `plus_as_space`, for query strings). nullopt when an
// escape is truncated or not hex.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space);

struct Target {
  std::string path;                   // decoded
  std::vector<std::string> segments;  // split on '/' before decoding, so "%2F" stays inside one
  std::map<std::string, std::string> query;
};

// Parses an origin-form target ("/a/b?x=1"). nullopt when it does not start with '/' or holds a
// bad escape.
std::optional<Target> ParseTarget(std::string_view target);

struct RouteEntry {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;  // "{name}" segments capture
  Handler handler;
  RouteOptions options;
};

struct RouteMatch {
  const RouteEntry* route = nullptr;  // null: no route for this method
  std::map<std::string, std::string> params;
  std::string allow;  // when route is null: methods the path accepts ("GET, POST"), or empty (404)
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options);
  // HEAD falls back to the GET route of the same path.
  RouteMatch Find(std::string_view method, const std::vector<std::string>& segments) const;

 private:
  std::vector<RouteEntry> routes_;  // first registered wins among equal matches
};

}  // namespace nereid::http::internal
