// Pieces of the SQLite runs list (list_runs.cc) shared with its index-walked sort by a series
// summary (list_runs_series.cc): SQL text with its bound parameters, and the cursor's sort
// fingerprint. Private to store_sqlite.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "nereid/status.h"
#include "store/store.h"
#include "store_sqlite/db.h"

namespace nereid::store_sqlite {

using Param = std::variant<int64_t, double, std::string>;

struct Sql {
  std::string text;
  std::vector<Param> params;
  Sql& operator<<(std::string_view s) {
    text += s;
    return *this;
  }
  Sql& Bind(Param p) {
    text += '?';
    params.push_back(std::move(p));
    return *this;
  }
  Sql& operator<<(const Sql& other) {
    text += other.text;
    params.insert(params.end(), other.params.begin(), other.params.end());
    return *this;
  }
};

inline void BindParams(Stmt& stmt, const std::vector<Param>& params, int first = 1) {
  for (size_t i = 0; i < params.size(); ++i) {
    std::visit([&](const auto& v) { stmt.Bind(first + static_cast<int>(i), v); }, params[i]);
  }
}

// Which sort a cursor was made for: a cursor of another sort is refused.
inline std::string SortFingerprint(const store::ListRunsQuery& q) {
  return q.sort.path + ":" + std::to_string(static_cast<int>(q.sort.aggregate)) +
         (q.descending ? ":d" : ":a");
}

// A page's rows as read: (runs.id, the cursor that continues after the row).
using PageRows = std::vector<std::pair<int64_t, nlohmann::json>>;

// The summary column ("last", "min" or "max") that a sort by `f` walks along its index, or null
// when the sort is by anything else (:count has no index; a bare path may be a param or a string).
const char* SeriesSortColumn(const query::FieldRef& f);

// Up to query.limit + 1 rows (after query.offset, or after `cursor`) of the runs matching
// `filter` (SQL over runs r), sorted by the float series summary `col` of query.sort.path.
// InvalidArgument for a cursor whose value is not a number; errors of the database as they come.
Status SeriesSortedRows(Db& db, const store::ListRunsQuery& query, const char* col,
                        const Sql& filter, const std::optional<nlohmann::json>& cursor,
                        PageRows& rows);

}  // namespace nereid::store_sqlite
