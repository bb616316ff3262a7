// Fuzzes the parts of HTTP request handling that are ours rather than Boost.Beast's: the
// request-target parser (percent-decoding of path segments and query string), route matching,
// the Range header and the Content-Disposition of a requested download name.
// The same bytes go to each. Properties besides "no crash, no UB, no leak":
//  - a partial range lies inside the file and is never empty;
//  - a Content-Disposition value holds no control character (no header injection) and no '/';
//  - a route match captures exactly the segments of the request.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/range.h"
#include "http/router.h"

namespace nh = nereid::http;
namespace ni = nereid::http::internal;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "http fuzzer: %s\n", what);
    std::abort();
  }
}

const ni::Router& Routes() {
  static const ni::Router* router = [] {
    auto* r = new ni::Router;
    nh::Handler h = [](nh::Request&) { return nh::Response::Json(200, "{}"); };
    for (const char* p :
         {"/api/v1/projects/{workspace}/{project}/runs",
          "/api/v1/projects/{workspace}/{project}/runs/{run}",
          "/api/v1/projects/{workspace}/{project}/runs/{run}/files/{path}",
          "/api/v1/projects/{workspace}/{project}/notebooks/checkpoints", "/api/v1/health", "/"}) {
      r->Add("GET", p, h, {});
      r->Add("POST", p, h, {});
    }
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  (void)ni::PercentDecode(in, true);
  if (auto t = ni::ParseTarget(in)) {
    auto m = Routes().Find("GET", t->segments);
    if (m.route != nullptr) {
      Check(m.route->segments.size() == t->segments.size(), "route matched a different depth");
      for (const auto& [name, value] : m.params) Check(!value.empty(), "empty capture");
    }
    for (const auto& [key, value] : t->query) {
      (void)ni::ContentDisposition(value);
      (void)key;
    }
  }

  for (uint64_t file_size : {uint64_t{0}, uint64_t{1}, uint64_t{1000}, ~uint64_t{0}}) {
    ni::ByteRange r = ni::ParseRange(in, file_size);
    if (r.kind == ni::RangeKind::kPartial) {
      Check(r.length > 0, "empty partial range");
      Check(r.start < file_size && r.length <= file_size - r.start, "range outside the file");
    }
  }

  std::string cd = ni::ContentDisposition(in);
  for (unsigned char c : cd) Check(c >= 0x20 && c != 0x7f, "control character in header value");
  Check(cd.find('/') == std::string::npos, "a path in Content-Disposition");
  return 0;
}
