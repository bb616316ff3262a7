// SqliteStore: opening, connections, workspaces, projects, runs, fields, blobs, settings, stats.
#include "store_sqlite/sqlite_store.h"

#include <chrono>

#include "common/path.h"
#include "store/sys_fields.h"
#include "store/codec.h"
#include "store_sqlite/schema.h"
#include "store_sqlite/sqlite_store_impl.h"

namespace nereid::store_sqlite {
namespace fs = std::filesystem;
using store::FieldType;

namespace {
constexpr size_t kMaxGroup = 256;  // jobs per group commit
constexpr int kBusyTimeoutMs = 10000;
}  // namespace

SqliteStore::SqliteStore(store::StoreOptions options, fs::path dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

SqliteStore::~SqliteStore() {
  Close();
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const store::StoreOptions& options,
                                                       const fs::path& dir) {
  if (options.synchronous != "full" && options.synchronous != "normal") {
    return InvalidArgument("synchronous must be 'full' or 'normal', not '" + options.synchronous +
                           "'");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir.string() + ": " + ec.message());
  std::unique_ptr<SqliteStore> store(new SqliteStore(options, dir));
  NEREID_ASSIGN_OR_RETURN(
      store->blobs_,
      options.files_dir.empty()
          ? store::BlobStore::Open(options.data_dir.empty() ? dir : fs::path(options.data_dir))
          : store::BlobStore::OpenFolder(options.files_dir, /*shared=*/true));
  NEREID_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, store->OpenConnection(/*writer=*/true));
  NEREID_RETURN_IF_ERROR(EnsureSchema(*db));
  SqliteStore* raw = store.get();
  store->writer_ = std::make_unique<Writer>(std::move(db), kMaxGroup, [raw] {
    raw->series_cache_.Clear();
    raw->known_fields_.Clear();
    raw->writer_sequences_.Clear();
  });
  store->accounts_ = std::make_unique<SqliteAccounts>(raw);
  NEREID_RETURN_IF_ERROR(store->accounts_->Init());
  store->notebooks_ = std::make_unique<SqliteNotebooks>(raw);
  NEREID_RETURN_IF_ERROR(store->notebooks_->Init());
  return store;
}

Result<std::unique_ptr<Db>> SqliteStore::OpenConnection(bool writer) {
  NEREID_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(dir_ / "nereid.db", writer));
  sqlite3_busy_timeout(db->raw(), kBusyTimeoutMs);
  NEREID_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON"));
  if (writer) {
    NEREID_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode = WAL"));
    NEREID_RETURN_IF_ERROR(db->Exec(options_.synchronous == "normal"
                                        ? "PRAGMA synchronous = NORMAL"
                                        : "PRAGMA synchronous = FULL"));
    NEREID_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size = -65536"));  // 64 MiB
  } else {
    NEREID_RETURN_IF_ERROR(db->Exec("PRAGMA query_only = ON"));
    NEREID_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size = -32768"));
    RegisterRegexp(db->raw());
  }
  return db;
}

Status SqliteStore::CheckOpen() const {
  return closed_.load() ? Unavailable("store is closed") : Status();
}

