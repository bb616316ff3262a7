#include "store_postgres/schema.h"

#include <string>
#include <vector>

namespace nereid::store_postgres {
namespace {

// Value columns follow the SQLite backend (src/store/README.md): field types are the integer of
// store::FieldType; `num` holds floats, ints and datetimes (us) as a double so one (path, num)
// index serves every numeric filter. NaN is stored as NULL, as in SQLite: PostgreSQL orders NaN
// above every number, which would make `x > 1` match NaN; NULL keeps "a comparison with a NaN is
// false" and "missing sorts last" the same on both backends. float8 keeps -0.0 bit for bit.

// Indexes serve the runs table (list_runs.cc): a page sorted by a sys/ time walks
// runs(project_id, <time>, number) and stops after a page, the number breaking ties as the
// keyset cursor does; text compares and sorts in the "C" collation (byte order, as SQLite),
// whatever the database's locale, so the text index is built in it too.

// User text can be long (a string value or a tag is up to wire::kMaxStringBytes, 1 MiB), but a
// btree entry must fit in a third of a page (~2700 bytes). So no btree holds user text whole:
// - fields_path_text indexes the first kIndexedTextChars characters (at most 4 bytes each, with
//   a path of at most 1024 bytes still ~2 KiB); list_runs_filter.cc adds to each comparison the
//   same comparison of the prefixes, which the index can serve (see TextKeyCondition there);
// - run_tags is unique on (run_id, md5(tag)) and found by md5(tag): tags are only ever looked up
//   by equality. Two different tags of one run with the same md5 would be stored once; that takes
//   deliberately crafted tags and only affects the run they are written to.
// series.last_text and the runs' name and description are not indexed. Other indexed text is
// bounded before it gets here: paths (1024 bytes), workspace, project and user names (64),
// writer ids (64), hashes, notebook paths (1024, api_notebooks.cc), settings keys (the server's
// own constants); custom_run_id (128 bytes) is bounded by the HTTP API only.

// Catalog: workspaces, projects, runs, fields, blobs, settings.
constexpr const char* kCatalogV1 = R"sql(
CREATE TABLE workspaces(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_us BIGINT NOT NULL);
CREATE TABLE projects(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  key TEXT NOT NULL UNIQUE,
  next_run_number BIGINT NOT NULL DEFAULT 1,
  created_us BIGINT NOT NULL,
  UNIQUE(workspace_id, name));
CREATE TABLE runs(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id BIGINT NOT NULL REFERENCES projects(id),
  number BIGINT NOT NULL,
  custom_run_id TEXT,
  name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'running',
  failed BOOLEAN NOT NULL DEFAULT FALSE,
  created_us BIGINT NOT NULL,
  modified_us BIGINT NOT NULL,
  ping_us BIGINT NOT NULL,
  owner TEXT NOT NULL DEFAULT '',
  size_bytes BIGINT NOT NULL DEFAULT 0,
  UNIQUE(project_id, number),
  UNIQUE(project_id, custom_run_id));
CREATE INDEX runs_created ON runs(project_id, created_us, number);
CREATE INDEX runs_modified ON runs(project_id, modified_us, number);
CREATE TABLE run_tags(
  run_id BIGINT NOT NULL REFERENCES runs(id),
  tag TEXT NOT NULL);
CREATE UNIQUE INDEX run_tags_key ON run_tags(run_id, md5(tag));
CREATE INDEX run_tags_tag ON run_tags(md5(tag), run_id);
CREATE TABLE fields(
  run_id BIGINT NOT NULL REFERENCES runs(id),
  path TEXT NOT NULL,
  type INTEGER NOT NULL,
  num DOUBLE PRECISION,
  int BIGINT,
  text TEXT,
  bytes BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY(run_id, path));
CREATE INDEX fields_path_num ON fields(path, num);
CREATE INDEX fields_path_text ON fields(path, left(text, 256) COLLATE "C");
CREATE TABLE blobs(sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL);
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

// Series: summaries, chunks (summary columns) and chunk data (the encoded points, bytea), and the
// per-writer sequence that makes ingest exactly-once across servers.
constexpr const char* kSeriesV1 = R"sql(
CREATE TABLE series(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id BIGINT NOT NULL REFERENCES runs(id),
  path TEXT NOT NULL,
  type INTEGER NOT NULL,
  count BIGINT NOT NULL DEFAULT 0,
  first_step DOUBLE PRECISION,
  last_step DOUBLE PRECISION,
  last_ts BIGINT,
  last DOUBLE PRECISION,
  min DOUBLE PRECISION,
  max DOUBLE PRECISION,
  last_text TEXT,
  UNIQUE(run_id, path));
CREATE INDEX series_path_last ON series(path, last);
CREATE INDEX series_path_min ON series(path, min);
CREATE INDEX series_path_max ON series(path, max);
CREATE TABLE chunks(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  series_id BIGINT NOT NULL REFERENCES series(id),
  seq BIGINT NOT NULL,
  count BIGINT NOT NULL,
  nan_count BIGINT NOT NULL,
  step_min DOUBLE PRECISION NOT NULL,
  step_max DOUBLE PRECISION NOT NULL,
  ts_min BIGINT NOT NULL,
  ts_max BIGINT NOT NULL,
  min DOUBLE PRECISION,
  max DOUBLE PRECISION,
  sum DOUBLE PRECISION,
  first DOUBLE PRECISION,
  last DOUBLE PRECISION,
  UNIQUE(series_id, seq));
CREATE INDEX chunks_step ON chunks(series_id, step_min);
CREATE TABLE chunk_data(
  chunk_id BIGINT PRIMARY KEY REFERENCES chunks(id),
  data BYTEA NOT NULL);
CREATE TABLE writers(
  run_id BIGINT NOT NULL REFERENCES runs(id),
  writer_id TEXT NOT NULL,
  last_sequence BIGINT NOT NULL,
  PRIMARY KEY(run_id, writer_id));
)sql";

// Accounts (users, tokens, memberships, sessions, limits) and notebooks.
constexpr const char* kAccountsV1 = R"sql(
CREATE TABLE users(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind INTEGER NOT NULL,
  is_admin BOOLEAN NOT NULL DEFAULT FALSE,
  disabled BOOLEAN NOT NULL DEFAULT FALSE,
  password TEXT NOT NULL DEFAULT '',
  rate_per_minute BIGINT,
  rate_burst BIGINT,
  created_us BIGINT NOT NULL);
CREATE TABLE tokens(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_us BIGINT NOT NULL,
  last_used_us BIGINT NOT NULL DEFAULT 0,
  revoked_us BIGINT NOT NULL DEFAULT 0);
CREATE INDEX tokens_user ON tokens(user_id);
CREATE TABLE workspace_members(
  workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
  user_id BIGINT NOT NULL REFERENCES users(id),
  role INTEGER NOT NULL,
  PRIMARY KEY(workspace_id, user_id));
CREATE INDEX workspace_members_user ON workspace_members(user_id);
CREATE TABLE project_members(
  project_id BIGINT NOT NULL REFERENCES projects(id),
  user_id BIGINT NOT NULL REFERENCES users(id),
  role INTEGER NOT NULL,
  PRIMARY KEY(project_id, user_id));
CREATE INDEX project_members_user ON project_members(user_id);
CREATE TABLE sessions(
  hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  created_us BIGINT NOT NULL,
  expires_us BIGINT NOT NULL);
CREATE TABLE workspace_limits(
  workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id),
  rate_per_minute BIGINT,
  rate_burst BIGINT,
  quota_bytes BIGINT);
