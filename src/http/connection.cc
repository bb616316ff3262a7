#include "http/connection.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <exception>
#include <limits>

namespace nereid::http::internal {
namespace {

constexpr size_t kChunkBytes = 64 << 10;
// After an error response the connection is closed; the client may still be sending (a body
// over the limit, say). Reading and discarding a little of it first lets the client see the
// response instead of a reset.
constexpr size_t kLingerBytes = 1 << 20;
constexpr auto kLingerTime = std::chrono::seconds(1);

const std::vector<double> kDurationBounds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,   1,    2.5,   5,    10};

// Finer at the low end than kDurationBounds: most stages of a healthy request take microseconds.
const std::vector<double> kStageBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                          0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                          1,      2.5,     5,      10};

std::string MethodLabel(std::string_view m) {
  static constexpr std::string_view kKnown[] = {"GET",    "HEAD",    "POST", "PUT",
                                                "DELETE", "OPTIONS", "PATCH"};
  for (std::string_view k : kKnown) {
    if (k == m) return std::string(m);
  }
  return "other";
}

bool IsExpect100(std::string_view v) {
  std::string lower(v);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return lower == "100-continue";
}

// A protocol error in what the client sent (as opposed to the socket failing or the client
// leaving, which beast also reports in the http category as end_of_stream/partial_message).
bool IsMalformed(beast::error_code ec) {
  return ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

}  // namespace

Connection::Connection(ServerState& state, net::ip::tcp::socket socket)
    : state_(state), stream_(std::move(socket)), chunk_(kChunkBytes) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  remote_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
}

Connection::~Connection() {
  std::lock_guard lock(state_.mu);
  state_.connections.erase(this);
  state_.cv.notify_all();
}

void Connection::Start() {
  {
    std::lock_guard lock(state_.mu);
    state_.connections[this] = weak_from_this();
  }
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
}

void Connection::CloseIfIdle() {
  if (idle_) Close();
}

void Connection::ForceClose() {
  Close();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  stream_.close();
}

// Waits for the first byte of the next request under the idle timeout (the header timeout for
// a fresh connection), so that the header timeout below measures only a request in progress.
void Connection::WaitForRequest() {
  idle_ = true;
  if (closed_ || state_.stopping.load()) return Close();
  if (buffer_.size() > 0) {
    idle_ = false;  // a pipelined request has begun: Stop lets it finish
    return ReadHeader();
  }
  stream_.expires_after(first_request_ ? state_.options.header_timeout
                                       : state_.options.idle_timeout);
  stream_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            self->buffer_.commit(n);
                            if (ec || n == 0) return self->Close();
                            // From the first byte on, the request is in flight: a graceful Stop
                            // must answer it rather than close under it. (Closing between here
                            // and OnHeader once let a fully buffered request be applied with its
                            // answer lost.)
                            self->idle_ = false;
                            self->ReadHeader();
                          });
}

void Connection::ReadHeader() {
  first_request_ = false;
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(
      std::min<uint64_t>(state_.options.header_limit, std::numeric_limits<uint32_t>::max())));
  // Enforced per route in OnHeader/OnBodyRead instead. Not boost::none: Beast 1.74 compares
  // `len > optional` and so rejects every Content-Length when the limit is disabled.
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  stream_.expires_after(state_.options.header_timeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void Connection::OnHeader(beast::error_code ec) {
  // A header parsed from bytes already buffered completes successfully even after ForceClose:
  // never dispatch a request whose answer cannot be sent.
  if (closed_) return;
  start_ = std::chrono::steady_clock::now();
  dispatched_ = handler_start_ = handler_end_ = {};
  if (ec == bhttp::error::header_limit) {
    idle_ = false;
    return SendError(
        431, "headers_too_large",
        "request headers exceed " + std::to_string(state_.options.header_limit) + " bytes");
  }
  if (IsMalformed(ec)) {
    idle_ = false;
    return SendError(400, "bad_request", "malformed HTTP request: " + ec.message());
  }
  if (ec) return Close();  // timeout, reset, or the client closed: nobody to answer
  idle_ = false;

  auto& msg = parser_->get();
  req_ = std::make_unique<Request>();
  req_->method = std::string(msg.method_string());
  req_->remote = remote_;
  for (const auto& field : msg) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    req_->headers.emplace_back(std::move(name), std::string(field.value()));
  }
  keep_alive_ = msg.keep_alive();
  head_ = msg.method() == bhttp::verb::head;
  auto raw_target = msg.target();
  auto target = ParseTarget(std::string_view(raw_target.data(), raw_target.size()));
  if (!target) {
    return SendError(400, "bad_request", "malformed request target");
  }
  req_->path = std::move(target->path);
  req_->query = std::move(target->query);
  RouteMatch match = state_.router.Find(req_->method, target->segments);
  route_ = match.route;
  allow_ = std::move(match.allow);
  if (route_) {
    req_->route = route_->pattern;
    req_->path_params = std::move(match.params);
  }
  limit_ = route_ && route_->options.body_limit ? *route_->options.body_limit
                                                : state_.options.body_limit;
  received_ = 0;
  if (auto cl = parser_->content_length(); cl && *cl > limit_) {
    return SendError(413, "payload_too_large",
                     "request body exceeds the limit of " + std::to_string(limit_) + " bytes");
  }
  if (parser_->is_done()) return Dispatch();
  if (IsExpect100(req_->Header("expect"))) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(state_.options.body_timeout);
    return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->BeginBody();
                            });
  }
  BeginBody();
}

