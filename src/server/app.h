// The tracking server: opens the store, creates the admin token on first start, registers the
// API routes on the HTTP server, and shuts down gracefully.
//
// Thread-safety: Start and Stop from one thread; the API runs on the HTTP server's threads.
#pragma once

#include <memory>
#include <string>

#include "nereid/status.h"
#include "server/config.h"

namespace nereid::http {
class Server;
}

namespace nereid::server {

struct Context;

class App {
 public:
  explicit App(Config config);
  ~App();

  // Opens the data directory (creating it), the store and the token; binds the port.
  Status Start();
  uint16_t port() const;
  // The admin token created by this start (first start of an empty data directory), else empty.
  const std::string& created_token() const { return created_token_; }
  // Lets in-flight requests finish (so no batch is half-applied), then closes the store.
  void Stop();

 private:
  Config config_;
  std::unique_ptr<Context> ctx_;
  std::unique_ptr<http::Server> http_;
  std::string created_token_;
};

}  // namespace nereid::server
