// A thin RAII layer over the SQLite C API: a connection with a cache of prepared statements, and
// statements whose errors surface as Status. Only store_sqlite uses it.
//
// Thread-safety: a Db (and its statements) is used by one thread at a time; the store gives each
// thread its own connection (the writer thread, or a reader borrowed from the pool).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "nereid/status.h"

namespace nereid::store_sqlite {

// Maps an SQLite result code to a Status code: SQLITE_FULL -> InsufficientStorage, BUSY/LOCKED ->
// Unavailable, CORRUPT/NOTADB -> DataLoss, anything else -> Internal.
Status SqliteError(int rc, std::string_view context, sqlite3* db);

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt, Status prepare_error)
      : db_(db), stmt_(stmt), error_(std::move(prepare_error)) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binds 1-based parameters. Strings are copied (SQLITE_TRANSIENT), so temporaries are safe.
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, int v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, uint64_t v) { sqlite3_bind_int64(stmt_, i, static_cast<int64_t>(v)); }
  void Bind(int i, bool v) { sqlite3_bind_int64(stmt_, i, v ? 1 : 0); }
  void Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, const std::string& v) { Bind(i, std::string_view(v)); }
  void Bind(int i, const char* v) { Bind(i, std::string_view(v)); }
  void Bind(int i, std::nullopt_t) { sqlite3_bind_null(stmt_, i); }
  template <typename T>
  void Bind(int i, const std::optional<T>& v) {
    if (v) {
      Bind(i, *v);
    } else {
      sqlite3_bind_null(stmt_, i);
    }
  }
  void BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  template <typename... Args>
  void BindAll(const Args&... args) {
    int i = 0;
    (Bind(++i, args), ...);
  }

  // Advances: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows).
  Status Run();
  // Resets for reuse and clears bindings.
  void Reset() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int Type(int col) const { return sqlite3_column_type(stmt_, col); }  // SQLITE_INTEGER, ...
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  // SQLite stores NaN as NULL; reading NULL as a double gives NaN back.
  double Real(int col) const;
  std::string Text(int col) const;
  std::string_view Blob(int col) const;
  std::optional<double> OptReal(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<double>(Real(col));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Status error_;  // a failed prepare: every Step reports it
};

// A cached statement borrowed for one use; resets it when it goes out of scope.
class StmtRef {
 public:
  explicit StmtRef(Stmt* s) : s_(s) {}
  ~StmtRef() { s_->Reset(); }
  StmtRef(const StmtRef&) = delete;
  StmtRef& operator=(const StmtRef&) = delete;
  Stmt* operator->() const { return s_; }
  Stmt& operator*() const { return *s_; }

 private:
  Stmt* s_;
};

class Db {
 public:
  // Opens (creating if asked) the database file in serialized-off mode (one thread per Db).
  static Result<std::unique_ptr<Db>> Open(const std::filesystem::path& path, bool create);
  ~Db();

  Status Exec(const char* sql);
  // A statement from the cache, prepared on first use. `sql` must be a string literal (the cache
  // is keyed by its text).
  StmtRef Cached(std::string_view sql);
  // A fresh statement for SQL built at run time (the runs filter); not cached.
  std::unique_ptr<Stmt> Prepare(std::string_view sql);

  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string_view, std::unique_ptr<Stmt>> cache_;
};

}  // namespace nereid::store_sqlite