void Connection::BeginBody() {
  stream_.expires_after(state_.options.body_timeout);
  if (!route_ || !route_->options.sink) return ReadBody();
  // The factory may open a file: run it on the pool, not on an I/O thread.
  net::post(state_.pool, [self = shared_from_this()] {
    std::unique_ptr<BodySink> sink;
    Status status;
    try {
      sink = self->route_->options.sink(*self->req_);
    } catch (const std::exception& e) {
      status = Internal(std::string("body sink: ") + e.what());
    }
    net::post(self->stream_.get_executor(),
              [self, sink = std::move(sink), status = std::move(status)]() mutable {
                self->sink_ = std::move(sink);
                if (!status.ok()) {
                  self->req_->sink_status = status;
                  self->keep_alive_ = false;  // the rest of the body is never read
                  return self->Dispatch();
                }
                self->ReadBody();
              });
  });
}

void Connection::ReadBody() {
  if (parser_->is_done()) return Dispatch();
  auto& body = parser_->get().body();
  body.data = chunk_.data();
  body.size = chunk_.size();
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBodyRead(ec); });
}

void Connection::OnBodyRead(beast::error_code ec) {
  if (ec == bhttp::error::need_buffer) ec = {};
  if (ec) {
    if (IsMalformed(ec)) {
      return SendError(400, "bad_request", "malformed HTTP body: " + ec.message());
    }
    return Close();  // timeout or the client went away
  }
  size_t got = chunk_.size() - parser_->get().body().size;
  received_ += got;
  if (received_ > limit_) {
    return SendError(413, "payload_too_large",
                     "request body exceeds the limit of " + std::to_string(limit_) + " bytes");
  }
  if (got == 0) return ReadBody();
  if (!sink_) {
    req_->body.append(chunk_.data(), got);
    return ReadBody();
  }
  // The sink may block on disk: write on the pool, then continue reading on the strand.
  net::post(state_.pool, [self = shared_from_this(), got] {
    Status status;
    try {
      status = self->sink_->Write(std::string_view(self->chunk_.data(), got));
    } catch (const std::exception& e) {
      status = Internal(std::string("body sink: ") + e.what());
    }
    net::post(self->stream_.get_executor(), [self, status = std::move(status)] {
      if (!status.ok()) {
        self->req_->sink_status = status;
        self->keep_alive_ = false;
        return self->Dispatch();
      }
      self->ReadBody();
    });
  });
}

void Connection::Dispatch() {
  if (closed_) return;      // nobody to answer: do not apply what could not be acknowledged
  stream_.expires_never();  // a slow handler is not the client's fault
  req_->sink = sink_.get();
  dispatched_ = std::chrono::steady_clock::now();
  net::post(state_.pool, [self = shared_from_this()] {
    self->handler_start_ = std::chrono::steady_clock::now();
    Response r = RunRoute(self->state_, self->route_, self->allow_, *self->req_);
    std::shared_ptr<Outgoing> out;
    try {
      out = PrepareResponse(std::move(r), *self->req_);
    } catch (const std::exception& e) {
      out = PrepareResponse(Response::Json(500, ErrorBody("internal", e.what())), *self->req_);
    }
    self->handler_end_ = std::chrono::steady_clock::now();
    net::post(self->stream_.get_executor(), [self, out] { self->Send(out); });
  });
}

Response RunRoute(const ServerState& state, const RouteEntry* route, const std::string& allow,
                  Request& req) {
  try {
    if (route) return route->handler(req);
    if (!allow.empty()) {
      Response r = Response::Json(
          405, ErrorBody("method_not_allowed", "method " + req.method + " is not allowed on " +
                                                   req.path + "; allowed: " + allow));
      r.headers.emplace_back("Allow", allow);
      return r;
    }
    if (state.not_found) return state.not_found(req);
    return Response::Json(404, ErrorBody("not_found", "no route for " + req.path));
  } catch (const std::exception& e) {
    spdlog::error("http handler for {} {} threw: {}", req.method, req.path, e.what());
  } catch (...) {
  }
  return Response::Json(500, ErrorBody("internal", "internal error"));
}

void Connection::SendError(int status, std::string_view code, std::string message) {
  if (!req_) {
    req_ = std::make_unique<Request>();
    req_->method = "-";
    req_->path = "-";
    req_->remote = remote_;
  }
  auto out = std::make_shared<Outgoing>();
  out->status = status;
  out->content_type = "application/json";
  out->body = ErrorBody(code, message);
  out->length = out->body.size();
  out->close = true;
  Send(std::move(out));
}