CREATE TABLE notebooks(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id BIGINT NOT NULL REFERENCES projects(id),
  path TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  UNIQUE(project_id, path));
CREATE TABLE notebook_checkpoints(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  notebook_id BIGINT NOT NULL REFERENCES notebooks(id),
  number BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  created_us BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  UNIQUE(notebook_id, sha256),
  UNIQUE(notebook_id, number));
-- Rate limits shared by the servers (rate_share.h): GCRA's theoretical arrival time per key, on
-- the database's clock. UNLOGGED: it is rewritten every few hundred milliseconds and worth
-- nothing after a crash (an empty table means "every allowance is full"), so it skips the WAL.
CREATE UNLOGGED TABLE rate_state(
  space SMALLINT NOT NULL,
  key BIGINT NOT NULL,
  tat_us BIGINT NOT NULL,
  last_charge_us BIGINT NOT NULL DEFAULT 0,  -- carries a charge into ON CONFLICT DO UPDATE
  PRIMARY KEY(space, key));
CREATE INDEX rate_state_tat ON rate_state(space, tat_us);
)sql";

// Version 2: the per-project field list (store/project_fields.h), one row per (project, path,
// type) any of its runs has logged, maintained by ingest; filled here from the runs' fields. The
// path is in the "C" collation so that the prefix range of ListProjectFields and the order of the
// list are byte order, as in SQLite.
constexpr const char* kProjectFieldsV2 = R"sql(
CREATE TABLE project_fields(
  project_id BIGINT NOT NULL REFERENCES projects(id),
  path TEXT COLLATE "C" NOT NULL,
  type INTEGER NOT NULL,
  PRIMARY KEY(project_id, path, type));
