// A small blocking HTTP client for the CLI's read commands (libcurl).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "nereid/status.h"

namespace nereid::cli {

class ApiClient;

// A client for `url` (else $NEREID_URL, else http://127.0.0.1:4870) with `token` (else
// $NEREID_API_TOKEN, else the first line of <data_dir>/admin.token). Unauthenticated when no
// token is found.
Result<ApiClient> ConnectApi(std::string url, std::string token, const std::string& data_dir);

class ApiClient {
 public:
  ApiClient(std::string base_url, std::string token);
  // GET base_url + path_and_query; the JSON body, or the server's error turned into a Status
  // (its message), or Unavailable when the server cannot be reached.
  Result<nlohmann::json> Get(const std::string& path_and_query) const;
  // Any method with an optional JSON body (null: none). Errors as for Get; 403 becomes
  // PermissionDenied, 409 AlreadyExists, 429 RateLimited, 507 QuotaExceeded.
  Result<nlohmann::json> Send(const std::string& method, const std::string& path_and_query,
                              const nlohmann::json& body = nullptr) const;
  // Like Send with a raw body and content type (file uploads).
  Result<nlohmann::json> SendRaw(const std::string& method, const std::string& path_and_query,
                                 const std::string& body, const std::string& content_type) const;
  // Percent-encodes a query parameter value.
  static std::string Escape(const std::string& s);

 private:
  std::string base_url_;
  std::string token_;
};

}  // namespace nereid::cli
