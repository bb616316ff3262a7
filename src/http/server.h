// A small HTTP/1.1 server on Boost.Beast: keep-alive, routing by method and path pattern, body
// limits, header and idle timeouts, streamed request bodies, file responses with Range, an access
// log line per request, request metrics, graceful shutdown. It knows nothing of storage or of the
// tracker's API: the server/ subsystem registers handlers.
//
// Threads: `io_threads` run the network (default: cores); handlers run on a separate pool of
// `handler_threads` (default 32) so that a handler may block (for example while its batch waits
// for a group commit) without stalling other connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "nereid/status.h"

namespace nereid::http {

// Receives a request body chunk by chunk (for uploads that must not sit in memory). Created by
// the route's SinkFactory after the headers arrive and destroyed after the response is sent.
// Thread-safety: the factory, Write and the handler run on handler-pool threads, one at a time
// for a given request (possibly on different threads, with happens-before between them).
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Non-OK stops reading; the handler still runs and sees the error via Request::sink_status.
  virtual Status Write(std::string_view chunk) = 0;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query: "/api/v1/runs/VIS-1/batches"
  std::map<std::string, std::string> query;                  // decoded query parameters
  std::map<std::string, std::string> path_params;            // {run_id} -> "VIS-1"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;          // whole body, unless the route streams it into a sink
  BodySink* sink = nullptr;  // the route's sink when it streams; owned by the server
  Status sink_status;        // first error the sink returned
  std::string remote;        // "127.0.0.1:53412"
  std::string route;         // the matched route pattern, for logs and metrics

  // Header value by lower-case name, or empty.
  std::string_view Header(std::string_view name) const;
  // Query parameter, or nullopt.
  std::optional<std::string> Query(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is this file (served with Range support: 206 / 416 as needed).
  std::optional<std::filesystem::path> file;
  std::string download_name;  // Content-Disposition filename for file responses

  static Response Json(int status, std::string body);
  static Response File(std::filesystem::path path, std::string content_type,
                       std::string download_name);
};

// Runs on a handler-pool thread and may block. An exception becomes a 500 JSON error. A file
// response that cannot be opened becomes a 404 JSON error.
using Handler = std::function<Response(Request&)>;
using SinkFactory = std::function<std::unique_ptr<BodySink>(const Request&)>;

struct RouteOptions {
  std::optional<uint64_t> body_limit;  // overrides ServerOptions::body_limit
  SinkFactory sink;                    // stream the body into this sink instead of Request::body
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;        // 0: the OS picks a free port; see Server::port()
  unsigned io_threads = 0;  // 0: number of cores
  unsigned handler_threads = 32;
  uint64_t body_limit = 64ull << 20;        // bytes; beyond it 413
  uint64_t header_limit = 16 << 10;         // bytes of request line + headers; beyond it 431
  std::chrono::seconds header_timeout{10};  // to receive a request's headers
  std::chrono::seconds body_timeout{120};   // to receive its body
  std::chrono::seconds idle_timeout{60};    // keep-alive connection with no request
  bool access_log = true;
};

class Server {
 public:
  Server(ServerOptions options, common::Metrics* metrics);  // metrics: may be null
  ~Server();

  // pattern: "/api/v1/runs/{run_id}/batches"; a {name} segment matches one path segment.
  void Route(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  // Handler for requests no route matched (default: 404 JSON error).
  void SetNotFound(Handler handler);

  // Answers one request in process, without a socket, through the same routes, handlers and
  // errors as a connection: `target` is origin-form ("/api/v1/users?x=1"), header names
  // lower-case. A route that streams its body gets `body` through its sink in one chunk. Runs the
  // handler on the calling thread; needs no Start (for tools that open the server's state
  // without serving it, e.g. `nereid admin --offline`). Thread-safe once routes are registered.
  // No access log line and no request metrics: nothing came over the network.
  Response Handle(std::string method, std::string_view target,
                  std::vector<std::pair<std::string, std::string>> headers, std::string body);

  // Binds and starts serving. Error if the address is taken.
  Status Start();
  uint16_t port() const;

  // Graceful: stops accepting, lets in-flight requests finish (up to `grace`), closes idle
  // connections, joins threads. Safe to call twice.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(30));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// JSON error body: {"error": {"code": "...", "message": "..."}}.
std::string ErrorBody(std::string_view code, std::string_view message);

}  // namespace nereid::http
