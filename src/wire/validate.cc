#include "wire/validate.h"

#include <cmath>
#include <string>
#include <vector>

#include "common/path.h"
#include "nereid/v1/batch.pb.h"

namespace nereid::wire {
namespace {

// Nested dicts deeper than this are refused: a hostile body must not recurse without end.
constexpr int kMaxNestingDepth = 32;

using common::CheckString;

std::string_view GuessContentType(std::string_view name) {
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string ext(name.substr(dot + 1));
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"webp", "image/webp"},
      {"json", "application/json"},
      {"txt", "text/plain"},
      {"csv", "text/csv"},
      {"html", "text/html"},
      {"ipynb", "application/x-ipynb+json"},
      {"pdf", "application/pdf"},
      {"yaml", "text/yaml"},
      {"yml", "text/yaml"},
  };
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

Status CheckFileRef(v1::FileRef* file) {
  const std::string& sha = file->sha256();
  bool hex = sha.size() == 64;
  for (char c : sha) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!hex) {
    return InvalidArgument("file sha256 '" + sha.substr(0, 80) +
                           "' is not 64 lowercase hex characters");
  }
  const std::string& name = file->name();
  NEREID_RETURN_IF_ERROR(common::CheckFileName(name).WithContext("file " + sha + ": "));
  if (file->content_type().empty()) {
    file->set_content_type(std::string(GuessContentType(name)));
  } else if (file->content_type().size() > 255 || !common::IsValidUtf8(file->content_type())) {
    return InvalidArgument("file content_type is not a valid media type");
  }
  return Status::Ok();
}

template <typename Points>
Status CheckPointColumns(const std::string& path, Points* points, int values, int64_t now_us) {
  if (points->steps_size() != 0 && points->steps_size() != values) {
    return InvalidArgument("series '" + path + "' has " + std::to_string(values) + " values but " +
                           std::to_string(points->steps_size()) +
                           " steps; give one step per value or none");
  }
  for (double step : points->steps()) {
    if (!std::isfinite(step)) {
      return InvalidArgument("series '" + path + "' has a step that is NaN or infinite");
    }
  }
  if (points->timestamps_us_size() == 0) {
    points->mutable_timestamps_us()->Resize(values, now_us);
  } else if (points->timestamps_us_size() != values) {
    return InvalidArgument("series '" + path + "' has " + std::to_string(values) + " values but " +
                           std::to_string(points->timestamps_us_size()) +
                           " timestamps; give one timestamp per value or none");
  }
  return Status::Ok();
}

Status CheckSysWrite(const v1::Operation& op) {
  using common::SysWrite;
  SysWrite kind = SysWrite::kOther;
  std::string_view value;
  if (op.op_case() == v1::Operation::kAddStrings || op.op_case() == v1::Operation::kRemoveStrings) {
    kind = SysWrite::kStringSetChange;
  } else if (op.op_case() == v1::Operation::kAssign) {
    switch (op.assign().kind_case()) {
      case v1::Value::kStringValue:
        kind = SysWrite::kString;
        value = op.assign().string_value();
        break;
      case v1::Value::kBoolValue:
        kind = SysWrite::kBool;
        break;
      case v1::Value::kDatetimeUs:
        kind = SysWrite::kDatetime;
        break;
      case v1::Value::kStringSet:
        kind = SysWrite::kStringSetChange;
        break;
      default:
        break;
    }
  }
  return common::CheckSysWrite(op.path(), kind, value);
}

Status CheckValue(const std::string& path, v1::Value* value) {
  switch (value->kind_case()) {
    case v1::Value::kStringValue:
      return CheckString("value of '" + path + "'", value->string_value());
    case v1::Value::kStringSet:
      for (const auto& s : value->string_set().values()) {
        NEREID_RETURN_IF_ERROR(CheckString("a member of '" + path + "'", s));
      }
      return Status::Ok();
    case v1::Value::kFile:
      return CheckFileRef(value->mutable_file()).WithContext("'" + path + "': ");
    case v1::Value::kFileSet:
      for (auto& f : *value->mutable_file_set()->mutable_files()) {
        NEREID_RETURN_IF_ERROR(CheckFileRef(&f).WithContext("'" + path + "': "));
      }
      return Status::Ok();
    case v1::Value::kNested:
      return Internal("nested value left after flattening");
    case v1::Value::KIND_NOT_SET:
      return InvalidArgument("assign to '" + path + "' has no value");
    default:
      return Status::Ok();
  }
}

Status TooManyOperations(size_t n) {
  return PayloadTooLarge("the batch has " + std::to_string(n) + " operations (after flattening " +
                         "nested dicts); the limit is " + std::to_string(kMaxOperations) +
                         ": split it into several batches");
}

