// Private to store_postgres: the pieces of ListRuns (list_runs.cc) and its filter translation
// (list_runs_filter.cc), and ExplainListRuns for reading the plans of the statements it runs.
//
// Thread-safety: values and free functions; each call uses only the connection it is given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "query/filter.h"
#include "store/store.h"
#include "store_postgres/pg.h"
#include "store_postgres/sql_builder.h"

namespace nereid::store_postgres {

// How a sys/ field is held in `runs r`.
enum class SysKind { kText, kNum, kBool, kTime, kTags, kId };
struct SysColumn {
  std::string_view path;
  const char* expr;  // over `runs r`; an integer for kNum, kTime, kBool and kId
  SysKind kind;
  bool nullable;     // only sys/custom_run_id: NULL when the run has none
};
// nullptr for a path that is not a sys/ field.
const SysColumn* FindSysColumn(std::string_view path);
inline bool IsSysPath(std::string_view path) { return path.substr(0, 4) == "sys/"; }

// Translates a filter tree into one SQL condition over `runs r` that is never NULL: a comparison
// with a field a run lacks, or of a type the literal does not match, is false, also under `not`
// (src/store/README.md). Regular expressions (`=~`) are matched here, in C++, with
// query::FilterRegex (see list_runs_filter.cc for why), against the values of the project's runs
// read through `conn`; the condition then names the matching runs, so call it inside the
// transaction (snapshot) the rest of the listing uses.
// InvalidArgument for unknown sys/ fields, bad dates and bad regular expressions.
Status TranslateFilter(PgConn& conn, int64_t project_id, const std::string& project_key,
                       const query::Expr& filter, Sql& out);

// The plans of the statements ListRuns runs for the page of `query` (the count, then the query of
// each group of sort keys the page may read, from the cursor's group on), each as PostgreSQL's
// EXPLAIN text with `options` (e.g. "ANALYZE, COSTS OFF"). For tests and for reading plans.
Result<std::vector<std::string>> ExplainListRuns(PgConn& conn, const store::ListRunsQuery& query,
                                                 std::string_view options);

}  // namespace nereid::store_postgres
