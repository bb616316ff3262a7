// The PostgreSQL schema of a Nereid store and its versioned migrations, applied at start.
#pragma once

#include "nereid/status.h"
#include "store_postgres/pg.h"

namespace nereid::store_postgres {

// fields_path_text indexes this many leading characters of a string field (schema.cc says why);
// a query that wants the index compares `left(text, kIndexedTextChars)` spelt exactly as there.
inline constexpr int kIndexedTextChars = 256;

// The newest schema version this binary knows.
int SchemaVersion();

// Applies every migration newer than the database's version, each in its own transaction, under
// an advisory lock so that several servers starting at once apply each migration exactly once.
// Refuses (FailedPrecondition-like Internal error naming both versions) a database whose version
// is newer than this binary's.
Status Migrate(PgConn& conn);

}  // namespace nereid::store_postgres
