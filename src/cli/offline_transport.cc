#include "cli/offline_transport.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "http/server.h"
#include "server/app.h"

namespace nereid::cli {
namespace {

class OfflineTransport final : public ApiTransport {
 public:
  explicit OfflineTransport(std::unique_ptr<server::App> app) : app_(std::move(app)) {}
  ~OfflineTransport() override { app_->Stop(); }

  Result<RawResponse> Exchange(const std::string& method, const std::string& path_and_query,
                               const std::string& body,
                               const std::string& content_type) const override {
    http::Response r = app_->Handle(method, path_and_query, body, content_type);
    return RawResponse{r.status, std::move(r.body)};
  }

 private:
  std::unique_ptr<server::App> app_;
};

}  // namespace

Result<ApiClient> OpenOffline(const OfflineOptions& options) {
  // The server's info lines (store opened, defaults created) would mix with the command's output.
  spdlog::set_level(spdlog::level::warn);
  server::Config config;
  config.data_dir = options.data_dir;
  config.store_url = options.store_url;
  config.access_log = false;
  auto app = std::make_unique<server::App>(config);
  NEREID_RETURN_IF_ERROR(app->OpenOffline());
  if (!app->created_token().empty()) {
    // As at a server's start: a new store, or a user "admin" left without a live token.
    std::cerr << "nereid: 'admin' had no live token: created one in "
              << (std::filesystem::path(options.data_dir) / "admin.token").string() << "\n";
  }
  return ApiClient(std::make_shared<OfflineTransport>(std::move(app)));
}

}  // namespace nereid::cli