int64_t SqliteStore::NowUs() const {
  if (options_.now_us) return options_.now_us();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SqliteStore::Reader::Reader(SqliteStore* store, std::unique_ptr<Db> db)
    : store_(store), db_(std::move(db)) {}

SqliteStore::Reader::~Reader() {
  if (db_ == nullptr) return;  // moved from
  if (!sqlite3_get_autocommit(db_->raw())) (void)db_->Exec("COMMIT");
  {
    std::lock_guard lock(store_->readers_mu_);
    store_->idle_readers_.push_back(std::move(db_));
  }
  store_->readers_cv_.notify_all();
}

Result<SqliteStore::Reader> SqliteStore::BorrowReader() {
  std::unique_ptr<Db> db;
  {
    std::unique_lock lock(readers_mu_);
    readers_cv_.wait(lock, [&] {
      return closed_.load() || !idle_readers_.empty() || open_readers_ < kMaxReaders;
    });
    if (closed_.load()) return Unavailable("store is closed");
    if (!idle_readers_.empty()) {
      db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    } else {
      open_readers_++;
    }
  }
  if (db == nullptr) {
    Result<std::unique_ptr<Db>> opened = OpenConnection(/*writer=*/false);
    if (!opened.ok()) {
      std::lock_guard lock(readers_mu_);
      open_readers_--;
      readers_cv_.notify_all();
      return opened.status();
    }
    db = std::move(opened).value();
  }
  Reader reader(this, std::move(db));
  NEREID_RETURN_IF_ERROR(reader.db().Exec("BEGIN"));  // one snapshot for the whole operation
  return reader;
}

void SqliteStore::Close() {
  if (closed_.exchange(true)) return;
  if (writer_) writer_->Stop();  // drains the queue
  std::unique_lock lock(readers_mu_);
  readers_cv_.notify_all();
  readers_cv_.wait(lock, [&] { return idle_readers_.size() == open_readers_; });
  idle_readers_.clear();
  open_readers_ = 0;
  // writer_ stays (stopped) until destruction: a racing caller gets Unavailable from it, never a
  // dangling pointer.
}

// --- catalog ---

Result<store::WorkspaceInfo> SqliteStore::CreateWorkspace(std::string_view name) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_RETURN_IF_ERROR(common::ValidateName("workspace", name));
  store::WorkspaceInfo out{std::string(name), NowUs()};
  NEREID_RETURN_IF_ERROR(writer_->Run(
      [&](Db& db) -> Status {
        {
          auto q = db.Cached("SELECT 1 FROM workspaces WHERE name = ?");
          q->Bind(1, name);
          NEREID_ASSIGN_OR_RETURN(bool exists, q->Step());
          if (exists) return AlreadyExists("workspace '" + out.name + "' exists");
        }
        auto q = db.Cached("INSERT INTO workspaces(name, created_us) VALUES(?, ?)");
        q->BindAll(out.name, out.creation_time_us);
        return q->Run();
      },
      false));
  return out;
}

Result<std::vector<store::WorkspaceInfo>> SqliteStore::ListWorkspaces() {
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  auto q = r.db().Cached("SELECT name, created_us FROM workspaces ORDER BY name");
  std::vector<store::WorkspaceInfo> out;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({q->Text(0), q->Int(1)});
  }
  return out;
}

namespace {

store::ProjectInfo ReadProject(const Stmt& q) {
  return {q.Text(0), q.Text(1), q.Text(2), q.Int(3), q.Int(4)};
}

std::pair<std::string_view, std::string_view> SplitProject(std::string_view project) {
  size_t slash = project.find('/');
  if (slash == std::string_view::npos) return {project, {}};
  return {project.substr(0, slash), project.substr(slash + 1)};
}

}  // namespace

Result<store::ProjectInfo> SqliteStore::CreateProject(std::string_view workspace,
                                                      std::string_view name, std::string_view key) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  NEREID_RETURN_IF_ERROR(common::ValidateName("project", name));
  NEREID_RETURN_IF_ERROR(common::ValidateProjectKey(key));
  store::ProjectInfo out{std::string(workspace), std::string(name), std::string(key), NowUs(), 0};
  NEREID_RETURN_IF_ERROR(writer_->Run(
      [&](Db& db) -> Status {
        int64_t workspace_id = 0;
        {
          auto q = db.Cached("SELECT id FROM workspaces WHERE name = ?");
          q->Bind(1, workspace);
          NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
          if (!found) return NotFound("workspace '" + out.workspace + "' not found");
          workspace_id = q->Int(0);
        }
        {
          auto q = db.Cached("SELECT 1 FROM projects WHERE key = ?");
          q->Bind(1, key);
          NEREID_ASSIGN_OR_RETURN(bool taken, q->Step());
          if (taken) return AlreadyExists("project key '" + out.key + "' is taken");
        }
        {
          auto q = db.Cached("SELECT 1 FROM projects WHERE workspace_id = ? AND name = ?");
          q->BindAll(workspace_id, name);
          NEREID_ASSIGN_OR_RETURN(bool taken, q->Step());
          if (taken) {
            return AlreadyExists("project '" + out.workspace + "/" + out.name + "' exists");
          }
        }
        auto q = db.Cached(
            "INSERT INTO projects(workspace_id, name, key, created_us) VALUES(?, ?, ?, ?)");
        q->BindAll(workspace_id, name, key, out.creation_time_us);
        return q->Run();
      },
      false));
  return out;
}

