// ListRuns: one page of a project's runs, filtered, sorted, with the requested cells.
//
// Sorting puts missing values last in both directions and breaks ties by run number, and a key
// may be a number in one run and a string in another (numbers sort before strings, as in
// SQLite). Instead of one ORDER BY over a computed key (which must compute the key of every
// matching run before it can return the first row), the runs are read in groups, each with a key
// of one type and its own index-friendly query: ascending = numbers, strings, missing;
// descending = strings, numbers, missing. Each group's query is ORDER BY key, number LIMIT n with
// the keyset condition (key, number) > (v, n) as a row comparison, so PostgreSQL can walk an
// index such as runs(project_id, created_us, number) or series(path, last) and stop after n
// rows. The cursor names the group, the key and the number of the last row returned.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "store/codec.h"
#include "store/sys_fields.h"
#include "store_postgres/field_rows.h"
#include "store_postgres/list_runs.h"
#include "store_postgres/pg_store_impl.h"

namespace nereid::store_postgres {
using query::Aggregate;

namespace {

// What a group of runs is sorted by within itself.
enum class KeyType { kInt, kFloat, kText, kNone };

// One group of runs in the sort order (see the file comment).
struct Group {
  std::string name;  // in cursors: "num", "text" or "none"
  KeyType type = KeyType::kNone;
  std::string key;   // SQL of the key over `runs r` and `from`; empty for kNone
  Sql from;          // joined after `runs r` (the source of the key)
  Sql where;         // extra condition that selects the group, may be empty
};

Group NumberGroup(KeyType type, std::string key, Sql from = {}, Sql where = {}) {
  return {"num", type, std::move(key), std::move(from), std::move(where)};
}
Group TextGroup(std::string key, Sql from = {}, Sql where = {}) {
  return {"text", KeyType::kText, std::move(key), std::move(from), std::move(where)};
}
Group MissingGroup(Sql where = {}) { return {"none", KeyType::kNone, "", {}, std::move(where)}; }

// The groups of a sort field, in ascending order of their keys' types (numbers, strings,
// missing). Mirrors the SQLite backend's sort key (src/store_sqlite/list_runs.cc, SortKey).
Result<std::vector<Group>> SortGroups(const query::FieldRef& f) {
  std::vector<Group> out;
  if (IsSysPath(f.path)) {
    const SysColumn* c = FindSysColumn(f.path);
    if (c == nullptr) return InvalidArgument("unknown sort field '" + f.path + "'");
    switch (c->kind) {
      case SysKind::kTags:  // no order of its own: by run number
        out.push_back(MissingGroup());
        break;
      case SysKind::kText: {
        Sql present, absent;
        if (c->nullable) {
          present << c->expr << " IS NOT NULL";
          absent << c->expr << " IS NULL";
        }
        out.push_back(TextGroup(std::string(c->expr) + " COLLATE \"C\"", {}, std::move(present)));
        if (c->nullable) out.push_back(MissingGroup(std::move(absent)));
        break;
      }
      default:
        out.push_back(NumberGroup(KeyType::kInt, c->expr));
        break;
    }
    return out;
  }
  if (f.aggregate != Aggregate::kNone) {
    const char* col = f.aggregate == Aggregate::kLast  ? "last"
                      : f.aggregate == Aggregate::kMin ? "min"
                      : f.aggregate == Aggregate::kMax ? "max"
                                                       : "count";
    const char* type = f.aggregate == Aggregate::kCount ? "" : " AND k.type = 8";
    // A plain join on series (not a derived table) so the planner can walk series(path, last).
    Sql from, absent;
    from << " JOIN series k ON k.run_id = r.id AND k.path = ";
    from.Text(f.path) << type << " AND k." << col << " IS NOT NULL";
    absent << "NOT EXISTS (SELECT 1 FROM series k WHERE k.run_id = r.id AND k.path = ";
    absent.Text(f.path) << type << " AND k." << col << " IS NOT NULL)";
    out.push_back(NumberGroup(f.aggregate == Aggregate::kCount ? KeyType::kInt : KeyType::kFloat,
                              std::string("k.") + col, std::move(from)));
    out.push_back(MissingGroup(std::move(absent)));
    return out;
  }
  // A bare path: a number (float, int, datetime, bool as 0/1, a float series' last value) or a
  // string (a string, a string series' last value); a NaN is missing, as are sets and files.
  Sql numbers, strings, absent;
  numbers << " JOIN (SELECT run_id, num AS key FROM fields WHERE path = ";
  numbers.Text(f.path) << " AND type IN (0, 1, 4) AND num IS NOT NULL"
                          " UNION ALL SELECT run_id, int::float8 FROM fields WHERE path = ";
  numbers.Text(f.path) << " AND type = 2 UNION ALL SELECT run_id, last FROM series WHERE path = ";
  numbers.Text(f.path) << " AND type = 8 AND last IS NOT NULL) k ON k.run_id = r.id";
  strings << " JOIN (SELECT run_id, text COLLATE \"C\" AS key FROM fields WHERE path = ";
  strings.Text(f.path) << " AND type = 3 UNION ALL SELECT run_id, last_text COLLATE \"C\" "
                          "FROM series WHERE path = ";
  strings.Text(f.path) << " AND type = 9 AND last_text IS NOT NULL) k ON k.run_id = r.id";
  absent << "NOT EXISTS (SELECT 1 FROM fields f WHERE f.run_id = r.id AND f.path = ";
  absent.Text(f.path) << " AND (f.type IN (2, 3) OR (f.type IN (0, 1, 4) AND f.num IS NOT NULL)))"
                         " AND NOT EXISTS (SELECT 1 FROM series s WHERE s.run_id = r.id AND "
                         "s.path = ";
  absent.Text(f.path) << " AND ((s.type = 8 AND s.last IS NOT NULL) OR "
                         "(s.type = 9 AND s.last_text IS NOT NULL)))";
  out.push_back(NumberGroup(KeyType::kFloat, "k.key", std::move(numbers)));
  out.push_back(TextGroup("k.key", std::move(strings)));
  out.push_back(MissingGroup(std::move(absent)));
  return out;
}

// Groups in the order a page reads them: descending puts strings before numbers (the reverse of
// ascending) but missing values stay last.
std::vector<Group> InReadOrder(std::vector<Group> groups, bool descending) {
  if (descending) {
    auto missing = std::stable_partition(groups.begin(), groups.end(),
                                         [](const Group& g) { return g.type != KeyType::kNone; });
    std::reverse(groups.begin(), missing);
  }
  return groups;
}

std::string SortFingerprint(const store::ListRunsQuery& q) {
  return q.sort.path + ":" + std::to_string(static_cast<int>(q.sort.aggregate)) +
         (q.descending ? ":d" : ":a");
}

// Float keys in cursors: JSON has no infinities, so those travel as strings. (NaN never is a
// key: it is stored as NULL, i.e. missing.)
nlohmann::json FloatKeyJson(double v) {
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}
std::optional<double> FloatKey(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (v == "Infinity") return std::numeric_limits<double>::infinity();
  if (v == "-Infinity") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

// Where the previous page stopped.
struct Position {
  size_t group = 0;
  int64_t number = 0;
  nlohmann::json key;  // the last row's key; null in a group without keys
};

Result<Position> DecodePosition(const store::ListRunsQuery& query,
                                const std::vector<Group>& groups) {
  NEREID_ASSIGN_OR_RETURN(nlohmann::json c, store::DecodeCursor(query.cursor));
  const Status invalid = InvalidArgument("invalid cursor (the sort changed?)");
  if (c.value("f", "") != SortFingerprint(query) || !c.contains("g") || !c["g"].is_string() ||
      !c.contains("n") || !c["n"].is_number_integer() || !c.contains("v")) {
    return invalid;
  }
  Position p;
  const std::string name = c["g"].get<std::string>();
  while (p.group < groups.size() && groups[p.group].name != name) ++p.group;
  if (p.group == groups.size()) return invalid;
  p.number = c["n"].get<int64_t>();
  p.key = c["v"];
  const nlohmann::json& v = p.key;
  bool fits = false;
  switch (groups[p.group].type) {
    case KeyType::kInt:
      fits = v.is_number_integer();
      break;
    case KeyType::kFloat:
      fits = FloatKey(v).has_value();
      break;
    case KeyType::kText:
      fits = v.is_string();
      break;
    case KeyType::kNone:
      fits = v.is_null();
      break;
  }
  if (!fits) return invalid;
  return p;
}

// The query reading up to `limit` runs of `group`, after `after` when the page continues in it.
// The runs of the table (not in the trash) or of the trash (store/trash.h).
const char* TrashCondition(bool trashed) {
  return trashed ? " AND r.trashed_us IS NOT NULL" : " AND r.trashed_us IS NULL";
}

// FROM and WHERE of the runs of `group` that match the filter.
void GroupRuns(const Group& group, int64_t project_id, bool trashed, const Sql& filter, Sql& q) {
  q << " FROM runs r" << group.from << " WHERE r.project_id = ";
  q.Int(project_id);
  q << TrashCondition(trashed);
  if (!filter.empty()) q << " AND " << filter;
  if (!group.where.empty()) q << " AND " << group.where;
}

// How many runs `group` holds: what an offset that passes the whole group skips.
Sql GroupCountQuery(const Group& group, int64_t project_id, bool trashed, const Sql& filter) {
  Sql q;
  q << "SELECT count(*)";
  GroupRuns(group, project_id, trashed, filter, q);
  return q;
}

Sql GroupQuery(const Group& group, int64_t project_id, bool trashed, const Sql& filter,
               bool descending, const Position* after, int64_t limit, int64_t offset = 0) {
  const char* dir = descending ? " DESC" : " ASC";
  const char* past = descending ? " < " : " > ";
  Sql q;
  q << "SELECT r.id, r.number" << (group.type == KeyType::kNone ? "" : ", " + group.key);
  GroupRuns(group, project_id, trashed, filter, q);
  if (after != nullptr) {
    if (group.type == KeyType::kNone) {
      q << " AND r.number" << past;
      q.Int(after->number);
    } else {
      auto bind_key = [&] {
        switch (group.type) {
          case KeyType::kInt:
            q.Int(after->key.get<int64_t>());
            break;
          case KeyType::kFloat:
            q.Double(*FloatKey(after->key));
            break;
          default:
            q.Text(after->key.get<std::string>());
            break;
        }
      };
      // A row comparison: one index range over (key, number), not an OR of two conditions.
      q << " AND (" << group.key << ", r.number)" << past << "(";
      bind_key();
      q << ", ";
      q.Int(after->number) << ")";
      if (!group.from.empty()) {
        // Implied by the row comparison, but the key lives in another table than the number, so
        // only this lets the walk along the key's index (series(path, last)) start at the cursor
        // instead of at the top on every later page.
        q << " AND " << group.key << (descending ? " <= " : " >= ");
        bind_key();
      }
    }
  }
  q << " ORDER BY ";
  if (group.type != KeyType::kNone) q << group.key << dir << ", ";
  q << "r.number" << dir << " LIMIT ";
  q.Int(limit);
  if (offset > 0) {
    q << " OFFSET ";
    q.Int(offset);
  }
  return q;
}

nlohmann::json KeyJson(const PgResult& r, int row, KeyType type) {
  switch (type) {
    case KeyType::kInt:
      return r.Int(row, 2);
    case KeyType::kFloat:
      return FloatKeyJson(r.Double(row, 2));
    case KeyType::kText:
      return r.Text(row, 2);
    case KeyType::kNone:
      break;
  }
  return nullptr;
}

// The cell of `column` for a run, from its field row (nullptr when the run lacks the path).
// Mirrors the SQLite backend's ReadCell.
store::Cell CellOf(const store::Field* f, Aggregate aggregate) {
  if (f == nullptr) return store::Cell();
  if (!store::IsSeries(f->type)) {
    return aggregate == Aggregate::kNone ? f->value : store::Cell();
  }
  const store::SeriesSummary& s = *f->series;
  if (aggregate == Aggregate::kCount) return store::Cell(static_cast<int64_t>(s.count));
  if (s.count == 0) return store::Cell();
  if (f->type == store::FieldType::kFloatSeries) {
    if (aggregate == Aggregate::kMin) return s.has_min_max ? store::Cell(s.min) : store::Cell();
    if (aggregate == Aggregate::kMax) return s.has_min_max ? store::Cell(s.max) : store::Cell();
    return store::Cell(s.last);
  }
  if (aggregate != Aggregate::kNone && aggregate != Aggregate::kLast) return store::Cell();
  if (f->type == store::FieldType::kStringSeries) return store::Cell(s.last_string);
  return s.last_file ? store::Cell(*s.last_file) : store::Cell();
}

// Everything ListRuns and ExplainListRuns share: the project, the filter and the sort groups.
struct Prepared {
  int64_t project_id = 0;
  bool trashed = false;  // ListRunsQuery::trashed
  Sql filter;            // empty = every run
  std::vector<Group> groups;
};

Result<Prepared> Prepare(PgConn& c, const store::ListRunsQuery& query) {
  Prepared p;
  NEREID_ASSIGN_OR_RETURN(p.project_id, ResolveProject(c, query.project));
  p.trashed = query.trashed;
  NEREID_ASSIGN_OR_RETURN(std::vector<Group> groups, SortGroups(query.sort));
  p.groups = InReadOrder(std::move(groups), query.descending);
  if (query.filter != nullptr) {
    NEREID_ASSIGN_OR_RETURN(
        PgResult key,
        c.Query("SELECT key FROM projects WHERE id = $1", PgParams().Int(p.project_id)));
    if (key.rows() == 0) return NotFound("project '" + query.project + "' not found");
    NEREID_RETURN_IF_ERROR(
        TranslateFilter(c, p.project_id, key.Text(0, 0), *query.filter, p.filter));
  }
  return p;
}

Sql CountQuery(const Prepared& p) {
  Sql count;
  count << "SELECT count(*) FROM runs r WHERE r.project_id = ";
  count.Int(p.project_id);
  count << TrashCondition(p.trashed);
  if (!p.filter.empty()) count << " AND " << p.filter;
  return count;
}

Result<PgResult> Run(PgConn& c, const Sql& sql) {
  PgParams params;
  const std::string text = sql.Finish(&params);
  return c.Query(text, params);
}

// The cells of `columns` for the runs `ids`: every field row they need in one query.
Status FillCells(PgConn& c, const std::vector<int64_t>& ids,
                 const std::vector<query::FieldRef>& columns, std::vector<store::RunRow>& rows) {
  std::vector<std::string> paths;
  for (const query::FieldRef& col : columns) {
    if (!IsSysPath(col.path)) paths.push_back(col.path);
  }
  std::map<std::pair<int64_t, std::string>, store::Field> found;
  if (!paths.empty() && !ids.empty()) {
    Sql q;
    q << "SELECT f.run_id, f.path, " << kFieldRowColumns
      << " FROM fields f LEFT JOIN series s ON s.run_id = f.run_id AND s.path = f.path "
         "WHERE f.run_id = ANY(";
    q.Ids(ids) << ") AND f.path = ANY(";
    q.Texts(paths) << ")";
    NEREID_ASSIGN_OR_RETURN(PgResult r, Run(c, q));
    for (int i = 0; i < r.rows(); ++i) {
      found[{r.Int(i, 0), r.Text(i, 1)}] = ReadFieldRow(r, i, 2);
    }
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    for (const query::FieldRef& col : columns) {
      if (IsSysPath(col.path)) {
        std::optional<store::Field> f =
            col.aggregate == Aggregate::kNone ? store::SysField(rows[i].run, col.path)
                                              : std::nullopt;
        rows[i].cells.push_back(f ? f->value : store::Cell());
        continue;
      }
      auto it = found.find({ids[i], col.path});
      rows[i].cells.push_back(CellOf(it == found.end() ? nullptr : &it->second, col.aggregate));
    }
  }
  return Status();
}

}  // namespace

Result<store::RunPage> PgStore::ListRuns(const store::ListRunsQuery& query) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_RETURN_IF_ERROR(store::CheckListRunsQuery(query));
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool().Borrow());
  store::RunPage page;
  // One snapshot for the regex matches, the count and every group of the page.
  NEREID_RETURN_IF_ERROR(Transact(
      *conn,
      [&](PgConn& c) -> Status {
        page = store::RunPage();
        NEREID_ASSIGN_OR_RETURN(Prepared p, Prepare(c, query));
        std::optional<Position> after;
        if (!query.cursor.empty()) {
          NEREID_ASSIGN_OR_RETURN(after, DecodePosition(query, p.groups));
        }
        if (query.count_total) {
          NEREID_ASSIGN_OR_RETURN(PgResult count, Run(c, CountQuery(p)));
          page.total = static_cast<uint64_t>(count.Int(0, 0));
        }
        // One more row than asked: whether it exists says whether there is a next page.
        const size_t want = size_t{query.limit} + 1;
        std::vector<int64_t> ids;
        std::vector<nlohmann::json> positions;  // the cursor after each row
        // The offset's rows not yet skipped. A group that returns rows with OFFSET skip held
        // more than skip rows, so the skipping ends there; one that returns none held at most
        // skip rows and is counted to know how many of them it skipped.
        int64_t skip = static_cast<int64_t>(query.offset);
        for (size_t g = after ? after->group : 0; g < p.groups.size() && ids.size() < want; ++g) {
          const Group& group = p.groups[g];
          const Position* from = after && after->group == g ? &*after : nullptr;
          NEREID_ASSIGN_OR_RETURN(
              PgResult r,
              Run(c, GroupQuery(group, p.project_id, p.trashed, p.filter, query.descending, from,
                                static_cast<int64_t>(want - ids.size()), skip)));
          if (skip > 0) {
            if (r.rows() > 0) {
              skip = 0;
            } else {
              NEREID_ASSIGN_OR_RETURN(
                  PgResult n, Run(c, GroupCountQuery(group, p.project_id, p.trashed, p.filter)));
              skip -= std::min(skip, n.Int(0, 0));
              continue;
            }
          }
          for (int i = 0; i < r.rows(); ++i) {
            ids.push_back(r.Int(i, 0));
            positions.push_back(nlohmann::json{{"f", SortFingerprint(query)},
                                               {"g", group.name},
                                               {"n", r.Int(i, 1)},
                                               {"v", KeyJson(r, i, group.type)}});
          }
        }
        if (ids.size() > query.limit) {
          ids.pop_back();
          positions.pop_back();
          page.next_cursor = store::EncodeCursor(positions.back());
        }
        NEREID_ASSIGN_OR_RETURN(std::vector<store::RunInfo> runs, LoadRunInfos(c, ids));
        for (store::RunInfo& run : runs) page.rows.push_back(store::RunRow{std::move(run), {}});
        return FillCells(c, ids, query.columns, page.rows);
      },
      "REPEATABLE READ READ ONLY"));
  return page;
}

