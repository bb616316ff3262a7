#include "client/fake_server_test_util.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zstd.h>

#include <cstring>

#include "nereid/v1/batch.pb.h"

namespace nereid::client {
namespace {

std::string Reply(int code, const std::string& reason, const std::string& body,
                  const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(code) + " " + reason +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra + "\r\n" + body;
}

}  // namespace

FakeServer::FakeServer() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  listen(listen_fd_, 16);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeServer::~FakeServer() {
  stop_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  acceptor_.join();
  std::vector<std::thread> conns;
  {
    std::lock_guard lk(mu_);
    for (int fd : conn_fds_) shutdown(fd, SHUT_RDWR);
    conns.swap(conns_);
  }
  for (auto& t : conns) t.join();
}

void FakeServer::Script(std::vector<Fault> faults) {
  std::lock_guard lk(mu_);
  script_.assign(faults.begin(), faults.end());
}

void FakeServer::SetAlways(Fault f) {
  std::lock_guard lk(mu_);
  always_ = f;
}

void FakeServer::SetUploadLimit(size_t bytes) {
  std::lock_guard lk(mu_);
  upload_limit_ = bytes;
}

void FakeServer::RefusePath(const std::string& path, int status) {
  std::lock_guard lk(mu_);
  refuse_path_ = path;
  refuse_status_ = status;
}

std::map<std::string, std::vector<double>> FakeServer::floats() {
  std::lock_guard lk(mu_);
  return floats_;
}

std::map<std::string, std::string> FakeServer::strings() {
  std::lock_guard lk(mu_);
  return strings_;
}

void FakeServer::AcceptLoop() {
  while (!stop_) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    std::lock_guard lk(mu_);
    conn_fds_.push_back(fd);
    conns_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeServer::Serve(int fd) {
  std::string buf;
  char tmp[65536];
  for (;;) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = read(fd, tmp, sizeof tmp);
      if (n <= 0) return;
      buf.append(tmp, static_cast<size_t>(n));
    }
    std::string head = buf.substr(0, end + 2);
    buf.erase(0, end + 4);
    size_t length = 0;
    size_t cl = head.find("Content-Length: ");
    if (cl != std::string::npos) length = std::stoul(head.substr(cl + 16));
    while (buf.size() < length) {
      ssize_t n = read(fd, tmp, sizeof tmp);
      if (n <= 0) return;
      buf.append(tmp, static_cast<size_t>(n));
    }
    std::string body = buf.substr(0, length);
    buf.erase(0, length);
    size_t sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
    std::string out = Handle(head.substr(0, sp1), head.substr(sp1 + 1, sp2 - sp1 - 1), head, body);
    if (out.empty()) {
      shutdown(fd, SHUT_RDWR);
      return;
    }
    if (write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) return;
  }
}

void FakeServer::SetRateLimitHeaders(int limit, int remaining, int reset_s) {
  std::lock_guard lk(mu_);
  rate_headers_ = "RateLimit-Limit: " + std::to_string(limit) +
                  "\r\nRateLimit-Remaining: " + std::to_string(remaining) +
                  "\r\nRateLimit-Reset: " + std::to_string(reset_s) + "\r\n";
}

std::string FakeServer::Handle(const std::string& method, const std::string& target,
                               const std::string& headers, const std::string& body) {
  ++requests_;
  if (method == "POST" && target.find("/runs") != std::string::npos &&
      target.rfind("/api/v1/projects/", 0) == 0) {
    return Reply(201, "Created", R"({"id":"FAKE-1","created":true})");
  }
  if (method == "POST" && target == "/api/v1/files") {
    std::lock_guard lk(mu_);
    if (upload_limit_ > 0 && body.size() > upload_limit_) {
      return Reply(
          413, "Payload Too Large",
          R"({"error":{"code":"payload_too_large","message":"file is larger than the limit of )" +
              std::to_string(upload_limit_) + R"( bytes"}})");
    }
    ++files_;
    return Reply(201, "Created", R"({"sha256":"x","size":1})");
  }
  if (method != "POST" || target != "/api/v1/runs/FAKE-1/batches") {
    return Reply(404, "Not Found", R"({"error":{"code":"not_found","message":"no such thing"}})");
  }
  std::lock_guard lk(mu_);
  Fault f = always_;
  if (!script_.empty()) {
    f = script_.front();
    script_.pop_front();
  }
  if (f == Fault::k503) return Reply(503, "Unavailable", R"({"error":{"code":"unavailable"}})");
  if (f == Fault::k429) {
    return Reply(429, "Too Many Requests", R"({"error":{"code":"rate_limited"}})",
                 "Retry-After: 1\r\n");
  }
  if (f == Fault::k401) {
    return Reply(401, "Unauthorized",
                 R"({"error":{"code":"unauthenticated","message":"unknown token"}})");
  }
  if (f == Fault::k409Trashed) {
    return Reply(409, "Conflict",
                 R"({"error":{"code":"failed_precondition","message":"the run is in the trash"}})");
  }
  std::string raw = body;
  if (headers.find("Content-Encoding: zstd") != std::string::npos) {
    raw.resize(ZSTD_getFrameContentSize(body.data(), body.size()));
    raw.resize(ZSTD_decompress(raw.data(), raw.size(), body.data(), body.size()));
  }
  v1::Batch b;
  if (!b.ParseFromString(raw)) return Reply(400, "Bad Request", R"({"error":{}})");
  for (const auto& op : b.operations()) {
    if (refuse_status_ == 0 || op.path() != refuse_path_) continue;
    ++refused_;
    std::string where = "'" + op.path() + "'";
    if (refuse_status_ == 409) {
      return Reply(409, "Conflict",
                   R"({"error":{"code":"type_conflict","message":"field )" + where +
                       R"( is a float series"}})");
    }
    if (refuse_status_ == 413) {
      return Reply(413, "Payload Too Large",
                   R"({"error":{"code":"payload_too_large","message":"too big"}})");
    }
    return Reply(
        400, "Bad Request",
        R"({"error":{"code":"invalid_argument","message":"bad value of )" + where + R"("}})");
  }
  uint64_t& last = last_seq_[b.writer_id()];
  bool dup = b.sequence() <= last;
  if (dup) {
    ++duplicates_;
  } else {
    last = b.sequence();
    ++applied_;
    for (const auto& op : b.operations()) {
      if (op.has_append_floats()) {
        auto& v = floats_[op.path()];
        v.insert(v.end(), op.append_floats().values().begin(), op.append_floats().values().end());
      }
      if (op.has_assign() && op.assign().has_string_value()) {
        strings_[op.path()] = op.assign().string_value();
      }
    }
  }
  if (f == Fault::kDropAfterCommit) return "";
  return Reply(200, "OK", std::string(R"({"duplicate":)") + (dup ? "true" : "false") + "}",
               rate_headers_);
}

}  // namespace nereid::client
