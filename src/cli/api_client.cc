#include "cli/api_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>
#include <memory>

namespace nereid::cli {
namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Blocking libcurl, one connection per request: the CLI makes a handful of requests.
class HttpTransport final : public ApiTransport {
 public:
  HttpTransport(std::string base_url, std::string token)
      : base_url_(std::move(base_url)), token_(std::move(token)) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  }

  Result<RawResponse> Exchange(const std::string& method, const std::string& path_and_query,
                               const std::string& request_body,
                               const std::string& content_type) const override {
    return Perform(base_url_, token_, method, path_and_query, request_body, content_type,
                   /*connect_timeout_s=*/5);
  }

  static Result<RawResponse> Perform(const std::string& base_url, const std::string& token,
                                     const std::string& method, const std::string& path_and_query,
                                     const std::string& request_body,
                                     const std::string& content_type, long connect_timeout_s) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Internal("cannot initialise libcurl");
    std::string url = base_url + path_and_query;
    RawResponse out;
    std::string auth = "Authorization: Bearer " + token;
    curl_slist* headers = token.empty() ? nullptr : curl_slist_append(nullptr, auth.c_str());
    std::string type_header = "Content-Type: " + content_type;
    if (!content_type.empty()) headers = curl_slist_append(headers, type_header.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
    if (method != "GET") {
      curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
      curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, request_body.data());
      curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request_body.size()));
    }
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Append);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, connect_timeout_s);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(curl.get());
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      return Unavailable("cannot reach " + base_url + ": " + curl_easy_strerror(rc));
    }
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &out.status);
    return out;
  }

 private:
  std::string base_url_;
  std::string token_;
};

}  // namespace

ApiClient::ApiClient(std::string base_url, std::string token)
    : transport_(std::make_shared<HttpTransport>(std::move(base_url), std::move(token))) {}

ApiClient::ApiClient(std::shared_ptr<const ApiTransport> transport)
    : transport_(std::move(transport)) {}

std::string ApiClient::Escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<nlohmann::json> ApiClient::Get(const std::string& path_and_query) const {
  return SendRaw("GET", path_and_query, "", "");
}

Result<nlohmann::json> ApiClient::Send(const std::string& method, const std::string& path_and_query,
                                       const nlohmann::json& body) const {
  if (body.is_null()) return SendRaw(method, path_and_query, "", "");
  return SendRaw(method, path_and_query, body.dump(), "application/json");
}

Result<nlohmann::json> ApiClient::SendRaw(const std::string& method,
                                          const std::string& path_and_query,
                                          const std::string& request_body,
                                          const std::string& content_type) const {
  NEREID_ASSIGN_OR_RETURN(RawResponse r,
                          transport_->Exchange(method, path_and_query, request_body, content_type));
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status >= 400) {
    std::string message = "HTTP " + std::to_string(r.status);
    if (!j.is_discarded() && j.contains("error")) {
      message = j["error"].value("message", message);
    }
    StatusCode code = r.status == 401   ? StatusCode::kUnauthenticated
                      : r.status == 403 ? StatusCode::kPermissionDenied
                      : r.status == 404 ? StatusCode::kNotFound
                      : r.status == 409 ? StatusCode::kAlreadyExists
                      : r.status == 429 ? StatusCode::kRateLimited
                      : r.status == 507 ? StatusCode::kQuotaExceeded
                      : r.status < 500  ? StatusCode::kInvalidArgument
                                        : StatusCode::kUnavailable;
    return Status(code, message);
  }
  if (j.is_discarded()) return Internal("the server sent a body that is not JSON");
  return j;
}

std::string DefaultApiUrl() {
  const char* env = std::getenv("NEREID_URL");
  return env && *env ? env : "http://127.0.0.1:4870";
}

bool ServerAnswers(const std::string& url) {
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return HttpTransport::Perform(base, "", "GET", "/api/v1/health", "", "", /*connect_timeout_s=*/1)
      .ok();
}

Result<ApiClient> ConnectApi(std::string url, std::string token, const std::string& data_dir) {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  if (url.empty()) url = DefaultApiUrl();
  if (token.empty()) token = env("NEREID_API_TOKEN");
  if (token.empty()) {
    std::ifstream in(data_dir + "/admin.token");
    std::getline(in, token);
  }
  if (token.empty()) {
    return Unauthenticated("no API token: pass --token, set NEREID_API_TOKEN, or run where " +
                           data_dir + "/admin.token is readable");
  }
  return ApiClient(url, token);
}

}  // namespace nereid::cli
