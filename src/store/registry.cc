// Backends register a factory under a URL scheme; OpenStore picks one by the URL's scheme.
#include <map>
#include <mutex>

#include "store/store.h"

namespace nereid::store {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, StoreFactory, std::less<>> factories;  // guarded by mu
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();  // never destroyed: usable during static teardown
  return *registry;
}

}  // namespace

void RegisterBackend(std::string scheme, StoreFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  r.factories[std::move(scheme)] = std::move(factory);
}

Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options) {
  std::string_view url = options.url.empty() ? std::string_view("sqlite:./nereid-data")
                                             : std::string_view(options.url);
  // "sqlite:DIR", "sqlite" (bare: the data dir) and "postgres://..." all name the scheme first.
  std::string_view scheme = url.substr(0, url.find(':'));
  StoreFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard lock(r.mu);
    auto it = r.factories.find(scheme);
    if (it == r.factories.end()) {
      std::string known;
      for (const auto& [name, unused] : r.factories) known += (known.empty() ? "" : ", ") + name;
      return InvalidArgument("store url '" + std::string(url) + "': unknown backend '" +
                             std::string(scheme) + "' (known: " + known + ")");
    }
    factory = it->second;
  }
  StoreOptions resolved = options;
  resolved.url = std::string(url);
  return factory(resolved);
}

}  // namespace nereid::store
