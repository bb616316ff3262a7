// PgStore: a run's fields (GetFields), a project's field list (ListProjectFields) and the file held
// by a file field or file series (GetFile).
#include <algorithm>

#include "series/float_chunk.h"
#include "store/codec.h"
#include "store/sys_fields.h"
#include "store_postgres/field_rows.h"
#include "store_postgres/pg_store_impl.h"

namespace nereid::store_postgres {
using store::FieldType;

namespace {

store::Value DecodeValue(FieldType type, const PgResult& r, int row, int num_col) {
  const int int_col = num_col + 1, text_col = num_col + 2;
  switch (type) {
    case FieldType::kFloat:
      return r.Double(row, num_col);  // NULL (a stored NaN) reads as NaN
    case FieldType::kInt:
      return r.Int(row, int_col);
    case FieldType::kBool:
      return r.Int(row, int_col) != 0;
    case FieldType::kString:
      return r.Text(row, text_col);
    case FieldType::kDatetime:
      return store::Datetime{r.Int(row, int_col)};
    case FieldType::kStringSet:
      return store::DecodeStringSet(r.Raw(row, text_col));
    case FieldType::kFile: {
      std::optional<store::FileInfo> f = store::DecodeFile(r.Raw(row, text_col));
      return f ? store::Value(*f) : store::Value();
    }
    case FieldType::kFileSet:
      return store::DecodeFileSet(r.Raw(row, text_col));
    default:
      return std::monostate();
  }
}

store::SeriesSummary DecodeSummary(FieldType type, const PgResult& r, int row, int c) {
  // c: s.count, then last_step, last_ts, last, min, max, last_text.
  store::SeriesSummary s;
  s.count = static_cast<uint64_t>(r.Int(row, c));
  s.last_step = s.count == 0 ? 0 : r.Double(row, c + 1);
  s.last_timestamp_us = r.Int(row, c + 2);
  if (type == FieldType::kFloatSeries) {
    s.last = r.Double(row, c + 3);
    s.has_min_max = !r.IsNull(row, c + 4);
    if (s.has_min_max) {
      s.min = r.Double(row, c + 4);
      s.max = r.Double(row, c + 5);
    }
  } else if (type == FieldType::kStringSeries) {
    s.last_string = r.Text(row, c + 6);
  } else if (s.count > 0) {
    s.last_file = store::DecodeFile(r.Raw(row, c + 6));
  }
  return s;
}

// "params" is the subtree params/...; "params/o" is not a prefix of "params/opt".
bool UnderPrefix(std::string_view path, std::string_view prefix) {
  if (prefix.empty()) return true;
  return path == prefix || (path.size() > prefix.size() &&
                            path.substr(0, prefix.size()) == prefix && path[prefix.size()] == '/');
}

}  // namespace

store::Field ReadFieldRow(const PgResult& r, int row, int col) {
  store::Field f;
  f.type = static_cast<FieldType>(r.Int(row, col));
  if (store::IsSeries(f.type)) {
    f.series = DecodeSummary(f.type, r, row, col + 4);
  } else {
    f.value = DecodeValue(f.type, r, row, col + 1);
  }
  return f;
}

Result<std::vector<store::Field>> PgStore::GetFields(std::string_view run_id,
                                                     std::string_view prefix) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool().Borrow());
  std::vector<store::Field> out;
  // One snapshot: the sys/ fields and the others describe the same moment.
  NEREID_RETURN_IF_ERROR(Transact(
      *conn,
      [&](PgConn& c) -> Status {
        out.clear();
        NEREID_ASSIGN_OR_RETURN(RunKey key, ResolveRun(c, run_id));
        if (prefix.empty() || UnderPrefix(prefix, "sys")) {
          NEREID_ASSIGN_OR_RETURN(store::RunInfo run, LoadRunInfo(c, key.id));
          for (store::Field& f : store::SysFields(run)) {
            if (UnderPrefix(f.path, prefix)) out.push_back(std::move(f));
          }
        }
        // starts_with compares bytes whatever the database's collation, unlike a range on path.
        NEREID_ASSIGN_OR_RETURN(
            PgResult r,
            c.Query(std::string("SELECT f.path, ") + kFieldRowColumns +
                        " FROM fields f LEFT JOIN series s ON s.run_id = f.run_id AND "
                        "s.path = f.path WHERE f.run_id = $1 AND ($2::text = '' OR "
                        "f.path = $2::text OR starts_with(f.path, $2::text || '/'))",
                    PgParams().Int(key.id).Text(prefix)));
        for (int i = 0; i < r.rows(); ++i) {
          store::Field f = ReadFieldRow(r, i, 1);
          f.path = r.Text(i, 0);
          out.push_back(std::move(f));
        }
        return Status();
      },
      "REPEATABLE READ READ ONLY"));
  // Byte order, as std::string compares (the SQLite backend's order), not the collation's.
  std::stable_sort(out.begin(), out.end(),
                   [](const store::Field& a, const store::Field& b) { return a.path < b.path; });
  return out;
}

