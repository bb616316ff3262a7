// HttpClient: the sender's one keep-alive connection to the server (libcurl easy handle, reused so
// the TCP connection stays open between batches). Reads the rate-limit headers of every answer.
//
// Thread-safety: one thread at a time (the sender's). A request in flight is abandoned within
// about 100 ms once *abort becomes true.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace nereid::client {

struct HttpResponse {
  long status = 0;    // 0: no answer (connection refused, reset, timeout); see error
  std::string error;  // libcurl's description when status is 0
  std::string body;
  // RateLimit-Limit / -Remaining / -Reset (seconds); -1 when absent.
  int64_t rl_limit = -1;
  int64_t rl_remaining = -1;
  double rl_reset_s = -1;
  double retry_after_s = -1;  // Retry-After in seconds; -1 when absent
};

class HttpClient {
 public:
  HttpClient(std::string base_url, std::string token, const std::atomic<bool>* abort);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse Post(const std::string& path, const std::string& content_type,
                    const std::string& body, bool zstd);
  // POSTs the content of a local file, streamed.
  HttpResponse PostFile(const std::string& path, const std::string& file);
  HttpResponse Get(const std::string& path_and_query);

  const std::string& base_url() const { return base_url_; }

 private:
  HttpResponse Perform(const std::string& path, void* headers);

  std::string base_url_;
  std::string token_;
  const std::atomic<bool>* abort_;
  void* curl_;  // CURL*
};

// Percent-encodes a URL path segment or query value.
std::string UrlEscape(const std::string& s);

}  // namespace nereid::client