Result<int64_t> ResolveProject(Db& db, std::string_view project) {
  auto [workspace, name] = SplitProject(project);
  auto q = db.Cached(
      "SELECT p.id FROM projects p JOIN workspaces w ON w.id = p.workspace_id "
      "WHERE w.name = ? AND p.name = ?");
  q->BindAll(workspace, name);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("project '" + std::string(project) + "' not found");
  return q->Int(0);
}

Result<store::ProjectInfo> SqliteStore::GetProject(std::string_view project) {
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  auto [workspace, name] = SplitProject(project);
  auto q = r.db().Cached(
      "SELECT w.name, p.name, p.key, p.created_us, p.next_run_number - 1 FROM projects p "
      "JOIN workspaces w ON w.id = p.workspace_id WHERE w.name = ? AND p.name = ?");
  q->BindAll(workspace, name);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("project '" + std::string(project) + "' not found");
  return ReadProject(*q);
}

Result<std::vector<store::ProjectInfo>> SqliteStore::ListProjects(std::string_view workspace) {
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  {
    auto q = r.db().Cached("SELECT 1 FROM workspaces WHERE name = ?");
    q->Bind(1, workspace);
    NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
    if (!found) return NotFound("workspace '" + std::string(workspace) + "' not found");
  }
  auto q = r.db().Cached(
      "SELECT w.name, p.name, p.key, p.created_us, p.next_run_number - 1 FROM projects p "
      "JOIN workspaces w ON w.id = p.workspace_id WHERE w.name = ? ORDER BY p.name");
  q->Bind(1, workspace);
  std::vector<store::ProjectInfo> out;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back(ReadProject(*q));
  }
  return out;
}

// --- runs ---

Result<RunKey> ResolveRun(Db& db, std::string_view run_id) {
  size_t dash = run_id.rfind('-');
  int64_t number = 0;
  bool valid = dash != std::string_view::npos && dash > 0 && dash + 1 < run_id.size() &&
               run_id.size() - dash <= 19;
  for (size_t i = dash + 1; valid && i < run_id.size(); ++i) {
    if (run_id[i] < '0' || run_id[i] > '9') valid = false;
    number = number * 10 + (run_id[i] - '0');
  }
  if (!valid) return NotFound("run '" + std::string(run_id) + "' not found");
  auto q = db.Cached(
      "SELECT r.id, r.project_id, r.trashed_us IS NOT NULL FROM runs r "
      "JOIN projects p ON p.id = r.project_id WHERE p.key = ? AND r.number = ?");
  q->BindAll(run_id.substr(0, dash), number);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("run '" + std::string(run_id) + "' not found");
  return RunKey{q->Int(0), q->Int(1), std::string(run_id.substr(0, dash)), number, q->Int(2) != 0};
}

