// The SQLite schema of a Nereid store (version kSchemaVersion) and its creation.
//
// Thread-safety: call on the writer connection before any other use of the database.
#pragma once

#include "store_sqlite/db.h"

namespace nereid::store_sqlite {

inline constexpr int kSchemaVersion = 3;

// Creates the tables on a new database, or checks the version of an existing one and brings an
// older one up to date (schema.cc's migrations, in the same transaction). Refuses
// (FailedPrecondition-like Internal error naming both versions) a database written by a newer
// Nereid, so an old binary never misreads it.
Status EnsureSchema(Db& db);

}  // namespace nereid::store_sqlite
