// Rules for field paths and names, shared by validation on ingest and by the filter language.
// The rules (documented in docs/http-api.md#paths):
//  - a path is '/'-separated segments, 1..1024 bytes of valid UTF-8 in all;
//  - no empty segment (so no leading, trailing or doubled '/'), no segment "." or "..";
//  - no control characters (U+0000-U+001F, U+007F), and none of  \ : ` "  (':' is reserved for
//    series aggregates in filters: train/loss:last).
#pragma once

#include <string_view>

#include "nereid/status.h"

namespace nereid::common {

inline constexpr size_t kMaxPathBytes = 1024;

// InvalidArgument with a message that names the path and the rule it breaks.
Status ValidatePath(std::string_view path);

bool IsValidUtf8(std::string_view s);

// Workspace and project names: 1-64 of [A-Za-z0-9_.-], starting with a letter or digit.
Status ValidateName(std::string_view what, std::string_view name);
// Project keys: 1-10 capitals A-Z.
Status ValidateProjectKey(std::string_view key);

}  // namespace nereid::common
