// The runs-table filter as SQL over `runs r`. The shape follows the SQLite backend
// (src/store_sqlite/list_runs.cc) so both backends answer every filter alike; the differences are
// PostgreSQL's: text compares in the "C" collation (byte order, as SQLite's BINARY, whatever the
// database's locale), booleans are real booleans, and `=~` is matched in C++ (below).
//
// Why not PostgreSQL's `~`: its regular expressions (ARE) are not ECMAScript's. `\b` is a
// backspace there and a word boundary here, `.` matches a newline there and not here, `\x41`
// takes any number of hex digits, `a{,3}` is an error there and a literal here. The filter
// language promises query::FilterRegex's semantics (checked when the filter is parsed), so each
// `=~` leaf reads the candidate values of the project's runs once, matches them with FilterRegex
// and becomes `r.id = ANY(<matching runs>)`. That set is exact, so counts and keyset paging stay
// correct; it is read in the same snapshot as the page.
#include <cmath>
#include <cstdlib>
#include <unordered_set>

#include "query/date_literal.h"
#include "query/regex_check.h"
#include "store/types.h"
#include "store_postgres/list_runs.h"
#include "store_postgres/schema.h"

namespace nereid::store_postgres {
using query::Aggregate;
using query::CompareOp;
using store::FieldType;

static_assert(static_cast<int>(FieldType::kFloat) == 0 && static_cast<int>(FieldType::kInt) == 1 &&
                  static_cast<int>(FieldType::kBool) == 2 &&
                  static_cast<int>(FieldType::kString) == 3 &&
                  static_cast<int>(FieldType::kDatetime) == 4 &&
                  static_cast<int>(FieldType::kStringSet) == 5 &&
                  static_cast<int>(FieldType::kFloatSeries) == 8 &&
                  static_cast<int>(FieldType::kStringSeries) == 9,
              "the SQL below spells field types as these numbers");

namespace {

constexpr SysColumn kSysColumns[] = {
    {"sys/id", "r.number", SysKind::kId, false},
    {"sys/custom_run_id", "r.custom_run_id", SysKind::kText, true},
    {"sys/name", "r.name", SysKind::kText, false},
    {"sys/description", "r.description", SysKind::kText, false},
    {"sys/state", "r.state", SysKind::kText, false},
    {"sys/owner", "r.owner", SysKind::kText, false},
    {"sys/creation_time", "r.created_us", SysKind::kTime, false},
    {"sys/modification_time", "r.modified_us", SysKind::kTime, false},
    {"sys/ping_time", "r.ping_us", SysKind::kTime, false},
    {"sys/size", "r.size_bytes", SysKind::kNum, false},
    {"sys/failed", "r.failed::int", SysKind::kBool, false},
    {"sys/tags", "NULL", SysKind::kTags, true},
};

const char* OpSql(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return " = ";
    case CompareOp::kNe:
      return " <> ";
    case CompareOp::kLt:
      return " < ";
    case CompareOp::kLe:
      return " <= ";
    case CompareOp::kGt:
      return " > ";
    case CompareOp::kGe:
      return " >= ";
    default:
      return nullptr;
  }
}

// Binds a number compared with a bigint column: as a bigint when it is a whole number in range,
// so an index on the column still applies (a float8 parameter would convert the column instead).
void NumberForBigint(Sql& out, double v) {
  if (v == std::floor(v) && std::fabs(v) < 9.0e18) {
    out.Int(static_cast<int64_t>(v));
  } else {
    out.Double(v);
  }
}

class Translator {
 public:
  Translator(PgConn& conn, int64_t project_id, std::string key)
      : conn_(conn), project_id_(project_id), key_(std::move(key)) {}

