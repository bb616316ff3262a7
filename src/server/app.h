// The tracking server: locks the data directory (SQLite), opens the store, creates the admin
// token on first start, registers the API routes on the HTTP server, and shuts down gracefully.
// OpenOffline opens the same state without listening, for `nereid admin --offline`: requests
// then go through Handle, answered by the same handlers, permissions and errors as over HTTP.
//
// Thread-safety: Start/OpenOffline and Stop from one thread; the API runs on the HTTP server's
// threads, Handle on the caller's (any thread once opened).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "nereid/status.h"
#include "server/config.h"
#include "server/data_lock.h"

namespace nereid::http {
class Server;
struct Response;
}  // namespace nereid::http

namespace nereid::server {

struct Context;

class App {
 public:
  explicit App(Config config);
  ~App();

  // Opens the data directory (creating it), the store and the token; binds the port.
  // Refused (Unavailable) when another process holds the lock of a SQLite data directory.
  Status Start();
  // Opens the data directory, the store and the routes like Start but binds nothing; every
  // request given to Handle is made as a server administrator, without a token. The SQLite data
  // directory must exist (nothing is created by a typo) and must not be locked by a server:
  // Unavailable "a server is running on DIR (pid N); stop it or use --url" when it is. With a
  // PostgreSQL store nothing is locked: servers may run, and see the changes within 5 s.
  Status OpenOffline();
  // Answers one request in process (see http::Server::Handle); after OpenOffline (or Start).
  http::Response Handle(std::string method, std::string_view target, std::string body,
                        std::string content_type);
  uint16_t port() const;
  // The admin token created by this start (first start of an empty data directory), else empty.
  const std::string& created_token() const { return created_token_; }
  // Lets in-flight requests finish (so no batch is half-applied), then closes the store.
  void Stop();

 private:
  Status Open(bool offline);

  Config config_;
  std::unique_ptr<Context> ctx_;
  std::unique_ptr<http::Server> http_;
  std::string created_token_;
  DataDirLock lock_;  // held from Open to the end of Stop (embedded SQLite stores only)
};

}  // namespace nereid::server
