#include "store_sqlite/db.h"

#include <cmath>
#include <limits>

namespace nereid::store_sqlite {

Status SqliteError(int rc, std::string_view context, sqlite3* db) {
  std::string message = "sqlite: " + std::string(context) + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_FULL:
      // Said plainly: this reaches users as the message of a 507.
      return InsufficientStorage("the server's disk is full (" + message + ")");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(message);
    default:
      return Internal(message);
  }
}

Result<bool> Stmt::Step() {
  if (!error_.ok()) return error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(rc, sqlite3_sql(stmt_), db_);
}

Status Stmt::Run() {
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status();
  }
}

double Stmt::Real(int col) const {
  if (IsNull(col)) return std::numeric_limits<double>::quiet_NaN();
  return sqlite3_column_double(stmt_, col);
}

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::string_view Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(p), n);
}

Result<std::unique_ptr<Db>> Db::Open(const std::filesystem::path& path, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(rc, "open " + path.string(), db);
    sqlite3_close(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Db>(new Db(db));
}

Db::~Db() {
  cache_.clear();  // finalize statements before closing
  sqlite3_close(db_);
}

Status Db::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status();
  Status s = SqliteError(rc, err != nullptr ? err : sql, nullptr);
  sqlite3_free(err);
  return s;
}

std::unique_ptr<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  Status error;
  if (rc != SQLITE_OK) error = SqliteError(rc, "prepare " + std::string(sql), db_);
  return std::make_unique<Stmt>(db_, stmt, std::move(error));
}

StmtRef Db::Cached(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, Prepare(sql)).first;
  return StmtRef(it->second.get());
}

}  // namespace nereid::store_sqlite