INSERT INTO project_fields(project_id, path, type)
  SELECT DISTINCT r.project_id, f.path, f.type FROM fields f JOIN runs r ON r.id = f.run_id;
)sql";

// Version 3: the trash and blob references (store/trash.h), as in the SQLite schema: runs.trashed_us
// (NULL when not in the trash) and run_blobs, the blobs each run's values reference; blobs
// recorded before version 3 are referenced by the pseudo-run 0, so they are never removed.
constexpr const char* kTrashV3 = R"sql(
ALTER TABLE runs ADD COLUMN trashed_us BIGINT;
CREATE TABLE run_blobs(
  run_id BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY(run_id, sha256));
CREATE INDEX run_blobs_sha256 ON run_blobs(sha256);
INSERT INTO run_blobs(run_id, sha256) SELECT 0, sha256 FROM blobs;
)sql";

// Migration N (1-based) brings a database from version N-1 to N. Append only: a released
// migration never changes (a database that applied it would not apply it again).
std::vector<std::string> Migrations() {
  return {std::string(kCatalogV1) + kSeriesV1 + kAccountsV1, kProjectFieldsV2, kTrashV3};
}

// Any constant shared by every Nereid server: the key of the advisory lock held while migrating.
constexpr int64_t kMigrationLockKey = 0x4e45524549440001;  // "NEREID" 1

}  // namespace

int SchemaVersion() {
  return static_cast<int>(Migrations().size());
}

Status Migrate(PgConn& conn) {
  const std::vector<std::string> migrations = Migrations();
  const int known = static_cast<int>(migrations.size());
  return Transact(conn, [&](PgConn& c) -> Status {
    // Transaction-scoped: released at COMMIT/ROLLBACK, so a crashed server never holds it.
    NEREID_RETURN_IF_ERROR(
        c.Query("SELECT pg_advisory_xact_lock($1)", PgParams().Int(kMigrationLockKey)).status());
    NEREID_RETURN_IF_ERROR(
        c.ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations("
                     "version INTEGER PRIMARY KEY, applied_us BIGINT NOT NULL)"));
    NEREID_ASSIGN_OR_RETURN(PgResult r,
                            c.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    const int current = static_cast<int>(r.Int(0, 0));
    if (current > known) {
      return Internal("database schema version " + std::to_string(current) +
                      " is newer than this server supports (" + std::to_string(known) +
                      "); upgrade Nereid to open it");
    }
    for (int v = current + 1; v <= known; ++v) {
      NEREID_RETURN_IF_ERROR(c.ExecScript(migrations[v - 1]));
      NEREID_RETURN_IF_ERROR(c.Query("INSERT INTO schema_migrations(version, applied_us) "
                                     "VALUES($1, (extract(epoch FROM clock_timestamp()) * "
                                     "1000000)::bigint)",
                                     PgParams().Int(v))
                                 .status());
    }
    return Status();
  });
}

}  // namespace nereid::store_postgres
