// Loading and storing the writer's view of a series (store/series_tail.h) in SQLite. The writer
// keeps them in a bounded SeriesCache: least recently used series are dropped (they are reloaded
// from the database on their next append).
//
// Thread-safety: used by the writer thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/series_tail.h"
#include "store_sqlite/db.h"

namespace nereid::store_sqlite {

using store::SeriesCache;
using store::SeriesState;

// Loads a series' summary and tail chunk from the database.
Result<std::unique_ptr<SeriesState>> LoadSeries(Db& db, int64_t series_id);

// Stores the tail chunk (insert or update) and the summary row; returns the change in stored
// bytes. When the tail holds kTargetChunkPoints or more, it is sealed and a new empty tail begins.
Result<int64_t> StoreSeries(Db& db, SeriesState& s);

}  // namespace nereid::store_sqlite
