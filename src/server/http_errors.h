// The one place where a Status becomes an HTTP response (STYLE: errors translate at the edges).
#pragma once

#include "http/server.h"
#include "nereid/status.h"

namespace nereid::server {

int HttpStatusOf(StatusCode code);
// {"error": {"code": "...", "message": "..."}} with the status that fits the code.
http::Response ErrorResponse(const Status& status);

}  // namespace nereid::server
