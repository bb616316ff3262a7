// A small blocking HTTP client for the CLI's read commands (libcurl).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "nereid/status.h"

namespace nereid::cli {

class ApiClient {
 public:
  ApiClient(std::string base_url, std::string token);
  // GET base_url + path_and_query; the JSON body, or the server's error turned into a Status
  // (its message), or Unavailable when the server cannot be reached.
  Result<nlohmann::json> Get(const std::string& path_and_query) const;
  // Percent-encodes a query parameter value.
  static std::string Escape(const std::string& s);

 private:
  std::string base_url_;
  std::string token_;
};

}  // namespace nereid::cli