  Status Expr(const query::Expr& e, Sql& out, size_t depth = 0) {
    if (depth > 2 * query::kMaxFilterDepth) return InvalidArgument("filter: nested too deeply");
    switch (e.kind) {
      case query::Expr::Kind::kAnd:
      case query::Expr::Kind::kOr: {
        if (e.children.empty()) return InvalidArgument("filter: empty and/or");
        out << "(";
        for (size_t i = 0; i < e.children.size(); ++i) {
          if (i > 0) out << (e.kind == query::Expr::Kind::kAnd ? " AND " : " OR ");
          NEREID_RETURN_IF_ERROR(Expr(*e.children[i], out, depth + 1));
        }
        out << ")";
        return Status();
      }
      case query::Expr::Kind::kNot:
        if (e.children.size() != 1) return InvalidArgument("filter: 'not' needs one operand");
        out << "(NOT ";
        NEREID_RETURN_IF_ERROR(Expr(*e.children[0], out, depth + 1));
        out << ")";
        return Status();
      case query::Expr::Kind::kExists:
        return Exists(e.field, out);
      case query::Expr::Kind::kCompare: {
        // Every leaf below is built never to be NULL; COALESCE keeps it so should one slip.
        out << "COALESCE(";
        NEREID_RETURN_IF_ERROR(Compare(e, out));
        out << ", false)";
        return Status();
      }
    }
    return InvalidArgument("filter: unknown node");
  }

 private:
  Result<std::unique_ptr<query::FilterRegex>> CompileRegex(const std::string& pattern) {
    std::string problem;
    std::unique_ptr<query::FilterRegex> re = query::FilterRegex::Compile(pattern, &problem);
    if (re == nullptr) {
      return InvalidArgument("filter: invalid regular expression '" + pattern + "': " + problem);
    }
    return re;
  }

  // `r.id = ANY(runs of this project whose value, read by `values` as (runs.id, text), matches)`.
  Status MatchingRuns(const std::string& pattern, Sql values, Sql& out) {
    NEREID_ASSIGN_OR_RETURN(std::unique_ptr<query::FilterRegex> re, CompileRegex(pattern));
    PgParams params;
    const std::string text = values.Finish(&params);
    NEREID_ASSIGN_OR_RETURN(PgResult r, conn_.Query(text, params));
    std::vector<int64_t> ids;
    for (int i = 0; i < r.rows(); ++i) {
      if (!r.IsNull(i, 1) && re->Search(r.Raw(i, 1))) ids.push_back(r.Int(i, 0));
    }
    out << "r.id = ANY(";
    out.Ids(ids) << ")";
    return Status();
  }

  Status Exists(const query::FieldRef& f, Sql& out) {
    if (IsSysPath(f.path)) {
      const SysColumn* c = FindSysColumn(f.path);
      if (c == nullptr) return InvalidArgument("filter: unknown field '" + f.path + "'");
      if (c->kind == SysKind::kTags) {
        out << "EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id)";
      } else {
        out << "(" << c->expr << " IS NOT NULL)";
      }
      return Status();
    }
    if (f.aggregate == Aggregate::kNone) {
      out << "r.id IN (SELECT run_id FROM fields WHERE path = ";
      out.Text(f.path) << ")";
    } else {
      out << "r.id IN (SELECT run_id FROM series WHERE path = ";
      out.Text(f.path) << (f.aggregate == Aggregate::kCount ? ")" : " AND type = 8)");
    }
    return Status();
  }

