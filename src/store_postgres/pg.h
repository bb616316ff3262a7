// A thin RAII layer over libpq: connections, results, bound parameters, a connection pool and
// transactions with retry. Errors surface as Status. Only store_postgres uses it.
//
// Every statement is sent with PQexecParams (extended protocol, parameters never spliced into SQL
// text). Results come back in text format by default; ask for binary format where a column is
// bytea (chunk blobs), which saves libpq's hex encoding both ways.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nereid/status.h"

namespace nereid::store_postgres {

// Maps a failed result or connection to a Status: unique_violation -> AlreadyExists,
// serialization_failure/deadlock -> Unavailable (callers inside Transact retry), disk_full ->
// InsufficientStorage, a lost connection -> Unavailable, anything else -> Internal.
// `sqlstate` is the five-character SQLSTATE, empty for connection errors.
Status PgError(std::string_view sqlstate, std::string_view message, std::string_view context);

// Parameters of one statement ($1, $2, ...). Values are kept in text format except bytes, which
// are sent in binary format.
class PgParams {
 public:
  PgParams& Null();
  PgParams& Int(int64_t v);
  // Doubles round-trip exactly: shortest representation, and NaN/Infinity/-Infinity spelled the
  // way PostgreSQL's float8 input expects.
  PgParams& Double(double v);
  PgParams& Text(std::string_view v);
  PgParams& Bytes(std::string_view v);
  PgParams& Bool(bool v);
  // A bigint[] in text form ("{1,2,3}"); cast it in SQL ($1::bigint[]) and unnest it to send
  // many rows in one statement.
  PgParams& IntArray(const std::vector<int64_t>& v);
  PgParams& OptionalText(const std::optional<std::string>& v) { return v ? Text(*v) : Null(); }
  size_t size() const { return values_.size(); }

 private:
  friend class PgConn;
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;
};

enum class PgFormat { kText = 0, kBinary = 1 };

// A query's result. Rows and columns from 0. Accessors on a NULL cell return the type's zero
// (check IsNull where NULL means something).
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r, PgFormat format) : r_(r, &PQclear), format_(format) {}

  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  int cols() const { return r_ ? PQnfields(r_.get()) : 0; }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  // Raw cell bytes: text in text format, the value's binary form in binary format.
  std::string_view Raw(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::string Text(int row, int col) const { return std::string(Raw(row, col)); }
  // int2/int4/int8 (text or binary), bool ('t' or 1 byte).
  int64_t Int(int row, int col) const;
  // float8 (text or binary; NaN and infinities included). NULL -> NaN.
  double Double(int row, int col) const;
  bool Bool(int row, int col) const;
  // bytea in binary format: the bytes themselves. In text format: decoded from hex.
  std::string Bytes(int row, int col) const;
  // A column's index by name, -1 if absent.
  int Col(const char* name) const { return PQfnumber(r_.get(), name); }
  // Rows changed by an INSERT/UPDATE/DELETE (0 for other statements).
  int64_t affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_{nullptr, &PQclear};
  PgFormat format_ = PgFormat::kText;
};

class PgConn {
 public:
  // `url`: a libpq connection URI (postgres://user@host:port/db?...). Unavailable if the server
  // cannot be reached, InvalidArgument for a malformed URI.
  static Result<std::unique_ptr<PgConn>> Connect(const std::string& url);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs one statement; results in `format`.
  Result<PgResult> Query(std::string_view sql, const PgParams& params = {},
                         PgFormat format = PgFormat::kText);
  // Runs one statement, discarding rows; returns the number of rows affected.
  Result<int64_t> Exec(std::string_view sql, const PgParams& params = {});
  // Runs a script of several statements without parameters (schema migrations).
  Status ExecScript(std::string_view sql);

  // True when the connection is usable (a pool drops broken ones).
  bool ok() const;
  PGconn* raw() { return conn_; }

 private:
  explicit PgConn(PGconn* c) : conn_(c) {}
  PGconn* conn_;
};

// A bounded pool of connections to one database. Borrow blocks while all `max` are in use.
class PgPool {
 public:
  // `session_sql` runs on each new connection (e.g. "SET synchronous_commit = off").
  PgPool(std::string url, size_t max, std::string session_sql = "")
      : url_(std::move(url)), max_(max), session_sql_(std::move(session_sql)) {}
  ~PgPool();

  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease();
    PgConn& operator*() { return *conn_; }
    PgConn* operator->() { return conn_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConn> conn_;
  };

  Result<Lease> Borrow();
  const std::string& url() const { return url_; }

 private:
  void Return(std::unique_ptr<PgConn> conn);

  std::string url_;
  size_t max_;
  std::string session_sql_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConn>> idle_;  // guarded by mu_
  size_t open_ = 0;                            // guarded by mu_
};

// Runs `body` inside BEGIN ... COMMIT on `conn` (READ COMMITTED unless `isolation` names another
// level, e.g. "REPEATABLE READ"). Rolls back when body fails. Retries the whole transaction, up
// to 5 times with a short backoff, when PostgreSQL reports a serialization failure or deadlock
// (the SQLSTATEs that mean "try again"); any other failure is returned at once.
Status Transact(PgConn& conn, const std::function<Status(PgConn&)>& body,
                std::string_view isolation = "");

// Parses PostgreSQL's text form of a one-dimensional text[] ({a,"b c","d\"e"}). NULL elements
// come back as empty strings.
std::vector<std::string> ParseTextArray(std::string_view text);

// True when `s` came from a serialization failure or deadlock (retryable).
bool IsRetryable(const Status& s);

}  // namespace nereid::store_postgres
