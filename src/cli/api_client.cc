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

}  // namespace

ApiClient::ApiClient(std::string base_url, std::string token)
    : base_url_(std::move(base_url)), token_(std::move(token)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

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
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Internal("cannot initialise libcurl");
  std::string url = base_url_ + path_and_query;
  std::string body;
  std::string auth = "Authorization: Bearer " + token_;
  curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
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
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 60L);
  CURLcode rc = curl_easy_perform(curl.get());
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return Unavailable("cannot reach " + base_url_ + ": " + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (status >= 400) {
    std::string message = "HTTP " + std::to_string(status);
    if (!j.is_discarded() && j.contains("error")) {
      message = j["error"].value("message", message);
    }
    StatusCode code = status == 401   ? StatusCode::kUnauthenticated
                      : status == 403 ? StatusCode::kPermissionDenied
                      : status == 404 ? StatusCode::kNotFound
                      : status == 409 ? StatusCode::kAlreadyExists
                      : status == 429 ? StatusCode::kRateLimited
                      : status == 507 ? StatusCode::kQuotaExceeded
                      : status < 500  ? StatusCode::kInvalidArgument
                                      : StatusCode::kUnavailable;
    return Status(code, message);
  }
  if (j.is_discarded()) return Internal("the server sent a body that is not JSON");
  return j;
}

Result<ApiClient> ConnectApi(std::string url, std::string token, const std::string& data_dir) {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  if (url.empty()) url = env("NEREID_URL");
  if (url.empty()) url = "http://127.0.0.1:4870";
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