  Status Compare(const query::Expr& e, Sql& out) {
    const query::FieldRef& f = e.field;
    if (IsSysPath(f.path)) return CompareSys(e, out);
    const char* op = OpSql(e.op);
    const double* d = std::get_if<double>(&e.literal);
    // A NaN literal equals nothing, as in SQLite (which binds NaN as NULL); PostgreSQL's float8
    // would call NaN = NaN true.
    if (d != nullptr && std::isnan(*d)) return False(out);
    if (f.aggregate != Aggregate::kNone) {
      if (d == nullptr || op == nullptr) return False(out);
      const char* col = f.aggregate == Aggregate::kLast  ? "last"
                        : f.aggregate == Aggregate::kMin ? "min"
                        : f.aggregate == Aggregate::kMax ? "max"
                                                         : "count";
      out << "r.id IN (SELECT run_id FROM series WHERE path = ";
      out.Text(f.path) << (f.aggregate == Aggregate::kCount ? "" : " AND type = 8") << " AND "
                       << col << op;
      out.Double(*d) << ")";
      return Status();
    }
    if (d != nullptr) {
      if (op == nullptr) return False(out);
      out << "r.id IN (SELECT run_id FROM fields WHERE path = ";
      out.Text(f.path) << " AND type IN (0, 1, 4) AND num" << op;
      out.Double(*d) << " UNION ALL SELECT run_id FROM series WHERE path = ";
      out.Text(f.path) << " AND type = 8 AND last" << op;
      out.Double(*d) << ")";
      return Status();
    }
    if (const bool* b = std::get_if<bool>(&e.literal)) {
      if (op == nullptr) return False(out);
      out << "r.id IN (SELECT run_id FROM fields WHERE path = ";
      out.Text(f.path) << " AND type = 2 AND int" << op;
      out.Int(*b ? 1 : 0) << ")";
      return Status();
    }
    const std::string& s = std::get<std::string>(e.literal);
    if (e.op == CompareOp::kMatches) {
      Sql values;
      values << "SELECT f.run_id, f.text FROM fields f JOIN runs r ON r.id = f.run_id "
                "WHERE r.project_id = ";
      values.Int(project_id_) << " AND f.path = ";
      values.Text(f.path) << " AND f.type = 3 UNION ALL SELECT s.run_id, s.last_text FROM series s "
                             "JOIN runs r ON r.id = s.run_id WHERE r.project_id = ";
      values.Int(project_id_) << " AND s.path = ";
      values.Text(f.path) << " AND s.type = 9";
      return MatchingRuns(s, std::move(values), out);
    }
    if (e.op == CompareOp::kContains) {
      // A string holds `s` as a substring; a string set (JSON array text) holds it as a member.
      out << "r.id IN (SELECT run_id FROM fields WHERE path = ";
      out.Text(f.path) << " AND ((type = 3 AND strpos(text, ";
      out.Text(s) << ") > 0) OR (type = 5 AND text::jsonb ? ";
      out.Text(s) << ")))";
      return Status();
    }
    out << "r.id IN (SELECT run_id FROM fields WHERE path = ";
    out.Text(f.path) << " AND type = 3";
    TextKeyCondition(e.op, s, out);
    out << " AND text COLLATE \"C\"" << op;
    out.Text(s) << " UNION ALL SELECT run_id FROM series WHERE path = ";
    out.Text(f.path) << " AND type = 9 AND last_text COLLATE \"C\"" << op;
    out.Text(s);
    if (std::optional<int64_t> us = query::ParseDateLiteralUs(s)) {
      out << " UNION ALL SELECT run_id FROM fields WHERE path = ";
      out.Text(f.path) << " AND type = 4 AND num" << op;
      out.Double(static_cast<double>(*us));
    }
    out << ")";
    return Status();
  }

  // fields_path_text holds only a prefix of each string (schema.cc), so a comparison of the
  // whole strings gets a condition on the prefixes that the index can serve. It is implied by
  // the comparison, so it changes no result: in byte order (UTF-8 orders as its code points),
  // cutting both strings after the same number of characters keeps their order or makes them
  // equal, so `a < b` implies `left(a) <= left(b)`, `a > b` implies `left(a) >= left(b)` and
  // `a = b` implies `left(a) = left(b)`. Nothing helps `<>`.
  static void TextKeyCondition(CompareOp cmp, const std::string& s, Sql& out) {
    const char* key_op = cmp == CompareOp::kEq                            ? " = "
                         : cmp == CompareOp::kLt || cmp == CompareOp::kLe ? " <= "
                         : cmp == CompareOp::kGt || cmp == CompareOp::kGe ? " >= "
                                                                          : nullptr;
    if (key_op == nullptr) return;
    const std::string n = std::to_string(kIndexedTextChars);
    out << " AND left(text, " << n << ") COLLATE \"C\"" << key_op << "left(";
    out.Text(s) << ", " << n << ")";
  }

