#include "store/types.h"

namespace nereid::store {

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kFloat:
      return "float";
    case FieldType::kInt:
      return "int";
    case FieldType::kBool:
      return "bool";
    case FieldType::kString:
      return "string";
    case FieldType::kDatetime:
      return "datetime";
    case FieldType::kStringSet:
      return "string_set";
    case FieldType::kFile:
      return "file";
    case FieldType::kFileSet:
      return "file_set";
    case FieldType::kFloatSeries:
      return "float_series";
    case FieldType::kStringSeries:
      return "string_series";
    case FieldType::kFileSeries:
      return "file_series";
  }
  return "unknown";
}

bool IsSeries(FieldType type) {
  return type == FieldType::kFloatSeries || type == FieldType::kStringSeries ||
         type == FieldType::kFileSeries;
}

std::string_view RunStateName(RunState state) {
  switch (state) {
    case RunState::kRunning:
      return "running";
    case RunState::kSucceeded:
      return "succeeded";
    case RunState::kFailed:
      return "failed";
    case RunState::kAborted:
      return "aborted";
  }
  return "unknown";
}

std::optional<RunState> ParseRunState(std::string_view name) {
  if (name == "running") return RunState::kRunning;
  if (name == "succeeded") return RunState::kSucceeded;
  if (name == "failed") return RunState::kFailed;
  if (name == "aborted") return RunState::kAborted;
  return std::nullopt;
}

}  // namespace nereid::store
