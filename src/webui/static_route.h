// Serves the embedded web UI: files by path, and index.html for every other non-API path so that
// the single-page app's own routes (/p/default/sandbox, /runs/SAND-1) survive a reload.
//
// Thread-safety: stateless; may run concurrently on any handler thread.
#pragma once

#include "http/server.h"

namespace nereid::webui {

// True when `path` belongs to the UI (anything but /api/... and /metrics).
bool IsUiPath(std::string_view path);

// The response for a GET or HEAD of a UI path: the file with its content type, ETag (304 when
// If-None-Match matches) and caching (content-hashed /assets/ files are immutable for a year;
// everything else is revalidated); text files go gzip-compressed (Content-Encoding, their own
// ETag, Vary: Accept-Encoding) when Accept-Encoding allows it. Other methods get a 405 JSON
// error. Never fails otherwise.
http::Response ServeUi(const http::Request& request);

}  // namespace nereid::webui
