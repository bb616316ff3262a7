// `nereid admin migrate-store`: copies a whole embedded (SQLite) store into an empty PostgreSQL
// database, table by table, and verifies the copy by row counts and checksums.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "nereid/status.h"

namespace nereid::store_migrate {

struct TableCopy {
  std::string table;
  int64_t rows = 0;
  std::string sha256;  // of the table's rows in a canonical typed form, identical on both sides
};

struct MigrateReport {
  std::vector<TableCopy> tables;
  int64_t files_copied = 0;  // blobs copied into a different files folder
  int64_t files_bytes = 0;
};

struct MigrateOptions {
  std::filesystem::path sqlite_dir;  // holds nereid.db (the server's --data)
  std::string postgres_url;
  // When set and different from sqlite_dir/files: every recorded blob is copied there and its
  // SHA-256 checked (the PostgreSQL servers' --files).
  std::filesystem::path files_to;
  std::function<void(const std::string&)> progress;  // one line per step; may be empty
};

// The source is read in one read transaction (stop the server first: writes made during the copy
// would not be copied). The target must be empty (no workspaces, users or settings); its schema
// is created or migrated first. Everything is copied in one PostgreSQL transaction, so a failure
// leaves the target as it was. Then every table is read back from PostgreSQL and its row count and
// checksum compared with the source's; any difference is DataLoss.
Result<MigrateReport> MigrateSqliteToPostgres(const MigrateOptions& options);

}  // namespace nereid::store_migrate
