#include "store/quota.h"

#include <string>

namespace nereid::store {

Status CheckQuota(std::string_view workspace, std::optional<int64_t> quota, int64_t used_before,
                  int64_t grew, std::string_view what) {
  if (!quota || grew <= 0 || used_before + grew <= *quota) return Status();
  return Status(StatusCode::kQuotaExceeded,
                "storage quota of workspace '" + std::string(workspace) +
                    "' exceeded: " + std::to_string(used_before) + " of " + std::to_string(*quota) +
                    " bytes used, " + std::string(what) + " needs " + std::to_string(grew) +
                    " more; nothing of it was stored");
}

}  // namespace nereid::store