void Connection::Send(std::shared_ptr<Outgoing> out) {
  if (closed_) return;
  out_ = std::move(out);
  if (out_->close) keep_alive_ = false;
  sr_.reset();
  res_ = {};
  res_.version(11);
  res_.result(static_cast<unsigned>(out_->status));
  res_.set(bhttp::field::content_type, out_->content_type);
  for (const auto& [k, v] : out_->headers) res_.insert(k, v);
  res_.content_length(out_->length);
  res_.keep_alive(keep_alive_ && !state_.stopping.load());
  res_.body().data = nullptr;
  res_.body().size = 0;
  res_.body().more = true;
  body_given_ = false;
  file_sent_ = 0;
  bytes_sent_ = 0;
  sr_.emplace(res_);
  if (head_) {
    stream_.expires_after(state_.options.idle_timeout);
    return bhttp::async_write_header(stream_, *sr_,
                                     [self = shared_from_this()](beast::error_code ec, size_t) {
                                       if (ec) return self->Close();
                                       self->Finish();
                                     });
  }
  WriteNext();
}

// Hands the serializer its next piece: the whole string body, or the next chunk of the file.
// File reads happen here on the strand; they are page-cache reads of at most kChunkBytes.
void Connection::WriteNext() {
  auto& body = res_.body();
  size_t chunk = 0;
  if (out_->fd < 0) {
    body.data = body_given_ || out_->body.empty() ? nullptr : out_->body.data();
    body.size = body.data ? out_->body.size() : 0;
    body.more = false;
    body_given_ = true;
    chunk = body.size;
  } else {
    uint64_t left = out_->length - file_sent_;
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, chunk_.size()));
    if (want > 0) {
      ssize_t n =
          ::pread(out_->fd, chunk_.data(), want, static_cast<off_t>(out_->offset + file_sent_));
      if (n <= 0) {
        // The file shrank or failed mid-response; the status line is gone, so all that is left
        // is to cut the connection so the client sees a short body.
        spdlog::warn("http {}: reading the response file failed after {} bytes", remote_,
                     file_sent_);
        return Close();
      }
      chunk = static_cast<size_t>(n);
    }
    file_sent_ += chunk;
    body.data = chunk > 0 ? chunk_.data() : nullptr;
    body.size = chunk;
    body.more = file_sent_ < out_->length;
  }
  stream_.expires_after(state_.options.idle_timeout);
  bhttp::async_write(stream_, *sr_,
                     [self = shared_from_this(), chunk](beast::error_code ec, size_t) {
                       self->OnWritten(ec, chunk);
                     });
}

void Connection::OnWritten(beast::error_code ec, size_t chunk) {
  if (ec == bhttp::error::need_buffer) ec = {};
  if (ec) return Close();
  bytes_sent_ += chunk;
  if (!sr_->is_done()) return WriteNext();
  Finish();
}

void Connection::Finish() {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int status = out_->status;
  std::string route = req_->route.empty() ? "unmatched" : req_->route;
  if (state_.options.access_log) {
    // The path only: query values (tokens, say) stay out of logs, their keys are enough.
    std::string keys;
    for (const auto& [k, v] : req_->query) keys += (keys.empty() ? "?" : "&") + k;
    spdlog::info("http {} {} {}{} {} {}B {:.1f}ms", remote_, req_->method, req_->path, keys, status,
                 bytes_sent_, seconds * 1000);
  }
  if (state_.metrics) {
    state_.metrics->Add("nereid_http_requests_total", {{"route", route},
                                                       {"method", MethodLabel(req_->method)},
                                                       {"status", std::to_string(status)}});
    state_.metrics->Observe("nereid_http_request_duration_seconds", {{"route", route}}, seconds,
                            kDurationBounds);
    // Requests answered before a handler ran (errors found while reading) have no stages.
    if (handler_end_ != std::chrono::steady_clock::time_point{}) {
      auto observe = [&](const char* stage, auto from, auto to) {
        state_.metrics->Observe("nereid_http_stage_seconds", {{"route", route}, {"stage", stage}},
                                std::chrono::duration<double>(to - from).count(), kStageBounds);
      };
      const auto now = std::chrono::steady_clock::now();
      observe("body", start_, dispatched_);
      observe("queue", dispatched_, handler_start_);
      observe("handler", handler_start_, handler_end_);
      observe("write", handler_end_, now);
    }
  }
  const bool close = !res_.keep_alive() || out_->close;
  // Unread request bytes (an error response, a failed sink) would turn close into a reset that
  // can destroy the response before the client reads it.
  const bool linger = out_->close || (parser_ && !parser_->is_done());
  sr_.reset();
  out_.reset();
  sink_.reset();
  req_.reset();
  parser_.reset();
  route_ = nullptr;
  if (linger) {
    beast::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    return LingerClose(0);
  }
  if (close) return Close();
  WaitForRequest();
}

void Connection::LingerClose(size_t drained) {
  if (closed_ || drained >= kLingerBytes) return Close();
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(chunk_.size()),
                          [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
                            if (ec) return self->Close();
                            self->LingerClose(drained + n);
                          });
}

}  // namespace nereid::http::internal