Result<store::FieldList> PgStore::ListProjectFields(const store::FieldListQuery& query) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_RETURN_IF_ERROR(store::ValidateFieldListQuery(query));
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(*conn, query.project));
  // path is COLLATE "C" (schema.cc): [prefix, PrefixEnd) is a range of the primary key.
  const std::string end = store::PrefixEnd(query.prefix);
  const int64_t limit = static_cast<int64_t>(query.limit) + 1;  // one more tells "truncated"
  PgParams p;
  p.Int(project_id).Text(query.prefix);
  if (!end.empty()) p.Text(end);
  p.Int(limit);
  NEREID_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query(end.empty() ? "SELECT path, type FROM project_fields WHERE project_id = $1 "
                                "AND path >= $2 ORDER BY path, type LIMIT $3"
                              : "SELECT path, type FROM project_fields WHERE project_id = $1 "
                                "AND path >= $2 AND path < $3 ORDER BY path, type LIMIT $4",
                  p));
  std::vector<store::ProjectField> rows;
  rows.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    rows.push_back({r.Text(i, 0), static_cast<FieldType>(r.Int(i, 1))});
  }
  return store::MergeFieldList(std::move(rows), query);
}

Result<store::FileInfo> PgStore::GetFile(std::string_view run_id, std::string_view path,
                                         std::optional<double> step) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  const std::string p(path);
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool().Borrow());
  store::FileInfo out;
  NEREID_RETURN_IF_ERROR(Transact(
      *conn,
      [&](PgConn& c) -> Status {
        NEREID_ASSIGN_OR_RETURN(RunKey run, ResolveRun(c, run_id));
        NEREID_ASSIGN_OR_RETURN(
            PgResult field,
            c.Query("SELECT f.type, f.text, s.id, s.count, s.last_text FROM fields f "
                    "LEFT JOIN series s ON s.run_id = f.run_id AND s.path = f.path "
                    "WHERE f.run_id = $1 AND f.path = $2",
                    PgParams().Int(run.id).Text(p)));
        if (field.rows() == 0) return NotFound("field '" + p + "' not found");
        const auto type = static_cast<FieldType>(field.Int(0, 0));
        std::string_view reference;
        if (type == FieldType::kFile) {
          reference = field.Raw(0, 1);
        } else if (type != FieldType::kFileSeries) {
          return InvalidArgument("field '" + p + "' is a " +
                                 std::string(store::FieldTypeName(type)) +
                                 ", not a file or file series");
        } else if (field.IsNull(0, 2)) {
          return DataLoss("file series '" + p + "' has no series row");
        } else if (!step) {
          if (field.Int(0, 3) == 0) return NotFound("file series '" + p + "' is empty");
          reference = field.Raw(0, 4);
        }
        std::optional<std::string> at_step;
        if (type == FieldType::kFileSeries && step) {
          // The last point to arrive at `step`: chunks covering it in arrival order (seq), and
          // within a chunk the later point wins.
          NEREID_ASSIGN_OR_RETURN(
              PgResult chunks,
              c.Query("SELECT d.data FROM chunks k JOIN chunk_data d ON d.chunk_id = k.id "
                      "WHERE k.series_id = $1 AND k.step_min <= $2 AND k.step_max >= $2 "
                      "ORDER BY k.seq",
                      PgParams().Int(field.Int(0, 2)).Double(*step), PgFormat::kBinary));
          for (int i = 0; i < chunks.rows(); ++i) {
            NEREID_ASSIGN_OR_RETURN(std::vector<series::StringPoint> points,
                                    series::DecodeStringChunk(chunks.Raw(i, 0)));
            for (series::StringPoint& pt : points) {
              if (pt.step == *step) at_step = std::move(pt.value);
            }
          }
          if (!at_step) return NotFound("file series '" + p + "' has no point at that step");
          reference = *at_step;
        }
        std::optional<store::FileInfo> f = store::DecodeFile(reference);
        if (!f) return DataLoss("field '" + p + "' holds a malformed file reference");
        out = std::move(*f);
        return Status();
      },
      "REPEATABLE READ READ ONLY"));
  return out;
}

}  // namespace nereid::store_postgres
