#include "client/http.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace nereid::client {
namespace {

size_t OnBody(char* data, size_t size, size_t n, void* out) {
  static_cast<HttpResponse*>(out)->body.append(data, size * n);
  return size * n;
}

bool HeaderIs(std::string_view line, std::string_view name, std::string_view* value) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) !=
        std::tolower(static_cast<unsigned char>(name[i]))) {
      return false;
    }
  }
  std::string_view v = line.substr(name.size() + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
    v.remove_suffix(1);
  }
  *value = v;
  return true;
}

size_t OnHeader(char* data, size_t size, size_t n, void* out) {
  auto* r = static_cast<HttpResponse*>(out);
  std::string_view line(data, size * n);
  std::string_view v;
  std::string s;
  if (HeaderIs(line, "ratelimit-limit", &v)) {
    r->rl_limit = std::atoll(std::string(v).c_str());
  } else if (HeaderIs(line, "ratelimit-remaining", &v)) {
    r->rl_remaining = std::atoll(std::string(v).c_str());
  } else if (HeaderIs(line, "ratelimit-reset", &v)) {
    r->rl_reset_s = std::atof(std::string(v).c_str());
  } else if (HeaderIs(line, "retry-after", &v)) {
    // Seconds; the HTTP-date form is not used by Nereid's server, so it reads as 1 s.
    s = std::string(v);
    r->retry_after_s = std::isdigit(static_cast<unsigned char>(s.empty() ? 'x' : s[0]))
                           ? std::atof(s.c_str())
                           : 1.0;
  }
  return size * n;
}

int OnProgress(void* abort, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* a = static_cast<const std::atomic<bool>*>(abort);
  return a != nullptr && a->load(std::memory_order_relaxed) ? 1 : 0;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string UrlEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

HttpClient::HttpClient(std::string base_url, std::string token, const std::atomic<bool>* abort)
    : base_url_(std::move(base_url)), token_(std::move(token)), abort_(abort) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  GlobalInit();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResponse HttpClient::Perform(const std::string& path, void* headers_in) {
  HttpResponse r;
  auto* curl = static_cast<CURL*>(curl_);
  auto* headers = static_cast<curl_slist*>(headers_in);
  std::string auth = "Authorization: Bearer " + token_;
  headers = curl_slist_append(headers, auth.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  std::string url = base_url_ + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  // No total timeout (large uploads), but a stalled transfer is cut after 60 s.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(abort_));
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    r.status = 0;
    r.error = curl_easy_strerror(rc);
    return r;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

HttpResponse HttpClient::Post(const std::string& path, const std::string& content_type,
                              const std::string& body, bool zstd) {
  auto* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  curl_slist* h = nullptr;
  h = curl_slist_append(h, ("Content-Type: " + content_type).c_str());
  if (zstd) h = curl_slist_append(h, "Content-Encoding: zstd");
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  return Perform(path, h);
}

HttpResponse HttpClient::PostFile(const std::string& path, const std::string& file) {
  auto* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) {
    HttpResponse r;
    r.error = "cannot open " + file + ": " + std::strerror(errno);
    return r;
  }
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/octet-stream");
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_READDATA, f);  // libcurl's default read function is fread
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
  HttpResponse r = Perform(path, h);
  std::fclose(f);
  return r;
}

HttpResponse HttpClient::Get(const std::string& path_and_query) {
  auto* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  return Perform(path_and_query, nullptr);
}

}  // namespace nereid::client
