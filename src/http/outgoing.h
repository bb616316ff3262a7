// Private to the http subsystem: a response ready for the wire, built from a handler's Response on
// a handler thread (where opening a file may block) and sent on the connection's strand.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http/server.h"

namespace nereid::http::internal {

// A file body being streamed, or a string body; built on a handler thread, sent on the strand.
struct Outgoing {
  Outgoing() = default;
  Outgoing(const Outgoing&) = delete;
  Outgoing& operator=(const Outgoing&) = delete;
  ~Outgoing();  // closes fd

  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int fd = -1;  // owned
  uint64_t offset = 0;
  uint64_t length = 0;  // of the file part; the string body's size otherwise
  bool close = false;   // close the connection after sending
};

// Runs the handler's Response through file opening and Range handling. Called on a pool thread.
std::shared_ptr<Outgoing> PrepareResponse(Response r, const Request& req);

}  // namespace nereid::http::internal
