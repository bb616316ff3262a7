#include "http/server.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "http/connection.h"

namespace nereid::http {

using internal::Connection;
using internal::ServerState;
namespace net = internal::net;
using tcp = net::ip::tcp;

// Thread-safety: Route/SetNotFound before Start only; Start, port and Stop from one controlling
// thread (Stop is also safe from the destructor and when called twice).
struct Server::Impl {
  Impl(ServerOptions options, common::Metrics* metrics)
      : state(std::move(options), metrics), acceptor(net::make_strand(state.ioc)) {}

  void Accept() {
    acceptor.async_accept(net::make_strand(state.ioc),
                          [this](boost::system::error_code ec, tcp::socket socket) {
                            if (!acceptor.is_open() || ec == net::error::operation_aborted) return;
                            if (ec) {
                              // Out of descriptors, say: keep serving the connections we have and
                              // try again.
                              spdlog::warn("http accept failed: {}", ec.message());
                            } else if (state.stopping.load()) {
                              boost::system::error_code ignored;
                              socket.close(ignored);
                            } else {
                              std::make_shared<Connection>(state, std::move(socket))->Start();
                            }
                            Accept();
                          });
  }

  // Posts `fn` to every live connection's strand.
  template <typename Fn>
  void ForEachConnection(Fn fn) {
    std::vector<std::shared_ptr<Connection>> live;
    {
      std::lock_guard lock(state.mu);
      for (auto& [raw, weak] : state.connections) {
        if (auto c = weak.lock()) live.push_back(std::move(c));
      }
    }
    for (auto& c : live) {
      auto executor = c->Executor();
      net::post(executor, [c = std::move(c), fn] { fn(*c); });
    }
  }

  ServerState state;
  tcp::acceptor acceptor;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> io_threads;
  uint16_t port = 0;
  std::mutex stop_mu;  // serialises Start and Stop
  bool started = false;
  bool stopped = false;
};

Server::Server(ServerOptions options, common::Metrics* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), metrics)) {
  if (metrics) {
    metrics->Describe("nereid_http_requests_total", "HTTP requests by route, method and status.");
    metrics->Describe("nereid_http_request_duration_seconds",
                      "HTTP request latency from headers received to response sent.");
    metrics->Describe("nereid_http_stage_seconds",
                      "HTTP request latency by stage: body (headers received to body read), queue "
                      "(waiting for a handler thread), handler (handler run, including "
                      "authentication and any commit wait), write (response handed back and "
                      "sent).");
  }
}

Server::~Server() {
  Stop();
}

void Server::Route(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  impl_->state.router.Add(std::move(method), std::move(pattern), std::move(handler),
                          std::move(options));
}

void Server::SetNotFound(Handler handler) {
  impl_->state.not_found = std::move(handler);
}

Response Server::Handle(std::string method, std::string_view target,
                        std::vector<std::pair<std::string, std::string>> headers,
                        std::string body) {
  auto parsed = internal::ParseTarget(target);
  if (!parsed) return Response::Json(400, ErrorBody("bad_request", "malformed request target"));
  Request req;
  req.method = std::move(method);
  req.path = std::move(parsed->path);
  req.query = std::move(parsed->query);
  req.headers = std::move(headers);
  req.remote = "in-process";
  internal::RouteMatch match = impl_->state.router.Find(req.method, parsed->segments);
  std::unique_ptr<BodySink> sink;
  if (match.route) {
    req.route = match.route->pattern;
    req.path_params = std::move(match.params);
    if (match.route->options.sink) {
      try {
        sink = match.route->options.sink(req);
        if (!sink) {
          req.body = std::move(body);  // as a connection does when the factory declines
        } else if (!body.empty()) {
          req.sink_status = sink->Write(body);
        }
      } catch (const std::exception& e) {
        req.sink_status = Internal(std::string("body sink: ") + e.what());
      }
      req.sink = sink.get();
    } else {
      req.body = std::move(body);
    }
  }
  return internal::RunRoute(impl_->state, match.route, match.allow, req);
}

Status Server::Start() {
  std::lock_guard lock(impl_->stop_mu);
  if (impl_->started || impl_->stopped) return Internal("http server already started");
  const ServerOptions& o = impl_->state.options;
  boost::system::error_code ec;
  auto address = net::ip::make_address(o.host, ec);
  if (ec) return InvalidArgument("bad listen address '" + o.host + "': " + ec.message());
  tcp::endpoint endpoint(address, o.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor.close(ec);
    return Unavailable("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " +
                       ec.message());
  }
  impl_->port = acceptor.local_endpoint(ec).port();
  impl_->started = true;
  impl_->work.emplace(impl_->state.ioc.get_executor());
  net::post(acceptor.get_executor(), [impl = impl_.get()] { impl->Accept(); });
  unsigned n = o.io_threads ? o.io_threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    impl_->io_threads.emplace_back([impl = impl_.get()] {
      pthread_setname_np(pthread_self(), "nereid-io");
      while (true) {
        try {
          impl->state.ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http io thread: {}", e.what());
        }
      }
    });
  }
  spdlog::info("http listening on {}:{}", o.host, impl_->port);
  return Status::Ok();
}

uint16_t Server::port() const {
  return impl_->port;
}

void Server::Stop(std::chrono::milliseconds grace) {
  std::lock_guard lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (!impl_->started) return;
  ServerState& state = impl_->state;
  state.stopping.store(true);
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->ForEachConnection([](Connection& c) { c.CloseIfIdle(); });
  size_t busy;
  {
    std::unique_lock lk(state.mu);
    state.cv.wait_for(lk, grace, [&] { return state.connections.empty(); });
    busy = state.connections.size();
  }
  if (busy > 0) {
    spdlog::warn("http stop: closing {} connection(s) still busy after the grace period", busy);
    impl_->ForEachConnection([](Connection& c) { c.ForceClose(); });
    std::unique_lock lk(state.mu);
    state.cv.wait_for(lk, std::chrono::milliseconds(200),
                      [&] { return state.connections.empty(); });
  }
  // Handlers still running finish (their responses go nowhere once the io_context stops); a
  // handler that never returns would block here, which is the handler's bug to fix.
  impl_->work.reset();
  state.ioc.stop();
  for (auto& t : impl_->io_threads) t.join();
  impl_->io_threads.clear();
  state.pool.join();
}

}  // namespace nereid::http
