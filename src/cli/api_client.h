// A small blocking client of the HTTP API for the CLI: over HTTP (libcurl) to a running server,
// or in process through the server's own handlers on a stopped server's data directory
// (offline_transport.h). Either way the caller sees the same JSON and the same errors.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "nereid/status.h"

namespace nereid::cli {

class ApiClient;

// A client for `url` (else $NEREID_URL, else http://127.0.0.1:4870) with `token` (else
// $NEREID_API_TOKEN, else the first line of <data_dir>/admin.token). Unauthenticated when no
// token is found.
Result<ApiClient> ConnectApi(std::string url, std::string token, const std::string& data_dir);

// The URL ConnectApi uses when given none: $NEREID_URL, else http://127.0.0.1:4870.
std::string DefaultApiUrl();
// True when something answers HTTP at `url` (GET /api/v1/health, any status), within ~1 s.
bool ServerAnswers(const std::string& url);

// One exchange of an ApiClient: the HTTP status and body of the answer.
struct RawResponse {
  long status = 0;
  std::string body;
};

// Where an ApiClient's requests go. Thread-safety: as the implementation says; ApiClient uses it
// from one thread.
class ApiTransport {
 public:
  virtual ~ApiTransport() = default;
  // Unavailable when the server cannot be reached; otherwise its answer, whatever the status.
  virtual Result<RawResponse> Exchange(const std::string& method, const std::string& path_and_query,
                                       const std::string& body,
                                       const std::string& content_type) const = 0;
};

class ApiClient {
 public:
  // Over HTTP to base_url with a bearer token.
  ApiClient(std::string base_url, std::string token);
  explicit ApiClient(std::shared_ptr<const ApiTransport> transport);
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
  std::shared_ptr<const ApiTransport> transport_;
};

}  // namespace nereid::cli
