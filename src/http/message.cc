// Request/Response helpers and the JSON error body; no Beast here.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "http/outgoing.h"
#include "http/range.h"
#include "http/server.h"

namespace nereid::http {

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

std::optional<std::string> Request::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::File(std::filesystem::path path, std::string content_type,
                        std::string download_name) {
  Response r;
  r.content_type = std::move(content_type);
  r.file = std::move(path);
  r.download_name = std::move(download_name);
  return r;
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  nlohmann::json j = {{"error", {{"code", code}, {"message", message}}}};
  // Replace, not throw, on invalid UTF-8: messages may quote what a client sent.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace internal {

Outgoing::~Outgoing() {
  if (fd >= 0) ::close(fd);
}

std::shared_ptr<Outgoing> PrepareResponse(Response r, const Request& req) {
  auto out = std::make_shared<Outgoing>();
  out->status = r.status;
  out->content_type = std::move(r.content_type);
  out->headers = std::move(r.headers);
  if (!r.file) {
    out->body = std::move(r.body);
    out->length = out->body.size();
    return out;
  }
  auto not_found = [&] {
    out->status = 404;
    out->content_type = "application/json";
    out->body = ErrorBody("not_found", "file not found");
    out->length = out->body.size();
    return out;
  };
  int fd = ::open(r.file->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found();
  out->fd = fd;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return not_found();
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  out->headers.emplace_back("Accept-Ranges", "bytes");
  if (!r.download_name.empty()) {
    out->headers.emplace_back("Content-Disposition", ContentDisposition(r.download_name));
  }
  out->offset = 0;
  out->length = size;
  std::string_view range = req.Header("range");
  if (out->status != 200 || range.empty()) return out;
  ByteRange br = ParseRange(range, size);
  if (br.kind == RangeKind::kPartial) {
    out->status = 206;
    out->offset = br.start;
    out->length = br.length;
    out->headers.emplace_back("Content-Range", "bytes " + std::to_string(br.start) + "-" +
                                                   std::to_string(br.start + br.length - 1) + "/" +
                                                   std::to_string(size));
  } else if (br.kind == RangeKind::kUnsatisfiable) {
    ::close(out->fd);
    out->fd = -1;
    out->status = 416;
    out->content_type = "application/json";
    out->headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
    out->body = ErrorBody("range_not_satisfiable", "range '" + std::string(range) +
                                                       "' is outside the file of " +
                                                       std::to_string(size) + " bytes");
    out->length = out->body.size();
  }
  return out;
}

}  // namespace internal
}  // namespace nereid::http
