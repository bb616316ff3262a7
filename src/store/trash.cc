#include "store/trash.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <unordered_set>

namespace nereid::store {
namespace {

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ", ";
    out += ids[i];
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> NormalizeRunIds(const std::vector<std::string>& ids) {
  if (ids.empty()) return InvalidArgument("no runs given");
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const std::string& id : ids) {
    if (id.empty()) return InvalidArgument("a run id is empty");
    if (seen.insert(id).second) out.push_back(id);
  }
  if (out.size() > kMaxTrashRuns) {
    return InvalidArgument(std::to_string(out.size()) + " runs given; at most " +
                           std::to_string(kMaxTrashRuns) + " per request");
  }
  return out;
}

int64_t RunNumberIn(std::string_view project_key, std::string_view id) {
  if (id.size() <= project_key.size() + 1 || id.substr(0, project_key.size()) != project_key ||
      id[project_key.size()] != '-') {
    return 0;
  }
  std::string_view digits = id.substr(project_key.size() + 1);
  if (digits.size() > 18 || digits[0] == '0') return 0;  // "VIS-07" is not the run VIS-7
  int64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

Status RunsNotFound(std::string_view project, const std::vector<std::string>& unknown) {
  return NotFound((unknown.size() == 1 ? "run " : "runs ") + JoinIds(unknown) + " not found in '" +
                  std::string(project) + "'; nothing was changed");
}

Status CheckAllTrashed(const std::vector<TrashTarget>& targets) {
  std::vector<std::string> live;
  for (const TrashTarget& t : targets) {
    if (!t.trashed) live.push_back(t.id);
  }
  if (live.empty()) return Status();
  return FailedPrecondition((live.size() == 1 ? "run " : "runs ") + JoinIds(live) +
                            (live.size() == 1 ? " is" : " are") +
                            " not in the trash; only trashed runs can be deleted forever (move "
                            "them to the trash first); nothing was deleted");
}

Status RunInTrash(std::string_view run_id) {
  return FailedPrecondition("run " + std::string(run_id) +
                            " is in the trash; restore it first to log into it");
}

uint64_t RemoveBlobFiles(BlobStore* blobs, const std::vector<std::string>& sha256s) {
  if (blobs == nullptr) return 0;
  uint64_t removed = 0;
  for (const std::string& sha : sha256s) {
    std::error_code ec;  // a file already gone is not an error: the row was the truth
    if (std::filesystem::remove(blobs->PathOf(sha), ec)) ++removed;
  }
  return removed;
}

}  // namespace nereid::store
