// What the server accepts in a field write, beyond the path (common/path.h): the size and
// encoding of a string, a file's name, and which writes under sys/ a client may make. Shared by
// the server's batch validation (wire/validate.cc) and the client, which refuses such a write at
// the log call: sent, it would make the server refuse the whole batch, and every later record of
// the run would wait in the spool behind it. Stateless; safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>

#include "nereid/status.h"

namespace nereid::common {

// One string value, string-set member or string-series point: at most this many bytes of UTF-8.
inline constexpr size_t kMaxStringBytes = 1 << 20;

// InvalidArgument naming `what` when `s` is too long or not valid UTF-8.
Status CheckString(std::string_view what, std::string_view s);

// A file's name: 1..255 bytes of UTF-8, no '/', '\\' or control character, not "." or "..".
Status CheckFileName(std::string_view name);

// The kinds of write the sys/ rules tell apart.
enum class SysWrite {
  kString,           // assign a string (its value in `value`)
  kBool,             // assign a bool
  kDatetime,         // assign a datetime
  kStringSetChange,  // add or remove strings, or assign a string set
  kOther,            // any other assign, any series point, a file
};

// OK for a path outside sys/. For "sys" itself or under sys/, only: sys/name, sys/description
// (string), sys/state (one of running|succeeded|failed|aborted), sys/failed (bool), sys/tags
// (string set changes), sys/ping_time (datetime); anything else is InvalidArgument saying what is
// allowed.
Status CheckSysWrite(std::string_view path, SysWrite kind, std::string_view value = {});

}  // namespace nereid::common
