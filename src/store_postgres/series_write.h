// Loading and storing the writer's view of a series (store/series_tail.h) in PostgreSQL: the
// series row (summary) and its tail chunk in chunks + chunk_data. NaN summary values are stored
// as NULL (schema.cc says why) and read back as NaN.
//
// Thread-safety: used by the writer thread only, inside its transaction.
#pragma once

#include <memory>

#include "store/series_tail.h"
#include "store_postgres/pg.h"

namespace nereid::store_postgres {

// Loads a series' summary and tail chunk.
Result<std::unique_ptr<store::SeriesState>> LoadSeries(PgConn& conn, int64_t series_id);

// Stores the tail chunk (insert or update) and the summary row; returns the change in stored
// bytes. When the tail holds kTargetChunkPoints or more, it is sealed and a new empty tail begins.
Result<int64_t> StoreSeries(PgConn& conn, store::SeriesState& s);

// Binds a double, NaN as NULL.
PgParams& Real(PgParams& p, double v);
PgParams& OptReal(PgParams& p, const std::optional<double>& v);

}  // namespace nereid::store_postgres
