#include "store_migrate/migrate_store.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>

#include "store/blob_store.h"
#include "store_postgres/pg.h"
#include "store_postgres/schema.h"

namespace nereid::store_migrate {
namespace {

namespace fs = std::filesystem;
using store_postgres::PgConn;
using store_postgres::PgFormat;
using store_postgres::PgParams;
using store_postgres::PgResult;

// Parents before children, so foreign keys hold at every row. A table not listed here (added by a
// later schema) is copied after these, in name order.
const std::vector<std::string> kTableOrder = {"workspaces",
                                              "projects",
                                              "runs",
                                              "run_tags",
                                              "fields",
                                              "series",
                                              "chunks",
                                              "chunk_data",
                                              "writers",
                                              "blobs",
                                              "settings",
                                              "users",
                                              "tokens",
                                              "workspace_members",
                                              "project_members",
                                              "sessions",
                                              "workspace_limits",
                                              "notebooks",
                                              "notebook_checkpoints"};

// How a column is compared and copied, from its PostgreSQL type.
enum class Kind { kInt, kBool, kDouble, kText, kBytes };

Result<Kind> KindOf(const std::string& pg_type, const std::string& where) {
  if (pg_type == "bigint" || pg_type == "integer" || pg_type == "smallint") return Kind::kInt;
  if (pg_type == "boolean") return Kind::kBool;
  if (pg_type == "double precision" || pg_type == "real") return Kind::kDouble;
  if (pg_type == "text" || pg_type == "character varying") return Kind::kText;
  if (pg_type == "bytea") return Kind::kBytes;
  return Internal(where + " has PostgreSQL type '" + pg_type +
                  "', which migrate-store cannot copy");
}

// One cell in the canonical form both sides hash: a type tag, then the value's bytes. Doubles by
// their bit pattern, so -0.0 and 0.0 differ and the comparison is exact.
class Digest {
 public:
  Digest() : md_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(md_, EVP_sha256(), nullptr); }
  ~Digest() { EVP_MD_CTX_free(md_); }
  void Null() { Add("N", 1); }
  void Int(int64_t v) {
    Add("I", 1);
    Add(&v, sizeof v);
  }
  void Double(double v) {
    Add("D", 1);
    Add(&v, sizeof v);
  }
  void Bytes(std::string_view v) {
    uint64_t n = v.size();
    Add("B", 1);
    Add(&n, sizeof n);
    Add(v.data(), v.size());
  }
  std::string Hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(md_, out, &n);
    static const char* kHex = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < n; ++i) {
      s.push_back(kHex[out[i] >> 4]);
      s.push_back(kHex[out[i] & 15]);
    }
    return s;
  }

 private:
  void Add(const void* p, size_t n) { EVP_DigestUpdate(md_, p, n); }
  EVP_MD_CTX* md_;
};

// COPY ... FROM STDIN text format: backslash escapes, \N for NULL.
void AppendCopyText(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
}

void AppendCopyDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
  }
}

void AppendCopyBytes(std::string& out, std::string_view v) {
  static const char* kHex = "0123456789abcdef";
  out += "\\\\x";  // bytea's hex input form, its backslash escaped for COPY
  for (unsigned char c : v) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
}

struct Column {
  std::string name;
  Kind kind;
};

struct Table {
  std::string name;
  std::vector<Column> columns;
  std::vector<std::string> order_by;  // primary key columns
};

class Sqlite {
 public:
  ~Sqlite() {
    if (db_) sqlite3_close_v2(db_);
  }
  Status Open(const fs::path& file) {
    if (!fs::exists(file))
      return NotFound(file.string() + " does not exist (is --from the server's --data?)");
    int rc = sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
    if (rc != SQLITE_OK)
      return Internal("cannot open " + file.string() + ": " + sqlite3_errmsg(db_));
    sqlite3_busy_timeout(db_, 10000);
    return Status();
  }
  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "?";
      sqlite3_free(err);
      return Internal(std::string("sqlite: ") + m);
    }
    return Status();
  }
  // Runs `sql`, calling `row` for each result row.
  Status Each(const std::string& sql, const std::function<Status(sqlite3_stmt*)>& row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      return Internal("sqlite: " + std::string(sqlite3_errmsg(db_)) + " in: " + sql);
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, &sqlite3_finalize);
    for (;;) {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) return Status();
      if (rc != SQLITE_ROW) return Internal("sqlite: " + std::string(sqlite3_errmsg(db_)));
      NEREID_RETURN_IF_ERROR(row(st));
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string Quoted(const std::string& ident) {
  return "\"" + ident + "\"";
}

