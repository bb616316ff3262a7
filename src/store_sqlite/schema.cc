#include "store_sqlite/schema.h"

#include <charconv>
#include <iterator>
#include <string>

namespace nereid::store_sqlite {
namespace {

// Field types are stored as the integer of store::FieldType. NaN cannot be stored in SQLite (it
// becomes NULL), so a NULL in a value column of a row whose type says float reads back as NaN.
// Value columns are declared BLOB (no type affinity), not REAL: REAL affinity stores integral
// doubles as integers and so turns -0.0 into 0; without affinity a double is kept bit for bit
// and still compares as a number.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE workspaces(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_us INTEGER NOT NULL);
CREATE TABLE projects(
  id INTEGER PRIMARY KEY,
  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  key TEXT NOT NULL UNIQUE,
  next_run_number INTEGER NOT NULL DEFAULT 1,
  created_us INTEGER NOT NULL,
  UNIQUE(workspace_id, name));
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  number INTEGER NOT NULL,
  custom_run_id TEXT,
  name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'running',
  failed INTEGER NOT NULL DEFAULT 0,
  created_us INTEGER NOT NULL,
  modified_us INTEGER NOT NULL,
  ping_us INTEGER NOT NULL,
  owner TEXT NOT NULL DEFAULT '',
  size_bytes INTEGER NOT NULL DEFAULT 0,
  UNIQUE(project_id, number),
  UNIQUE(project_id, custom_run_id));
CREATE INDEX runs_created ON runs(project_id, created_us);
CREATE INDEX runs_modified ON runs(project_id, modified_us);
CREATE TABLE run_tags(
  run_id INTEGER NOT NULL REFERENCES runs(id),
  tag TEXT NOT NULL,
  PRIMARY KEY(run_id, tag)) WITHOUT ROWID;
CREATE INDEX run_tags_tag ON run_tags(tag, run_id);
-- One row per path of a run, series included (the path registry that fixes a path's type).
-- num: float, int, datetime (us) as a double, so one index serves every numeric filter.
-- int: int, bool, datetime. text: string; JSON for string_set, file and file_set.
-- bytes: the value's share of runs.size_bytes.
CREATE TABLE fields(
  run_id INTEGER NOT NULL REFERENCES runs(id),
  path TEXT NOT NULL,
  type INTEGER NOT NULL,
  num BLOB,
  int INTEGER,
  text TEXT,
  bytes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(run_id, path)) WITHOUT ROWID;
CREATE INDEX fields_path_num ON fields(path, num);
CREATE INDEX fields_path_text ON fields(path, text);
-- Summary of each series, kept current on every append so the runs table filters and sorts on
-- :last/:min/:max/:count without touching chunks.
CREATE TABLE series(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  path TEXT NOT NULL,
  type INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 0,
  first_step REAL,
  last_step REAL,
  last_ts INTEGER,
  last BLOB,
  min BLOB,
  max BLOB,
  last_text TEXT,
  UNIQUE(run_id, path));
CREATE INDEX series_path_last ON series(path, last);
CREATE INDEX series_path_min ON series(path, min);
CREATE INDEX series_path_max ON series(path, max);
-- Chunks of a series in arrival order (seq). The summary columns answer bucket reads without
-- decoding; the encoded points live in chunk_data so summary scans never page through blobs.
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL REFERENCES series(id),
  seq INTEGER NOT NULL,
  count INTEGER NOT NULL,
  nan_count INTEGER NOT NULL,
  step_min REAL NOT NULL,
  step_max REAL NOT NULL,
  ts_min INTEGER NOT NULL,
  ts_max INTEGER NOT NULL,
  min BLOB,
  max BLOB,
  sum BLOB,
  first BLOB,
  last BLOB,
  UNIQUE(series_id, seq));
CREATE INDEX chunks_step ON chunks(series_id, step_min);
CREATE TABLE chunk_data(
  chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id),
  data BLOB NOT NULL);
