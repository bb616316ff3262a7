#include "store/sys_fields.h"

#include <algorithm>
#include <array>

namespace nereid::store {
namespace {

constexpr std::array<std::string_view, 13> kSysPaths = {
    "sys/creation_time",
    "sys/custom_run_id",
    "sys/description",
    "sys/failed",
    "sys/id",
    "sys/modification_time",
    "sys/name",
    "sys/owner",
    "sys/ping_time",
    "sys/size",
    "sys/state",
    "sys/tags",
    "sys/trashed_time",
};

Field Make(std::string_view path, FieldType type, Value value) {
  Field f;
  f.path = std::string(path);
  f.type = type;
  f.value = std::move(value);
  return f;
}

}  // namespace

bool IsSysFieldPath(std::string_view path) {
  return std::find(kSysPaths.begin(), kSysPaths.end(), path) != kSysPaths.end();
}

std::optional<Field> SysField(const RunInfo& run, std::string_view path) {
  if (path == "sys/id") return Make(path, FieldType::kString, run.id);
  if (path == "sys/custom_run_id") {
    if (run.custom_run_id.empty()) return std::nullopt;
    return Make(path, FieldType::kString, run.custom_run_id);
  }
  if (path == "sys/name") return Make(path, FieldType::kString, run.name);
  if (path == "sys/description") return Make(path, FieldType::kString, run.description);
  if (path == "sys/state") {
    return Make(path, FieldType::kString, std::string(RunStateName(run.state)));
  }
  if (path == "sys/creation_time") {
    return Make(path, FieldType::kDatetime, Datetime{run.creation_time_us});
  }
  if (path == "sys/modification_time") {
    return Make(path, FieldType::kDatetime, Datetime{run.modification_time_us});
  }
  if (path == "sys/ping_time") return Make(path, FieldType::kDatetime, Datetime{run.ping_time_us});
  if (path == "sys/owner") return Make(path, FieldType::kString, run.owner);
  if (path == "sys/tags") return Make(path, FieldType::kStringSet, run.tags);
  if (path == "sys/size") return Make(path, FieldType::kInt, run.size_bytes);
  if (path == "sys/failed") return Make(path, FieldType::kBool, run.failed);
  // Present only while the run is in the trash, like sys/custom_run_id when it has none.
  if (path == "sys/trashed_time") {
    if (run.trashed_time_us == 0) return std::nullopt;
    return Make(path, FieldType::kDatetime, Datetime{run.trashed_time_us});
  }
  return std::nullopt;
}

std::vector<std::pair<std::string_view, FieldType>> SysFieldTypes() {
  RunInfo any;
  any.custom_run_id = "x";  // so that sys/custom_run_id is reported too
  std::vector<std::pair<std::string_view, FieldType>> out;
  for (std::string_view path : kSysPaths) {
    // Only trashed runs have it, and they are not in the runs table it would be offered for.
    if (path == "sys/trashed_time") continue;
    out.emplace_back(path, SysField(any, path)->type);
  }
  return out;
}

std::vector<Field> SysFields(const RunInfo& run) {
  std::vector<Field> fields;
  for (std::string_view path : kSysPaths) {  // kSysPaths is sorted, so the result is too
    if (auto f = SysField(run, path)) fields.push_back(std::move(*f));
  }
  return fields;
}

}  // namespace nereid::store
