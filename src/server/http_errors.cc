#include "server/http_errors.h"

namespace nereid::server {

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kTypeConflict:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kRateLimited:
      return 429;
    case StatusCode::kQuotaExceeded:
      return 507;
    case StatusCode::kInsufficientStorage:
      return 507;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kCancelled:
      return 503;
    case StatusCode::kDataLoss:
      return 500;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

http::Response ErrorResponse(const Status& status) {
  http::Response r;
  r.status = HttpStatusOf(status.code());
  r.body = http::ErrorBody(StatusCodeName(status.code()), status.message());
  if (status.code() == StatusCode::kUnauthenticated) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  return r;
}

}  // namespace nereid::server