std::string SelectSql(const Table& t, bool postgres) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < t.columns.size(); ++i) {
    sql += (i ? ", " : "") + Quoted(t.columns[i].name);
  }
  sql += " FROM " + Quoted(t.name) + " ORDER BY ";
  for (size_t i = 0; i < t.order_by.size(); ++i) {
    sql += (i ? ", " : "") + Quoted(t.order_by[i]);
    // SQLite orders text bytewise (BINARY); the "C" collation does the same in PostgreSQL.
    for (const Column& c : t.columns) {
      if (postgres && c.name == t.order_by[i] && c.kind == Kind::kText) sql += " COLLATE \"C\"";
    }
  }
  return sql;
}

// Reads the source table in key order: hashes each row and appends it to the COPY stream, which
// is flushed to PostgreSQL every few MiB.
Status CopyTable(Sqlite& src, PgConn& dst, const Table& t, TableCopy& out) {
  std::string copy = "COPY " + Quoted(t.name) + " (";
  for (size_t i = 0; i < t.columns.size(); ++i) copy += (i ? ", " : "") + Quoted(t.columns[i].name);
  copy += ") FROM STDIN";
  PGresult* r = PQexec(dst.raw(), copy.c_str());
  ExecStatusType st = PQresultStatus(r);
  std::string err = st == PGRES_COPY_IN ? "" : PQresultErrorMessage(r);
  PQclear(r);
  if (!err.empty()) return Internal("postgres: " + copy + ": " + err);

  Digest digest;
  std::string buf;
  Status failed;
  auto flush = [&]() -> Status {
    if (buf.empty()) return Status();
    if (PQputCopyData(dst.raw(), buf.data(), static_cast<int>(buf.size())) != 1) {
      return Unavailable("postgres: COPY " + t.name + ": " + PQerrorMessage(dst.raw()));
    }
    buf.clear();
    return Status();
  };
  Status s = src.Each(SelectSql(t, false), [&](sqlite3_stmt* q) -> Status {
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (i) buf.push_back('\t');
      int c = static_cast<int>(i);
      if (sqlite3_column_type(q, c) == SQLITE_NULL) {
        buf += "\\N";
        digest.Null();
        continue;
      }
      switch (t.columns[i].kind) {
        case Kind::kInt: {
          int64_t v = sqlite3_column_int64(q, c);
          buf += std::to_string(v);
          digest.Int(v);
          break;
        }
        case Kind::kBool: {
          int64_t v = sqlite3_column_int64(q, c) != 0;
          buf += v ? "t" : "f";
          digest.Int(v);
          break;
        }
        case Kind::kDouble: {
          double v = sqlite3_column_double(q, c);
          AppendCopyDouble(buf, v);
          digest.Double(v);
          break;
        }
        case Kind::kText:
        case Kind::kBytes: {
          const void* p = t.columns[i].kind == Kind::kText
                              ? static_cast<const void*>(sqlite3_column_text(q, c))
                              : sqlite3_column_blob(q, c);
          std::string_view v(static_cast<const char*>(p),
                             static_cast<size_t>(sqlite3_column_bytes(q, c)));
          if (t.columns[i].kind == Kind::kText) {
            AppendCopyText(buf, v);
          } else {
            AppendCopyBytes(buf, v);
          }
          digest.Bytes(v);
          break;
        }
      }
    }
    buf.push_back('\n');
    ++out.rows;
    return buf.size() > (4 << 20) ? flush() : Status();
  });
  if (s.ok()) s = flush();
  if (PQputCopyEnd(dst.raw(), s.ok() ? nullptr : "source read failed") != 1) {
    return Unavailable("postgres: COPY " + t.name + ": " + PQerrorMessage(dst.raw()));
  }
  r = PQgetResult(dst.raw());
  st = PQresultStatus(r);
  err = st == PGRES_COMMAND_OK ? "" : PQresultErrorMessage(r);
  PQclear(r);
  while ((r = PQgetResult(dst.raw())) != nullptr) PQclear(r);
  NEREID_RETURN_IF_ERROR(s);
  if (!err.empty()) return Internal("postgres: COPY " + t.name + ": " + err);
  out.table = t.name;
  out.sha256 = digest.Hex();
  return Status();
}

