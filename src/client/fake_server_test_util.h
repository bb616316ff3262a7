// FakeServer: a minimal in-process HTTP/1.1 server that speaks just enough of Nereid's API for the
// client's tests (run creation, batches with exactly-once by writer and sequence, file uploads),
// and misbehaves on request: answer 503, answer 429 with Retry-After, apply a batch and then close
// the connection without answering (a response lost after commit), answer 401 or 409
// failed_precondition (a run in the trash), or refuse every batch that writes a marked path, as the
// real server refuses a batch for its content (the whole batch, applying nothing).
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nereid::client {

class FakeServer {
 public:
  enum class Fault { kNone, k503, k429, kDropAfterCommit, k401, k409Trashed };

  FakeServer();
  ~FakeServer();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The next batch requests get these faults, in order.
  void Script(std::vector<Fault> faults);
  void SetAlways(Fault f);
  // The RateLimit-* headers of every accepted batch's answer (default: a budget far from empty).
  void SetRateLimitHeaders(int limit, int remaining, int reset_s);
  // Refuse every batch with an operation on `path` with HTTP `status`: 409 (type_conflict), 400
  // (invalid_argument) or 413 (payload_too_large). Refusals are counted in refused().
  void RefusePath(const std::string& path, int status);
  // Refuse file uploads larger than `bytes` with 413, as the real server's --upload-limit does
  // (0: no limit). Accepted uploads are counted in files().
  void SetUploadLimit(size_t bytes);
  int files() const { return files_.load(); }

  // Float values stored per path, in arrival order; batches applied and seen as duplicates.
  std::map<std::string, std::vector<double>> floats();
  std::map<std::string, std::string> strings();  // last assigned string per path
  int applied() const { return applied_.load(); }
  int duplicates() const { return duplicates_.load(); }
  int requests() const { return requests_.load(); }
  int refused() const { return refused_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);
  // Returns the response to send, or empty to close without answering.
  std::string Handle(const std::string& method, const std::string& target,
                     const std::string& headers, const std::string& body);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;  // guards everything below
  std::vector<std::thread> conns_;
  std::vector<int> conn_fds_;
  std::deque<Fault> script_;
  std::string rate_headers_ =
      "RateLimit-Limit: 1000\r\nRateLimit-Remaining: 900\r\nRateLimit-Reset: 30\r\n";
  Fault always_ = Fault::kNone;
  std::string refuse_path_;
  int refuse_status_ = 0;
  size_t upload_limit_ = 0;
  std::map<std::string, uint64_t> last_seq_;
  std::map<std::string, std::vector<double>> floats_;
  std::map<std::string, std::string> strings_;
  std::atomic<int> applied_{0}, duplicates_{0}, requests_{0}, refused_{0}, files_{0};
};

}  // namespace nereid::client
