#include "server/project_keys.h"

#include <mutex>

namespace nereid::server {

std::optional<std::string> ProjectKeys::Lookup(std::string_view key) {
  {
    std::shared_lock lock(mu_);
    auto it = projects_.find(key);
    if (it != projects_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  auto workspaces = store_->ListWorkspaces();
  if (!workspaces.ok()) return std::nullopt;
  for (const auto& w : *workspaces) {
    auto projects = store_->ListProjects(w.name);
    if (!projects.ok()) continue;
    for (const auto& p : *projects) projects_[p.key] = p.workspace + "/" + p.name;
  }
  auto it = projects_.find(key);
  if (it == projects_.end()) return std::nullopt;
  return it->second;
}

}  // namespace nereid::server