// Appends one assign per leaf of a nested dict to `out`.
Status Flatten(const std::string& path, v1::Value&& value, int depth,
               std::vector<v1::Operation>* out) {
  if (depth > kMaxNestingDepth) {
    return InvalidArgument("dict assigned to '" + path + "' is nested deeper than " +
                           std::to_string(kMaxNestingDepth) + " levels");
  }
  if (value.kind_case() != v1::Value::kNested) {
    if (out->size() >= kMaxOperations) return TooManyOperations(out->size() + 1);
    v1::Operation op;
    op.set_path(path);
    *op.mutable_assign() = std::move(value);
    out->push_back(std::move(op));
    return Status::Ok();
  }
  auto* fields = value.mutable_nested()->mutable_fields();
  // Sorted keys keep the order of assigns stable whatever the map's iteration order.
  std::vector<std::string> keys;
  keys.reserve(fields->size());
  for (const auto& [k, v] : *fields) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  for (const auto& key : keys) {
    if (key.empty()) return InvalidArgument("dict assigned to '" + path + "' has an empty key");
    NEREID_RETURN_IF_ERROR(Flatten(path + "/" + key, std::move((*fields)[key]), depth + 1, out));
  }
  return Status::Ok();
}

Status CheckOperation(v1::Operation* op, int64_t now_us) {
  const std::string& path = op->path();
  NEREID_RETURN_IF_ERROR(common::ValidatePath(path));
  if (path == "sys" || path.starts_with("sys/")) NEREID_RETURN_IF_ERROR(CheckSysWrite(*op));
  switch (op->op_case()) {
    case v1::Operation::kAssign:
      return CheckValue(path, op->mutable_assign());
    case v1::Operation::kAddStrings:
    case v1::Operation::kRemoveStrings: {
      const auto& list =
          op->op_case() == v1::Operation::kAddStrings ? op->add_strings() : op->remove_strings();
      for (const auto& s : list.values()) {
        NEREID_RETURN_IF_ERROR(CheckString("a member of '" + path + "'", s));
      }
      return Status::Ok();
    }
    case v1::Operation::kAppendFloats: {
      auto* p = op->mutable_append_floats();
      return CheckPointColumns(path, p, p->values_size(), now_us);
    }
    case v1::Operation::kAppendStrings: {
      auto* p = op->mutable_append_strings();
      for (const auto& s : p->values()) {
        NEREID_RETURN_IF_ERROR(CheckString("a point of '" + path + "'", s));
      }
      return CheckPointColumns(path, p, p->values_size(), now_us);
    }
    case v1::Operation::kAppendFiles: {
      auto* p = op->mutable_append_files();
      for (auto& f : *p->mutable_files()) {
        NEREID_RETURN_IF_ERROR(CheckFileRef(&f).WithContext("'" + path + "': "));
      }
      return CheckPointColumns(path, p, p->files_size(), now_us);
    }
    case v1::Operation::kAddFiles:
      for (auto& f : *op->mutable_add_files()->mutable_files()) {
        NEREID_RETURN_IF_ERROR(CheckFileRef(&f).WithContext("'" + path + "': "));
      }
      return Status::Ok();
    case v1::Operation::OP_NOT_SET:
      return InvalidArgument("operation on '" + path + "' has no op");
  }
  return InvalidArgument("operation on '" + path + "' has an unknown op");
}

}  // namespace

Status ValidateBatch(v1::Batch& batch, int64_t now_us) {
  const std::string& writer = batch.writer_id();
  if (writer.empty() || writer.size() > kMaxWriterIdLength) {
    return InvalidArgument("writer_id must be 1 to " + std::to_string(kMaxWriterIdLength) +
                           " characters");
  }
  for (unsigned char c : writer) {
    if (c < 0x21 || c > 0x7e) return InvalidArgument("writer_id must be printable ASCII");
  }
  if (batch.sequence() == 0) return InvalidArgument("sequence must be 1 or more");
  const size_t ops = static_cast<size_t>(batch.operations_size());
  if (ops > kMaxOperations) return TooManyOperations(ops);

  bool has_nested = false;
  for (const auto& op : batch.operations()) {
    has_nested = has_nested || (op.op_case() == v1::Operation::kAssign &&
                                op.assign().kind_case() == v1::Value::kNested);
  }
  if (has_nested) {
    std::vector<v1::Operation> flat;
    flat.reserve(batch.operations_size());
    for (auto& op : *batch.mutable_operations()) {
      if (op.op_case() == v1::Operation::kAssign && op.assign().kind_case() == v1::Value::kNested) {
        NEREID_RETURN_IF_ERROR(common::ValidatePath(op.path()));
        NEREID_RETURN_IF_ERROR(Flatten(op.path(), std::move(*op.mutable_assign()), 0, &flat));
      } else {
        flat.push_back(std::move(op));
      }
    }
    batch.clear_operations();
    for (auto& op : flat) *batch.add_operations() = std::move(op);
  }

  int index = 0;
  for (auto& op : *batch.mutable_operations()) {
    NEREID_RETURN_IF_ERROR(
        CheckOperation(&op, now_us).WithContext("operation " + std::to_string(index) + ": "));
    ++index;
  }
  return Status::Ok();
}

}  // namespace nereid::wire