Result<store::RunInfo> LoadRunInfo(Db& db, int64_t run_rowid) {
  store::RunInfo run;
  {
    auto q = db.Cached(
        "SELECT p.key, r.number, w.name, p.name, r.custom_run_id, r.name, r.description, "
        "r.state, r.failed, r.created_us, r.modified_us, r.ping_us, r.owner, r.size_bytes, "
        "COALESCE(r.trashed_us, 0) FROM runs r JOIN projects p ON p.id = r.project_id "
        "JOIN workspaces w ON w.id = p.workspace_id WHERE r.id = ?");
    q->Bind(1, run_rowid);
    NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
    if (!found) return NotFound("run " + std::to_string(run_rowid) + " not found");
    run.id = q->Text(0) + "-" + std::to_string(q->Int(1));
    run.project = q->Text(2) + "/" + q->Text(3);
    run.custom_run_id = q->Text(4);
    run.name = q->Text(5);
    run.description = q->Text(6);
    run.state = store::ParseRunState(q->Text(7)).value_or(store::RunState::kRunning);
    run.failed = q->Int(8) != 0;
    run.creation_time_us = q->Int(9);
    run.modification_time_us = q->Int(10);
    run.ping_time_us = q->Int(11);
    run.owner = q->Text(12);
    run.size_bytes = q->Int(13);
    run.trashed_time_us = q->Int(14);
  }
  auto q = db.Cached("SELECT tag FROM run_tags WHERE run_id = ? ORDER BY tag");
  q->Bind(1, run_rowid);
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    run.tags.push_back(q->Text(0));
  }
  return run;
}

Result<store::CreateRunResult> SqliteStore::CreateRun(const store::CreateRunRequest& request) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  store::CreateRunResult out;
  int64_t now = NowUs();
  NEREID_RETURN_IF_ERROR(writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(db, request.project));
        if (!request.custom_run_id.empty()) {
          auto q = db.Cached("SELECT id FROM runs WHERE project_id = ? AND custom_run_id = ?");
          q->BindAll(project_id, request.custom_run_id);
          NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
          if (found) {
            int64_t id = q->Int(0);
            NEREID_ASSIGN_OR_RETURN(out.run, LoadRunInfo(db, id));
            out.created = false;
            return Status();
          }
        }
        int64_t number = 0;
        {
          // A counter, not MAX(number)+1: numbers are never reused.
          auto q = db.Cached(
              "UPDATE projects SET next_run_number = next_run_number + 1 WHERE id = ? "
              "RETURNING next_run_number - 1");
          q->Bind(1, project_id);
          NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
          if (!row) return Internal("project vanished");
          number = q->Int(0);
        }
        auto q = db.Cached(
            "INSERT INTO runs(project_id, number, custom_run_id, name, description, created_us, "
            "modified_us, ping_us, owner) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
        q->Bind(1, project_id);
        q->Bind(2, number);
        if (request.custom_run_id.empty()) {
          q->Bind(3, std::nullopt);
        } else {
          q->Bind(3, request.custom_run_id);
        }
        q->Bind(4, request.name);
        q->Bind(5, request.description);
        q->Bind(6, now);
        q->Bind(7, now);
        q->Bind(8, now);
        q->Bind(9, request.owner);
        NEREID_RETURN_IF_ERROR(q->Run());
        int64_t id = sqlite3_last_insert_rowid(db.raw());
        for (const std::string& tag : request.tags) {
          auto t = db.Cached("INSERT OR IGNORE INTO run_tags(run_id, tag) VALUES(?, ?)");
          t->BindAll(id, tag);
          NEREID_RETURN_IF_ERROR(t->Run());
        }
        NEREID_ASSIGN_OR_RETURN(out.run, LoadRunInfo(db, id));
        out.created = true;
        return Status();
      },
      false));
  return out;
}

Result<store::RunInfo> SqliteStore::GetRun(std::string_view run_id) {
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  NEREID_ASSIGN_OR_RETURN(RunKey key, ResolveRun(r.db(), run_id));
  return LoadRunInfo(r.db(), key.id);
}