  Status CompareSys(const query::Expr& e, Sql& out) {
    const SysColumn* c = FindSysColumn(e.field.path);
    if (c == nullptr) return InvalidArgument("filter: unknown field '" + e.field.path + "'");
    if (e.field.aggregate != Aggregate::kNone) {
      return InvalidArgument("filter: '" + e.field.path + "' is not a series");
    }
    const char* op = OpSql(e.op);
    const std::string* s = std::get_if<std::string>(&e.literal);
    const double* d = std::get_if<double>(&e.literal);
    const bool* b = std::get_if<bool>(&e.literal);
    switch (c->kind) {
      case SysKind::kText: {
        if (s == nullptr) return False(out);
        if (e.op == CompareOp::kMatches) {
          Sql values;
          values << "SELECT r.id, " << c->expr << " FROM runs r WHERE r.project_id = ";
          values.Int(project_id_);
          return MatchingRuns(*s, std::move(values), out);
        }
        if (e.op == CompareOp::kContains) {
          out << "(strpos(" << c->expr << ", ";
          out.Text(*s) << ") > 0)";
        } else {
          out << "(" << c->expr << " COLLATE \"C\"" << op;
          out.Text(*s) << ")";
        }
        return Status();
      }
      case SysKind::kNum:
      case SysKind::kTime: {
        std::optional<double> v;
        if (d != nullptr && !std::isnan(*d)) v = *d;
        if (s != nullptr && c->kind == SysKind::kTime) {
          std::optional<int64_t> us = query::ParseDateLiteralUs(*s);
          if (!us) return InvalidArgument("filter: '" + *s + "' is not a date (YYYY-MM-DD...)");
          v = static_cast<double>(*us);
        }
        if (!v || op == nullptr) return False(out);
        out << "(" << c->expr << op;
        NumberForBigint(out, *v);
        out << ")";
        return Status();
      }
      case SysKind::kBool:
        if (b == nullptr || op == nullptr) return False(out);
        out << "(" << c->expr << op;
        out.Int(*b ? 1 : 0) << ")";
        return Status();
      case SysKind::kTags:
        if (s == nullptr || e.op != CompareOp::kContains) return False(out);
        // md5(tag): the index on run_tags (a tag may be too long for a btree, schema.cc).
        out << "r.id IN (SELECT run_id FROM run_tags WHERE md5(tag) = md5(";
        out.Text(*s) << ") AND tag = ";
        out.Text(*s) << ")";
        return Status();
      case SysKind::kId:
        return CompareId(e.op, s, out);
    }
    return False(out);
  }

  // sys/id is "KEY-N": compared as the run number when the literal names a run of this project.
  Status CompareId(CompareOp cmp, const std::string* s, Sql& out) {
    if (s == nullptr) return False(out);
    if (cmp == CompareOp::kMatches) {
      Sql values;
      values << "SELECT r.id, ";
      values.Text(key_) << " || '-' || r.number FROM runs r WHERE r.project_id = ";
      values.Int(project_id_);
      return MatchingRuns(*s, std::move(values), out);
    }
    if (cmp == CompareOp::kContains) {
      out << "(strpos(";
      out.Text(key_) << " || '-' || r.number, ";
      out.Text(*s) << ") > 0)";
      return Status();
    }
    size_t dash = s->rfind('-');
    char* end = nullptr;
    long long number =
        dash == std::string::npos ? 0 : std::strtoll(s->c_str() + dash + 1, &end, 10);
    bool ours = dash != std::string::npos && s->substr(0, dash) == key_ && end != nullptr &&
                *end == '\0' && dash + 1 < s->size();
    if (!ours) return cmp == CompareOp::kNe ? True(out) : False(out);
    out << "(r.number" << OpSql(cmp);
    out.Int(number) << ")";
    return Status();
  }

  static Status False(Sql& out) {
    out << "false";
    return Status();
  }
  static Status True(Sql& out) {
    out << "true";
    return Status();
  }

  PgConn& conn_;
  int64_t project_id_;
  std::string key_;
};

}  // namespace

const SysColumn* FindSysColumn(std::string_view path) {
  for (const SysColumn& c : kSysColumns) {
    if (c.path == path) return &c;
  }
  return nullptr;
}

Status TranslateFilter(PgConn& conn, int64_t project_id, const std::string& project_key,
                       const query::Expr& filter, Sql& out) {
  return Translator(conn, project_id, project_key).Expr(filter, out);
}

}  // namespace nereid::store_postgres
