// Private to the http subsystem: the state a Server shares with its connections, and one
// connection's request/response cycle. Includes Beast, so only connection.cc and server.cc include
// it (each Beast translation unit is slow to compile).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/outgoing.h"
#include "http/router.h"
#include "http/server.h"

namespace nereid::http::internal {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

class Connection;

// Owned by Server::Impl. Member order matters: connections unregister themselves (under `mu`)
// when destroyed, which may happen while `ioc` or `pool` are being torn down, so those two are
// declared last and destroyed first.
struct ServerState {
  ServerState(ServerOptions o, common::Metrics* m)
      : options(std::move(o)),
        metrics(m),
        pool(options.handler_threads == 0 ? 1 : options.handler_threads) {}

  const ServerOptions options;
  common::Metrics* const metrics;  // may be null; not owned
  Router router;                   // written before Start, read-only after
  Handler not_found;               // idem

  std::atomic<bool> stopping{false};  // set once by Stop; read by connections on their strands

  std::mutex mu;               // guards `connections`
  std::condition_variable cv;  // signalled when a connection unregisters
  std::map<Connection*, std::weak_ptr<Connection>> connections;

  net::io_context ioc;
  net::thread_pool pool;  // runs handlers, sink factories and sink writes
};

// Runs the matched route's handler (or answers 405 with Allow, or the not-found handler, or 404)
// on the calling thread; an exception becomes a 500 JSON error. Shared by connections and
// Server::Handle, so a request answered in process is answered exactly as over a socket.
Response RunRoute(const ServerState& state, const RouteEntry* route, const std::string& allow,
                  Request& req);

// One client connection. All members are touched only on the connection's strand, except while
// a request is with the handler pool: then the pool task owns `req_` and `sink_` and the strand
// has no pending operation for this connection (the hand-offs are net::post, which orders
// memory).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerState& state, net::ip::tcp::socket socket);
  ~Connection();

  // Registers with the state and starts reading. Call once, from any thread.
  void Start();
  // Closes the connection if it is between requests (or still receiving headers); a connection
  // with a request in flight finishes it and then closes. Posted by Server::Stop.
  void CloseIfIdle();
  // Closes the socket now, whatever is in flight. Posted by Server::Stop after the grace period.
  void ForceClose();
  // The connection's strand; everything above but Start must run on it.
  beast::tcp_stream::executor_type Executor() { return stream_.get_executor(); }

 private:
  void WaitForRequest();
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void BeginBody();
  void ReadBody();
  void OnBodyRead(beast::error_code ec);
  void Dispatch();
  void SendError(int status, std::string_view code, std::string message);
  void Send(std::shared_ptr<Outgoing> out);
  void WriteNext();
  void OnWritten(beast::error_code ec, size_t chunk);
  void Finish();
  void Close();
  void LingerClose(size_t drained);

  ServerState& state_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string remote_;
  bool first_request_ = true;
  bool idle_ = true;  // no request in flight: Stop may close us
  bool closed_ = false;

  // The request being received or handled.
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  std::unique_ptr<Request> req_;
  const RouteEntry* route_ = nullptr;
  std::string allow_;  // for 405
  std::unique_ptr<BodySink> sink_;
  uint64_t limit_ = 0;
  uint64_t received_ = 0;
  bool keep_alive_ = false;
  bool head_ = false;
  // Stage boundaries of the request in flight, for nereid_http_stage_seconds: headers received,
  // body received (handed to the pool), handler started, handler returned. The last two are
  // written by the pool task, like req_, and read on the strand after its hand-back.
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point dispatched_;
  std::chrono::steady_clock::time_point handler_start_;
  std::chrono::steady_clock::time_point handler_end_;
  std::vector<char> chunk_;  // body read buffer, then file read buffer

  // The response being sent. res_ must stay put while sr_ refers to it.
  std::shared_ptr<Outgoing> out_;
  bhttp::response<bhttp::buffer_body> res_;
  std::optional<bhttp::response_serializer<bhttp::buffer_body>> sr_;
  bool body_given_ = false;  // the string body has been handed to the serializer
  uint64_t file_sent_ = 0;
  uint64_t bytes_sent_ = 0;
};

}  // namespace nereid::http::internal
