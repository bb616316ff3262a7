// The sys/ fields of a run (sys/id, sys/state, sys/tags ...), derived from RunInfo so that every
// backend reports them with the same paths, types and values.
//
// Thread-safety: free functions over values.
#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "store/types.h"

namespace nereid::store {

// Every sys/ field of `run`, ordered by path. sys/custom_run_id is left out when the run has none.
std::vector<Field> SysFields(const RunInfo& run);

// One sys/ field by path; nullopt for a path that is not a sys/ field (or an absent custom id).
std::optional<Field> SysField(const RunInfo& run, std::string_view path);

// Every sys/ path with its type, ordered by path (sys/custom_run_id included: some runs have it).
std::vector<std::pair<std::string_view, FieldType>> SysFieldTypes();

// True for the paths SysFields can report ("sys/id", "sys/name", ...).
bool IsSysFieldPath(std::string_view path);

}  // namespace nereid::store
