// Settings of `nereid server`, each with its default.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace nereid::server {

struct Config {
  std::string data_dir = "./nereid-data";  // database, files folder, admin.token
  std::string store_url;                   // empty: "sqlite:" + data_dir
  // The files folder; empty: data_dir/files. Several servers sharing one database share it too.
  std::string files_dir;
  std::string host = "127.0.0.1";          // loopback by default: nothing is exposed by accident
  uint16_t port = 4870;                    // 0: pick a free port
  unsigned io_threads = 0;                 // 0: number of cores
  unsigned handler_threads = 32;           // handlers may block waiting for a group commit
  uint64_t body_limit = 64ull << 20;       // request bodies (batches), bytes
  uint64_t upload_limit = 4ull << 30;      // one file upload, bytes
  std::string synchronous = "full";        // "full" (survives power loss) or "normal"
  std::chrono::seconds shutdown_grace{30};
  bool access_log = true;
  // Requests per minute per user when neither the user nor a workspace sets one (0: unlimited),
  // and how many may come at once from idle.
  uint32_t rate_limit = 1000;
  uint32_t rate_burst = 200;
  // A running run whose last ping is older than this is reported as "not responding".
  uint32_t not_responding_after_s = 300;
  // Mark the session cookie Secure (browsers then send it over HTTPS only): set when the server
  // is reached through a TLS proxy.
  bool secure_cookies = false;
  int64_t NotRespondingUs() const { return int64_t{not_responding_after_s} * 1'000'000; }
};

}  // namespace nereid::server