store::Value DecodeFieldValue(FieldType type, const Stmt& q, int c) {
  switch (type) {
    case FieldType::kFloat:
      return q.Real(c);
    case FieldType::kInt:
      return q.Int(c + 1);
    case FieldType::kBool:
      return q.Int(c + 1) != 0;
    case FieldType::kString:
      return q.Text(c + 2);
    case FieldType::kDatetime:
      return store::Datetime{q.Int(c + 1)};
    case FieldType::kStringSet:
      return store::DecodeStringSet(q.Text(c + 2));
    case FieldType::kFile: {
      auto f = store::DecodeFile(q.Text(c + 2));
      return f ? store::Value(*f) : store::Value();
    }
    case FieldType::kFileSet:
      return store::DecodeFileSet(q.Text(c + 2));
    default:
      return std::monostate();
  }
}

namespace {

bool UnderPrefix(std::string_view path, std::string_view prefix) {
  if (prefix.empty()) return true;
  return path == prefix || (path.size() > prefix.size() &&
                            path.substr(0, prefix.size()) == prefix && path[prefix.size()] == '/');
}

}  // namespace

Result<std::vector<store::Field>> SqliteStore::GetFields(std::string_view run_id,
                                                         std::string_view prefix) {
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  NEREID_ASSIGN_OR_RETURN(RunKey key, ResolveRun(r.db(), run_id));
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  std::vector<store::Field> out;
  if (prefix.empty() || UnderPrefix(prefix, "sys")) {
    NEREID_ASSIGN_OR_RETURN(store::RunInfo run, LoadRunInfo(r.db(), key.id));
    for (store::Field& f : store::SysFields(run)) {
      if (UnderPrefix(f.path, prefix)) out.push_back(std::move(f));
    }
  }
  // '0' sorts right after '/', so [prefix/, prefix0) is exactly the subtree.
  std::string lo = prefix.empty() ? std::string() : std::string(prefix) + "/";
  std::string hi = prefix.empty() ? std::string(1, '\xff') : std::string(prefix) + "0";
  auto q = r.db().Cached(
      "SELECT f.path, f.type, f.num, f.int, f.text, s.count, s.first_step, s.last_step, "
      "s.last_ts, s.last, s.min, s.max, s.last_text FROM fields f "
      "LEFT JOIN series s ON s.run_id = f.run_id AND s.path = f.path "
      "WHERE f.run_id = ? AND (f.path = ? OR (f.path >= ? AND f.path < ?)) ORDER BY f.path");
  q->BindAll(key.id, prefix, lo, hi);
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    store::Field f;
    f.path = q->Text(0);
    f.type = static_cast<FieldType>(q->Int(1));
    if (store::IsSeries(f.type)) {
      f.series = ReadSeriesSummary(f.type, *q, 5);
    } else {
      f.value = DecodeFieldValue(f.type, *q, 2);
    }
    out.push_back(std::move(f));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const store::Field& a, const store::Field& b) { return a.path < b.path; });
  return out;
}

Result<store::FieldList> SqliteStore::ListProjectFields(const store::FieldListQuery& query) {
  NEREID_RETURN_IF_ERROR(store::ValidateFieldListQuery(query));
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  NEREID_ASSIGN_OR_RETURN(int64_t project_id, ResolveProject(r.db(), query.project));
  // Text compares in BINARY (byte) order, so [prefix, PrefixEnd) is a range of the primary key.
  const std::string end = store::PrefixEnd(query.prefix);
  const int64_t limit = static_cast<int64_t>(query.limit) + 1;  // one more tells "truncated"
  auto q = r.db().Cached(end.empty() ? "SELECT path, type FROM project_fields WHERE project_id = ? "
                                       "AND path >= ? ORDER BY path, type LIMIT ?"
                                     : "SELECT path, type FROM project_fields WHERE project_id = ? "
                                       "AND path >= ? AND path < ? ORDER BY path, type LIMIT ?");
  if (end.empty()) {
    q->BindAll(project_id, query.prefix, limit);
  } else {
    q->BindAll(project_id, query.prefix, end, limit);
  }
  std::vector<store::ProjectField> rows;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    rows.push_back({q->Text(0), static_cast<FieldType>(q->Int(1))});
  }
  return store::MergeFieldList(std::move(rows), query);
}

