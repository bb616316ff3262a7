#include <charconv>
#include <cmath>

#include "server/context.h"
#include "server/http_errors.h"

namespace nereid::server {

http::Handler Authed(Context* ctx, ApiHandler handler) {
  return [ctx, handler = std::move(handler)](http::Request& request) {
    Status auth = ctx->auth.Check(request.Header("authorization"));
    if (!auth.ok()) return ErrorResponse(auth);
    Result<http::Response> response = handler(request);
    if (!response.ok()) return ErrorResponse(response.status());
    return std::move(response).value();
  };
}

http::Response JsonResponse(int status, const nlohmann::json& body) {
  // Replace, not throw, on invalid UTF-8: stored strings are validated, so this only guards bugs.
  return http::Response::Json(status,
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<std::optional<double>> QueryDouble(const http::Request& r, std::string_view name) {
  auto text = r.Query(name);
  if (!text || text->empty()) return std::optional<double>();
  double v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(v)) {
    return InvalidArgument("query parameter '" + std::string(name) + "' must be a finite number");
  }
  return std::optional<double>(v);
}

Result<std::optional<uint64_t>> QueryUint(const http::Request& r, std::string_view name) {
  auto text = r.Query(name);
  if (!text || text->empty()) return std::optional<uint64_t>();
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return InvalidArgument("query parameter '" + std::string(name) +
                           "' must be a non-negative integer");
  }
  return std::optional<uint64_t>(v);
}

}  // namespace nereid::server
