// The embedded SQLite backend of store::Store: one database file DIR/nereid.db in WAL mode, one
// writer thread that group-commits every queued write, and a small pool of reader connections.
// Schema and design: src/store/README.md.
#pragma once

#include <filesystem>
#include <memory>

#include "nereid/status.h"
#include "store/store.h"

namespace nereid::store_sqlite {

// Registers the "sqlite" scheme with store::RegisterBackend: "sqlite:DIR" opens DIR/nereid.db,
// bare "sqlite" opens options.data_dir. Call once at start-up (idempotent).
void Register();

// Opens (creating if missing) the store in `dir`. Blobs are expected under options.data_dir (or
// `dir` when data_dir is empty). Errors: Internal/DataLoss when the database cannot be opened or
// was written by a newer schema version; InsufficientStorage when the disk is full.
Result<std::unique_ptr<store::Store>> OpenSqliteStore(const store::StoreOptions& options,
                                                      const std::filesystem::path& dir);

}  // namespace nereid::store_sqlite