Result<std::vector<std::string>> ExplainListRuns(PgConn& conn, const store::ListRunsQuery& query,
                                                 std::string_view options) {
  std::vector<std::string> plans;
  NEREID_RETURN_IF_ERROR(Transact(
      conn,
      [&](PgConn& c) -> Status {
        plans.clear();
        NEREID_ASSIGN_OR_RETURN(Prepared p, Prepare(c, query));
        std::optional<Position> after;
        if (!query.cursor.empty()) {
          NEREID_ASSIGN_OR_RETURN(after, DecodePosition(query, p.groups));
        }
        std::vector<Sql> statements;
        statements.push_back(CountQuery(p));
        for (size_t g = after ? after->group : 0; g < p.groups.size(); ++g) {
          const Position* from = after && after->group == g ? &*after : nullptr;
          statements.push_back(GroupQuery(p.groups[g], p.project_id, p.trashed, p.filter,
                                          query.descending, from, query.limit + 1,
                                          static_cast<int64_t>(query.offset)));
        }
        for (const Sql& s : statements) {
          Sql explain;
          explain << "EXPLAIN (" << options << ") " << s;
          NEREID_ASSIGN_OR_RETURN(PgResult r, Run(c, explain));
          std::string plan;
          for (int i = 0; i < r.rows(); ++i) plan += r.Text(i, 0) + "\n";
          plans.push_back(std::move(plan));
        }
        return Status();
      },
      "REPEATABLE READ READ ONLY"));
  return plans;
}

}  // namespace nereid::store_postgres
