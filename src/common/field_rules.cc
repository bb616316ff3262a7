#include "common/field_rules.h"

#include <string>

#include "common/path.h"

namespace nereid::common {

Status CheckString(std::string_view what, std::string_view s) {
  if (s.size() > kMaxStringBytes) {
    return InvalidArgument(std::string(what) + " is " + std::to_string(s.size()) +
                           " bytes; the limit is " + std::to_string(kMaxStringBytes));
  }
  if (!IsValidUtf8(s)) return InvalidArgument(std::string(what) + " is not valid UTF-8");
  return Status::Ok();
}

Status CheckFileName(std::string_view name) {
  if (name.empty()) return InvalidArgument("the file has no name");
  NEREID_RETURN_IF_ERROR(CheckString("file name", name));
  if (name.size() > 255) return InvalidArgument("file name is longer than 255 bytes");
  for (unsigned char c : name) {
    if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
      return InvalidArgument("file name '" + std::string(name) +
                             "' contains '/', '\\' or a control character; give a plain name");
    }
  }
  if (name == "." || name == "..") {
    return InvalidArgument("file name '" + std::string(name) + "' is not allowed");
  }
  return Status::Ok();
}

Status CheckSysWrite(std::string_view path, SysWrite kind, std::string_view value) {
  if (path != "sys" && !path.starts_with("sys/")) return Status::Ok();
  const std::string quoted = "'" + std::string(path) + "'";
  if (path == "sys/name" || path == "sys/description") {
    if (kind == SysWrite::kString) return Status::Ok();
    return InvalidArgument(quoted + " takes a string");
  }
  if (path == "sys/state") {
    if (kind == SysWrite::kString &&
        (value == "running" || value == "succeeded" || value == "failed" || value == "aborted")) {
      return Status::Ok();
    }
    return InvalidArgument(
        "'sys/state' takes one of \"running\", \"succeeded\", \"failed\", \"aborted\"");
  }
  if (path == "sys/failed") {
    if (kind == SysWrite::kBool) return Status::Ok();
    return InvalidArgument("'sys/failed' takes a bool");
  }
  if (path == "sys/ping_time") {
    if (kind == SysWrite::kDatetime) return Status::Ok();
    return InvalidArgument("'sys/ping_time' takes a datetime");
  }
  if (path == "sys/tags") {
    if (kind == SysWrite::kStringSetChange) return Status::Ok();
    return InvalidArgument("'sys/tags' is a string set: add, remove or assign strings");
  }
  return InvalidArgument(quoted +
                         " is set by the server; writable sys/ fields are sys/name, "
                         "sys/description, sys/state, sys/failed, sys/tags, sys/ping_time");
}

}  // namespace nereid::common