// Reads the copied table back from PostgreSQL through a cursor (bounded memory) and computes the
// same canonical digest.
Status VerifyTable(PgConn& dst, const Table& t, const TableCopy& copied) {
  NEREID_RETURN_IF_ERROR(
      dst.ExecScript("DECLARE verify NO SCROLL CURSOR FOR " + SelectSql(t, true)));
  Digest digest;
  int64_t rows = 0;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(PgResult r,
                            dst.Query("FETCH 2000 FROM verify", PgParams(), PgFormat::kBinary));
    if (r.rows() == 0) break;
    for (int row = 0; row < r.rows(); ++row, ++rows) {
      for (size_t i = 0; i < t.columns.size(); ++i) {
        int c = static_cast<int>(i);
        if (r.IsNull(row, c)) {
          digest.Null();
          continue;
        }
        switch (t.columns[i].kind) {
          case Kind::kInt:
          case Kind::kBool:
            digest.Int(r.Int(row, c));
            break;
          case Kind::kDouble:
            digest.Double(r.Double(row, c));
            break;
          case Kind::kText:
          case Kind::kBytes:
            digest.Bytes(r.Raw(row, c));
            break;
        }
      }
    }
  }
  NEREID_RETURN_IF_ERROR(dst.ExecScript("CLOSE verify"));
  std::string sha = digest.Hex();
  if (rows != copied.rows || sha != copied.sha256) {
    return DataLoss("verification of table " + t.name + " failed: source " +
                    std::to_string(copied.rows) + " rows, sha256 " + copied.sha256 +
                    "; PostgreSQL " + std::to_string(rows) + " rows, sha256 " + sha);
  }
  return Status();
}

Result<std::vector<Table>> PlanTables(Sqlite& src, PgConn& dst) {
  std::vector<std::string> names;
  NEREID_RETURN_IF_ERROR(
      src.Each("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
               "AND name <> 'meta' ORDER BY name",
               [&](sqlite3_stmt* q) {
                 names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
                 return Status();
               }));
  std::vector<std::string> ordered;
  for (const std::string& n : kTableOrder) {
    if (std::find(names.begin(), names.end(), n) != names.end()) ordered.push_back(n);
  }
  for (const std::string& n : names) {
    if (std::find(ordered.begin(), ordered.end(), n) == ordered.end()) ordered.push_back(n);
  }
  std::vector<Table> tables;
  for (const std::string& name : ordered) {
    NEREID_ASSIGN_OR_RETURN(
        PgResult cols, dst.Query("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_schema = current_schema() AND table_name = $1",
                                 PgParams().Text(name)));
    if (cols.rows() == 0) {
      return Internal("table '" + name +
                      "' exists in the SQLite store but not in PostgreSQL: the two schemas differ "
                      "(is this binary older than the store?)");
    }
    std::map<std::string, std::string> pg_types;
    for (int i = 0; i < cols.rows(); ++i) pg_types[cols.Text(i, 0)] = cols.Text(i, 1);
    Table t{name, {}, {}};
    std::map<int, std::string> pk;
    Status s = src.Each("PRAGMA table_info(" + Quoted(name) + ")", [&](sqlite3_stmt* q) -> Status {
      std::string col = reinterpret_cast<const char*>(sqlite3_column_text(q, 1));
      auto it = pg_types.find(col);
      if (it == pg_types.end()) {
        return Internal("column " + name + "." + col + " is missing in PostgreSQL");
      }
      NEREID_ASSIGN_OR_RETURN(Kind kind, KindOf(it->second, name + "." + col));
      t.columns.push_back({col, kind});
      if (int k = sqlite3_column_int(q, 5); k > 0) pk[k] = col;
      return Status();
    });
    NEREID_RETURN_IF_ERROR(s);
    for (auto& [k, col] : pk) t.order_by.push_back(col);
    if (t.order_by.empty()) return Internal("table " + name + " has no primary key to order by");
    tables.push_back(std::move(t));
  }
  return tables;
}

// Identity columns keep their copied values; their sequences must continue after the largest.
Status ResetSequences(PgConn& dst, const Table& t) {
  NEREID_ASSIGN_OR_RETURN(PgResult ids,
                          dst.Query("SELECT column_name FROM information_schema.columns WHERE "
                                    "table_schema = current_schema() AND table_name = $1 AND "
                                    "is_identity = 'YES'",
                                    PgParams().Text(t.name)));
  for (int i = 0; i < ids.rows(); ++i) {
    std::string col = ids.Text(i, 0);
    NEREID_RETURN_IF_ERROR(dst.Query("SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(" +
                                         Quoted(col) + "), 0) + 1, false) FROM " + Quoted(t.name),
                                     PgParams().Text(t.name).Text(col))
                               .status());
  }
  return Status();
}

