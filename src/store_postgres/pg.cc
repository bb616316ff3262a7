#include "store_postgres/pg.h"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <thread>

namespace nereid::store_postgres {
namespace {

std::string StateOf(const PGresult* r) {
  const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return s ? s : "";
}

std::string Trimmed(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

uint64_t ReadBigEndian(std::string_view raw) {
  uint64_t v = 0;
  for (unsigned char c : raw) v = (v << 8) | c;
  return v;
}

}  // namespace

Status PgError(std::string_view sqlstate, std::string_view message, std::string_view context) {
  std::string m = std::string(context) + ": " + std::string(message);
  if (!sqlstate.empty()) m += " (SQLSTATE " + std::string(sqlstate) + ")";
  if (sqlstate == "23505") return AlreadyExists(m);
  if (sqlstate == "40001" || sqlstate == "40P01") return Unavailable(m);
  if (sqlstate == "53100") return InsufficientStorage(m);
  // Class 08: connection exceptions; 57P0x: the server is shutting down or restarting.
  if (sqlstate.empty() || sqlstate.starts_with("08") || sqlstate.starts_with("57P")) {
    return Unavailable(m);
  }
  return Internal(m);
}

bool IsRetryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable &&
         (s.message().find("(SQLSTATE 40001)") != std::string::npos ||
          s.message().find("(SQLSTATE 40P01)") != std::string::npos);
}

// --- PgParams ---

PgParams& PgParams::Null() {
  values_.emplace_back(std::nullopt);
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Int(int64_t v) {
  values_.emplace_back(std::to_string(v));
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Double(double v) {
  std::string s;
  if (std::isnan(v)) {
    s = "NaN";
  } else if (std::isinf(v)) {
    s = v > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    s.assign(buf, end);
  }
  values_.emplace_back(std::move(s));
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Text(std::string_view v) {
  values_.emplace_back(std::string(v));
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Bytes(std::string_view v) {
  values_.emplace_back(std::string(v));
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::Bool(bool v) {
  values_.emplace_back(v ? "t" : "f");
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::IntArray(const std::vector<int64_t>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(v[i]);
  }
  s += '}';
  values_.emplace_back(std::move(s));
  formats_.push_back(0);
  return *this;
}

// --- PgResult ---

int64_t PgResult::Int(int row, int col) const {
  if (IsNull(row, col)) return 0;
  std::string_view raw = Raw(row, col);
  if (format_ == PgFormat::kBinary) {
    uint64_t v = ReadBigEndian(raw);
    // Sign-extend int2/int4.
    if (raw.size() == 2) return static_cast<int16_t>(v);
    if (raw.size() == 4) return static_cast<int32_t>(v);
    if (raw.size() == 1) return v;  // bool
    return static_cast<int64_t>(v);
  }
  if (raw == "t") return 1;
  if (raw == "f") return 0;
  int64_t v = 0;
  std::from_chars(raw.data(), raw.data() + raw.size(), v);
  return v;
}

double PgResult::Double(int row, int col) const {
  if (IsNull(row, col)) return std::nan("");
  std::string_view raw = Raw(row, col);
  if (format_ == PgFormat::kBinary) {
    if (raw.size() == 8) {
      uint64_t bits = ReadBigEndian(raw);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    return static_cast<double>(Int(row, col));
  }
  if (raw == "NaN") return std::nan("");
  if (raw == "Infinity") return INFINITY;
  if (raw == "-Infinity") return -INFINITY;
  double d = 0;
  std::from_chars(raw.data(), raw.data() + raw.size(), d);
  return d;
}

int64_t PgResult::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : nullptr;
  if (!n || !*n) return 0;
  int64_t v = 0;
  std::from_chars(n, n + std::strlen(n), v);
  return v;
}

bool PgResult::Bool(int row, int col) const {
  return Int(row, col) != 0;
}

std::string PgResult::Bytes(int row, int col) const {
  if (IsNull(row, col)) return {};
  if (format_ == PgFormat::kBinary) return Text(row, col);
  size_t n = 0;
  unsigned char* out =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &n);
  if (!out) return {};
  std::string s(reinterpret_cast<char*>(out), n);
  PQfreemem(out);
  return s;
}

// --- PgConn ---

Result<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  if (!c) return Unavailable("postgres: out of memory while connecting");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string m = Trimmed(PQerrorMessage(c));
    PQfinish(c);
    return Unavailable("postgres: cannot connect: " + m);
  }
  auto conn = std::unique_ptr<PgConn>(new PgConn(c));
  // Quiet NOTICEs (e.g. "relation already exists, skipping") instead of printing to stderr.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  // The store reads and writes times as integers (microseconds) and never depends on the
  // session's time zone; UTC keeps any server-side formatting predictable.
  NEREID_RETURN_IF_ERROR(conn->ExecScript("SET TIME ZONE 'UTC'"));
  return conn;
}

PgConn::~PgConn() {
  if (conn_) PQfinish(conn_);
}

bool PgConn::ok() const {
  return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

Result<PgResult> PgConn::Query(std::string_view sql, const PgParams& params, PgFormat format) {
  std::string text(sql);
  std::vector<const char*> values;
  std::vector<int> lengths;
  values.reserve(params.values_.size());
  lengths.reserve(params.values_.size());
  for (const auto& v : params.values_) {
    values.push_back(v ? v->data() : nullptr);
    lengths.push_back(v ? static_cast<int>(v->size()) : 0);
  }
  PGresult* r =
      PQexecParams(conn_, text.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                   lengths.data(), params.formats_.data(), static_cast<int>(format));
  if (!r) return PgError("", Trimmed(PQerrorMessage(conn_)), "postgres");
  PgResult result(r, format);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string state = StateOf(r);
    if (state.empty() && PQstatus(conn_) == CONNECTION_OK) state = "XX000";
    return PgError(state, Trimmed(PQresultErrorMessage(r)), "postgres");
  }
  return result;
}

Result<int64_t> PgConn::Exec(std::string_view sql, const PgParams& params) {
  NEREID_ASSIGN_OR_RETURN(PgResult r, Query(sql, params));
  return r.affected();
}

Status PgConn::ExecScript(std::string_view sql) {
  std::string text(sql);
  PGresult* r = PQexec(conn_, text.c_str());
  if (!r) return PgError("", Trimmed(PQerrorMessage(conn_)), "postgres");
  std::unique_ptr<PGresult, void (*)(PGresult*)> guard(r, &PQclear);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    return PgError(StateOf(r), Trimmed(PQresultErrorMessage(r)), "postgres");
  }
  return Status();
}

// --- PgPool ---

PgPool::~PgPool() = default;

PgPool::Lease::~Lease() {
  if (pool_ && conn_) pool_->Return(std::move(conn_));
}

Result<PgPool::Lease> PgPool::Borrow() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  ++open_;
  lock.unlock();
  auto conn = PgConn::Connect(url_);
  if (conn.ok() && !session_sql_.empty()) {
    Status s = (*conn)->ExecScript(session_sql_);
    if (!s.ok()) conn = s;
  }
  if (!conn.ok()) {
    std::lock_guard relock(mu_);
    --open_;
    cv_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(conn).value());
}

void PgPool::Return(std::unique_ptr<PgConn> conn) {
  std::lock_guard lock(mu_);
  // A broken connection, or one left inside a transaction by a failed caller, is closed rather
  // than handed to the next borrower.
  if (conn->ok() && PQtransactionStatus(conn->raw()) == PQTRANS_IDLE) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  cv_.notify_one();
}

// --- arrays ---

std::vector<std::string> ParseTextArray(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return out;
  std::string_view body = text.substr(1, text.size() - 2);
  size_t i = 0;
  while (i < body.size()) {
    std::string item;
    if (body[i] == '"') {
      for (++i; i < body.size() && body[i] != '"'; ++i) {
        if (body[i] == '\\' && i + 1 < body.size()) ++i;
        item.push_back(body[i]);
      }
      ++i;  // closing quote
    } else {
      size_t end = body.find(',', i);
      if (end == std::string_view::npos) end = body.size();
      item.assign(body.substr(i, end - i));
      if (item == "NULL") item.clear();
      i = end;
    }
    out.push_back(std::move(item));
    if (i < body.size() && body[i] == ',') ++i;
  }
  return out;
}

// --- Transact ---

Status Transact(PgConn& conn, const std::function<Status(PgConn&)>& body,
                std::string_view isolation) {
  std::string begin = "BEGIN";
  if (!isolation.empty()) begin += " ISOLATION LEVEL " + std::string(isolation);
  Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(2 << attempt));
    NEREID_RETURN_IF_ERROR(conn.ExecScript(begin));
    Status s = body(conn);
    if (s.ok()) s = conn.ExecScript("COMMIT");
    if (s.ok()) return s;
    // ROLLBACK after a failed COMMIT is harmless (no transaction in progress).
    (void)conn.ExecScript("ROLLBACK");
    if (!IsRetryable(s)) return s;
    last = s;
  }
  return last;
}

}  // namespace nereid::store_postgres