store::SeriesSummary ReadSeriesSummary(FieldType type, const Stmt& q, int c) {
  store::SeriesSummary s;
  s.count = static_cast<uint64_t>(q.Int(c));
  s.last_step = q.Real(c + 2);
  s.last_timestamp_us = q.Int(c + 3);
  if (type == FieldType::kFloatSeries) {
    s.last = q.Real(c + 4);
    s.has_min_max = !q.IsNull(c + 5);
    if (s.has_min_max) {
      s.min = q.Real(c + 5);
      s.max = q.Real(c + 6);
    }
  } else if (type == FieldType::kStringSeries) {
    s.last_string = q.Text(c + 7);
  } else if (s.count > 0) {
    s.last_file = store::DecodeFile(q.Text(c + 7));
  }
  if (s.count == 0) s.last_step = 0;
  return s;
}

// --- blobs, settings, stats ---

Status SqliteStore::RecordBlob(std::string_view sha256, int64_t size) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  if (!store::IsSha256Hex(sha256)) return InvalidArgument("not a sha256: " + std::string(sha256));
  return writer_->Run(
      [&](Db& db) {
        auto q = db.Cached("INSERT OR IGNORE INTO blobs(sha256, size) VALUES(?, ?)");
        q->BindAll(sha256, size);
        return q->Run();
      },
      false);
}

Result<int64_t> SqliteStore::BlobSize(std::string_view sha256) {
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  auto q = r.db().Cached("SELECT size FROM blobs WHERE sha256 = ?");
  q->Bind(1, sha256);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("file " + std::string(sha256) + " was not uploaded");
  return q->Int(0);
}

Result<std::optional<std::string>> SqliteStore::GetSetting(std::string_view key) {
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  auto q = r.db().Cached("SELECT value FROM settings WHERE key = ?");
  q->Bind(1, key);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return std::optional<std::string>();
  return std::optional<std::string>(q->Text(0));
}

Status SqliteStore::SetSetting(std::string_view key, std::string_view value) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  return writer_->Run(
      [&](Db& db) {
        auto q = db.Cached(
            "INSERT INTO settings(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
        q->BindAll(key, value);
        return q->Run();
      },
      false);
}

store::StoreStats SqliteStore::Stats() {
  store::StoreStats out;
  if (closed_.load()) return out;
  if (writer_) {
    WriterStats w = writer_->Stats();
    out.commits = w.commits;
    out.batches = w.batches;
    out.group_size_hist.assign(w.group_size_hist.begin(), w.group_size_hist.end());
  }
  if (blobs_) out.files_bytes = blobs_->TotalBytes();
  Result<Reader> r = BorrowReader();
  if (r.ok()) {
    auto q = r->db().Cached(
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    Result<bool> row = q->Step();
    if (row.ok() && *row) out.database_bytes = static_cast<uint64_t>(q->Int(0));
  }
  return out;
}

// --- registration ---

Result<std::unique_ptr<store::Store>> OpenSqliteStore(const store::StoreOptions& options,
                                                      const fs::path& dir) {
  NEREID_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(options, dir));
  return std::unique_ptr<store::Store>(std::move(store));
}

void Register() {
  store::RegisterBackend(
      "sqlite", [](const store::StoreOptions& options) -> Result<std::unique_ptr<store::Store>> {
        std::string_view url = options.url;
        fs::path dir;
        if (url == "sqlite") {
          dir = options.data_dir.empty() ? fs::path("./nereid-data") : fs::path(options.data_dir);
        } else if (url.substr(0, 7) == "sqlite:" && url.size() > 7) {
          dir = fs::path(std::string(url.substr(7)));
        } else {
          return InvalidArgument("sqlite store url must be 'sqlite' or 'sqlite:DIR', not '" +
                                 std::string(url) + "'");
        }
        return OpenSqliteStore(options, dir);
      });
}

}  // namespace nereid::store_sqlite