Result<std::pair<int64_t, int64_t>> CopyFiles(Sqlite& src, const fs::path& from,
                                              const fs::path& to) {
  NEREID_ASSIGN_OR_RETURN(auto source, store::BlobStore::OpenFolder(from, /*shared=*/true));
  NEREID_ASSIGN_OR_RETURN(auto target, store::BlobStore::OpenFolder(to, /*shared=*/true));
  int64_t files = 0, bytes = 0;
  Status s = src.Each("SELECT sha256 FROM blobs ORDER BY sha256", [&](sqlite3_stmt* q) -> Status {
    std::string sha = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
    if (target->Exists(sha)) return Status();
    std::ifstream in(source->PathOf(sha), std::ios::binary);
    if (!in) return DataLoss("file " + sha + " is recorded but missing from " + from.string());
    NEREID_ASSIGN_OR_RETURN(auto upload, target->Begin(INT64_MAX));
    std::string chunk(1 << 20, '\0');
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      std::streamsize n = in.gcount();
      if (n <= 0) break;
      NEREID_RETURN_IF_ERROR(upload->Write(std::string_view(chunk.data(), static_cast<size_t>(n))));
      bytes += n;
    }
    NEREID_ASSIGN_OR_RETURN(store::BlobInfo info, upload->Commit());
    if (info.sha256 != sha) {
      return DataLoss("file " + sha + " in " + from.string() + " has content hashing to " +
                      info.sha256);
    }
    ++files;
    return Status();
  });
  NEREID_RETURN_IF_ERROR(s);
  return std::make_pair(files, bytes);
}

}  // namespace

Result<MigrateReport> MigrateSqliteToPostgres(const MigrateOptions& options) {
  auto progress = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  Sqlite src;
  NEREID_RETURN_IF_ERROR(src.Open(options.sqlite_dir / "nereid.db"));
  NEREID_RETURN_IF_ERROR(src.Exec("BEGIN"));  // one snapshot of the source for the whole copy

  NEREID_ASSIGN_OR_RETURN(auto dst, PgConn::Connect(options.postgres_url));
  NEREID_RETURN_IF_ERROR(store_postgres::Migrate(*dst));
  NEREID_ASSIGN_OR_RETURN(PgResult used,
                          dst->Query("SELECT (SELECT count(*) FROM workspaces) + (SELECT count(*) "
                                     "FROM users) + (SELECT count(*) FROM settings)"));
  if (used.Int(0, 0) != 0) {
    return InvalidArgument(
        "the PostgreSQL database is not empty (it has workspaces, users or settings); "
        "migrate-store copies into a new database only, before any server uses it");
  }
  NEREID_ASSIGN_OR_RETURN(std::vector<Table> tables, PlanTables(src, *dst));

  MigrateReport report;
  Status s = store_postgres::Transact(*dst, [&](PgConn& c) -> Status {
    report.tables.clear();
    for (const Table& t : tables) {
      TableCopy copied;
      NEREID_RETURN_IF_ERROR(CopyTable(src, c, t, copied));
      progress("copied " + t.name + ": " + std::to_string(copied.rows) + " rows");
      report.tables.push_back(copied);
      NEREID_RETURN_IF_ERROR(ResetSequences(c, t));
    }
    for (size_t i = 0; i < tables.size(); ++i) {
      NEREID_RETURN_IF_ERROR(VerifyTable(c, tables[i], report.tables[i]));
    }
    progress("verified " + std::to_string(tables.size()) + " tables (row counts and sha256)");
    // A store written by an older Nereid and never opened by this one has no project_fields table
    // (SQLite schema 2 fills it at open; the source is read only here): fill it from the copied
    // fields, as PostgreSQL's migration 2 does. A no-op when the table was copied.
    if (std::none_of(tables.begin(), tables.end(),
                     [](const Table& t) { return t.name == "project_fields"; })) {
      NEREID_RETURN_IF_ERROR(c.ExecScript(
          "INSERT INTO project_fields(project_id, path, type) SELECT DISTINCT r.project_id, "
          "f.path, f.type FROM fields f JOIN runs r ON r.id = f.run_id"));
      progress("filled project_fields from the runs' fields (the source predates it)");
    }
    return Status();
  });
  NEREID_RETURN_IF_ERROR(s);

  if (!options.files_to.empty()) {
    fs::path from = options.sqlite_dir / "files";
    std::error_code ec;
    if (!fs::equivalent(from, options.files_to, ec)) {
      NEREID_ASSIGN_OR_RETURN(auto copied, CopyFiles(src, from, options.files_to));
      report.files_copied = copied.first;
      report.files_bytes = copied.second;
      progress("copied " + std::to_string(copied.first) + " files (" +
               std::to_string(copied.second) + " bytes), each checked by its sha256");
    }
  }
  return report;
}

}  // namespace nereid::store_migrate
