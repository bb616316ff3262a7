// The PostgreSQL backend of store::Store, for running several stateless `nereid server`
// processes against one database. Same data model and chunk format as the SQLite backend; see
// src/store_postgres/README.md.
#pragma once

#include <memory>

#include "nereid/status.h"
#include "store/store.h"

namespace nereid::store_postgres {

// Registers the "postgres" and "postgresql" schemes with store::RegisterBackend
// (postgres://user@host:port/db?...). Call once at start-up (idempotent).
void Register();

// Connects, applies pending schema migrations (refusing a database newer than this binary), and
// opens the store. Blobs live under options.data_dir/files (a directory every server shares).
// Errors: Unavailable when PostgreSQL cannot be reached; Internal for a newer schema.
Result<std::unique_ptr<store::Store>> OpenPostgresStore(const store::StoreOptions& options);

}  // namespace nereid::store_postgres