-- Last batch sequence applied per (run, writer): written in the batch's own transaction, so a
-- retried batch is recognised exactly.
CREATE TABLE writers(
  run_id INTEGER NOT NULL REFERENCES runs(id),
  writer_id TEXT NOT NULL,
  last_sequence INTEGER NOT NULL,
  PRIMARY KEY(run_id, writer_id)) WITHOUT ROWID;
CREATE TABLE blobs(sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
)sql";

// Version 2: the per-project field list (store/project_fields.h), one row per (project, path,
// type) any of its runs has logged, maintained by ingest; filled here from the runs' fields.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE project_fields(
  project_id INTEGER NOT NULL REFERENCES projects(id),
  path TEXT NOT NULL,
  type INTEGER NOT NULL,
  PRIMARY KEY(project_id, path, type)) WITHOUT ROWID;
INSERT INTO project_fields(project_id, path, type)
  SELECT DISTINCT r.project_id, f.path, f.type FROM fields f JOIN runs r ON r.id = f.run_id;
)sql";

// Version 3: the trash and blob references (store/trash.h).
// runs.trashed_us: when the run was moved to the trash, NULL when it is not there.
// run_blobs: the blobs each run's values reference (written by ingest, kept while the run
// lives, even if the value is overwritten), so deleting runs finds the blobs nothing references
// any more without decoding file series. Blobs recorded before version 3 are referenced by the
// pseudo-run 0: nothing tracked their references, so they are never removed.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE runs ADD COLUMN trashed_us INTEGER;
CREATE TABLE run_blobs(
  run_id INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY(run_id, sha256)) WITHOUT ROWID;
CREATE INDEX run_blobs_sha256 ON run_blobs(sha256);
INSERT INTO run_blobs(run_id, sha256) SELECT 0, sha256 FROM blobs;
)sql";

// Migration N (1-based) brings a database from version N-1 to N; a new database applies them
// all. Append only: a released migration never changes (a database that applied it would not
// apply it again).
constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2, kSchemaV3};
static_assert(std::size(kMigrations) == kSchemaVersion,
              "kSchemaVersion (schema.h) must be the number of migrations");

Status SetVersion(Db& db, bool insert) {
  auto q = db.Cached(insert ? "INSERT INTO meta(key, value) VALUES('schema_version', ?)"
                            : "UPDATE meta SET value = ? WHERE key = 'schema_version'");
  q->Bind(1, std::to_string(kSchemaVersion));
  return q->Run();
}

Status ApplyMigrations(Db& db, int from) {
  for (int v = from + 1; v <= kSchemaVersion; ++v) {
    NEREID_RETURN_IF_ERROR(db.Exec(kMigrations[v - 1]));
  }
  return Status();
}

}  // namespace

Status EnsureSchema(Db& db) {
  NEREID_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    bool has_meta = false;
    {
      auto q = db.Cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
      NEREID_ASSIGN_OR_RETURN(has_meta, q->Step());
    }
    if (!has_meta) {
      NEREID_RETURN_IF_ERROR(ApplyMigrations(db, 0));
      return SetVersion(db, /*insert=*/true);
    }
    auto q = db.Cached("SELECT value FROM meta WHERE key = 'schema_version'");
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) return DataLoss("database has a meta table but no schema_version");
    std::string text = q->Text(0);
    int version = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return DataLoss("database schema_version '" + text + "' is not a number");
    }
    if (version > kSchemaVersion) {
      return Internal("database schema version " + std::to_string(version) +
                      " is newer than this server supports (" + std::to_string(kSchemaVersion) +
                      "); upgrade Nereid to open it");
    }
    if (version < kSchemaVersion) {
      NEREID_RETURN_IF_ERROR(ApplyMigrations(db, version));
      return SetVersion(db, /*insert=*/false);
    }
    return Status();
  };
  Status s = body();
  NEREID_RETURN_IF_ERROR(db.Exec(s.ok() ? "COMMIT" : "ROLLBACK"));
  return s;
}

}  // namespace nereid::store_sqlite
