// PgStore: opening, connections, blobs, settings, stats, registration.
#include <chrono>

#include "store/types.h"
#include "store_postgres/accounts.h"
#include "store_postgres/notebooks.h"
#include "store_postgres/pg_store_impl.h"
#include "store_postgres/postgres_store.h"
#include "store_postgres/rate_share.h"
#include "store_postgres/schema.h"

namespace nereid::store_postgres {
namespace fs = std::filesystem;

namespace {
// Connections per server process: the HTTP layer runs many handler threads, but PostgreSQL
// serves each connection with its own process, so a handful per server (times the number of
// servers) keeps the database's max_connections comfortable.
constexpr size_t kPoolSize = 8;
// Batches per group commit, as in the SQLite backend.
constexpr size_t kMaxGroup = 256;
}  // namespace

PgStore::PgStore(store::StoreOptions options) : options_(std::move(options)) {}

PgStore::~PgStore() {
  Close();
}

Result<std::unique_ptr<PgStore>> PgStore::Open(const store::StoreOptions& options) {
  if (options.synchronous != "full" && options.synchronous != "normal") {
    return InvalidArgument("synchronous must be 'full' or 'normal', not '" + options.synchronous +
                           "'");
  }
  std::unique_ptr<PgStore> store(new PgStore(options));
  // "normal": a commit returns before PostgreSQL flushed its WAL, so a crash of PostgreSQL (not
  // of Nereid) may lose the last commits; never corrupts.
  store->pool_ = std::make_unique<PgPool>(
      options.url, kPoolSize,
      options.synchronous == "normal" ? "SET synchronous_commit = off" : "");
  {
    NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, store->pool_->Borrow());
    NEREID_RETURN_IF_ERROR(Migrate(*conn));
  }
  PgStore* raw = store.get();
  // The writer has its own connection (outside the pool): it is busy with one transaction after
  // another, and a reader must never wait for it.
  store->writer_ = std::make_unique<Writer>(
      options.url, options.synchronous == "normal" ? "SET synchronous_commit = off" : "", kMaxGroup,
      [raw] {
        raw->series_cache_.Clear();
        raw->known_fields_.Clear();
      });
  NEREID_ASSIGN_OR_RETURN(
      store->blobs_,
      options.files_dir.empty()
          ? store::BlobStore::Open(options.data_dir.empty() ? fs::path("./nereid-data")
                                                            : fs::path(options.data_dir))
          : store::BlobStore::OpenFolder(options.files_dir, /*shared=*/true));
  store->accounts_ = std::make_unique<PgAccounts>(store.get());
  store->notebooks_ = std::make_unique<PgNotebooks>(store.get());
  store->rate_share_ = std::make_unique<PgRateShare>(options.url);
  return store;
}

Status PgStore::CheckOpen() const {
  return closed_.load() ? Unavailable("store is closed") : Status();
}

int64_t PgStore::NowUs() const {
  if (options_.now_us) return options_.now_us();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void PgStore::Close() {
  if (closed_.exchange(true)) return;
  // writer_ stays (stopped) until destruction: a racing caller gets Unavailable from it.
  if (writer_) writer_->Stop();  // drains the queue
}

// --- blobs, settings, stats ---

Status PgStore::RecordBlob(std::string_view sha256, int64_t size) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  if (!store::IsSha256Hex(sha256)) return InvalidArgument("not a sha256: " + std::string(sha256));
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  return conn
      ->Query("INSERT INTO blobs(sha256, size) VALUES($1, $2) ON CONFLICT DO NOTHING",
              PgParams().Text(sha256).Int(size))
      .status();
}

Result<int64_t> PgStore::BlobSize(std::string_view sha256) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query("SELECT size FROM blobs WHERE sha256 = $1", PgParams().Text(sha256)));
  if (r.rows() == 0) return NotFound("file " + std::string(sha256) + " was not uploaded");
  return r.Int(0, 0);
}

Result<std::optional<std::string>> PgStore::GetSetting(std::string_view key) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  NEREID_ASSIGN_OR_RETURN(
      PgResult r, conn->Query("SELECT value FROM settings WHERE key = $1", PgParams().Text(key)));
  if (r.rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r.Text(0, 0));
}

Status PgStore::SetSetting(std::string_view key, std::string_view value) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
  return conn
      ->Query(
          "INSERT INTO settings(key, value) VALUES($1, $2) "
          "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
          PgParams().Text(key).Text(value))
      .status();
}

store::StoreStats PgStore::Stats() {
  store::StoreStats out;
  if (closed_.load()) return out;
  if (blobs_) out.files_bytes = blobs_->TotalBytes();
  if (writer_) {
    WriterStats w = writer_->Stats();
    out.commits = w.commits;
    out.batches = w.batches;
    out.group_size_hist.assign(w.group_size_hist.begin(), w.group_size_hist.end());
  }
  Result<PgPool::Lease> conn = pool_->Borrow();
  if (conn.ok()) {
    Result<PgResult> r = (**conn).Query("SELECT pg_database_size(current_database())");
    if (r.ok() && r->rows() == 1) out.database_bytes = static_cast<uint64_t>(r->Int(0, 0));
  }
  return out;
}

// --- registration ---

Result<std::unique_ptr<store::Store>> OpenPostgresStore(const store::StoreOptions& options) {
  NEREID_ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(options));
  return std::unique_ptr<store::Store>(std::move(store));
}

void Register() {
  auto factory = [](const store::StoreOptions& options) { return OpenPostgresStore(options); };
  store::RegisterBackend("postgres", factory);
  store::RegisterBackend("postgresql", factory);
}

}  // namespace nereid::store_postgres
