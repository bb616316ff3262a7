// Project key -> "workspace/project", for authorizing run-scoped requests ("SAND-12") without a
// database read per request. Keys never change once a project exists, so entries are never
// stale; an unknown key reloads the whole (small) project list once.
//
// Thread-safety: Lookup may be called from any thread.
#pragma once

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "store/store.h"

namespace nereid::server {

class ProjectKeys {
 public:
  explicit ProjectKeys(store::Store* store) : store_(store) {}  // store: not owned
  std::optional<std::string> Lookup(std::string_view key);

 private:
  store::Store* store_;
  std::shared_mutex mu_;
  std::map<std::string, std::string, std::less<>> projects_;  // guarded by mu_
};

}  // namespace nereid::server
