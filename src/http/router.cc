#include "http/router.h"

#include <set>
#include <utility>

namespace nereid::http::internal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

// Params captured by `route` for `segments`, or nullopt when it does not match.
std::optional<std::map<std::string, std::string>> Match(const RouteEntry& route,
                                                        const std::vector<std::string>& segments) {
  if (route.segments.size() != segments.size()) return std::nullopt;
  std::map<std::string, std::string> params;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& p = route.segments[i];
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
      if (segments[i].empty()) return std::nullopt;
      params[p.substr(1, p.size() - 2)] = segments[i];
    } else if (p != segments[i]) {
      return std::nullopt;
    }
  }
  return params;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<Target> ParseTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') return std::nullopt;
  Target t;
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  auto path = PercentDecode(raw_path, false);
  if (!path) return std::nullopt;
  t.path = std::move(*path);
  for (std::string_view seg : Split(raw_path.substr(1), '/')) {
    auto decoded = PercentDecode(seg, false);
    if (!decoded) return std::nullopt;
    t.segments.push_back(std::move(*decoded));
  }
  if (q != std::string_view::npos) {
    for (std::string_view pair : Split(target.substr(q + 1), '&')) {
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      auto key = PercentDecode(pair.substr(0, eq), true);
      auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
      if (!key || !value) return std::nullopt;
      t.query.emplace(std::move(*key), std::move(*value));  // the first occurrence wins
    }
  }
  return t;
}

void Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  RouteEntry e;
  e.method = std::move(method);
  for (std::string_view seg : Split(std::string_view(pattern).substr(pattern.empty() ? 0 : 1), '/'))
    e.segments.emplace_back(seg);
  e.pattern = std::move(pattern);
  e.handler = std::move(handler);
  e.options = std::move(options);
  routes_.push_back(std::move(e));
}

RouteMatch Router::Find(std::string_view method, const std::vector<std::string>& segments) const {
  RouteMatch m;
  const RouteEntry* get_route = nullptr;
  std::map<std::string, std::string> get_params;
  std::set<std::string> allow;
  for (const RouteEntry& r : routes_) {
    auto params = Match(r, segments);
    if (!params) continue;
    if (r.method == method) {
      m.route = &r;
      m.params = std::move(*params);
      return m;
    }
    if (method == "HEAD" && r.method == "GET" && !get_route) {
      get_route = &r;
      get_params = std::move(*params);
    }
    allow.insert(r.method);
  }
  if (get_route) {
    m.route = get_route;
    m.params = std::move(get_params);
    return m;
  }
  if (allow.count("GET")) allow.insert("HEAD");
  for (const std::string& a : allow) {
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += a;
  }
  return m;
}

}  // namespace nereid::http::internal
