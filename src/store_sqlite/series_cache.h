// Loading and storing the writer's view of a series (store/series_tail.h) in SQLite. The writer
// keeps them in a bounded SeriesCache: least recently used series are dropped (they are reloaded
// from the database on their next append).
//
// The open tail is stored as up to two chunk rows, so that a small batch does not re-encode and
// rewrite the whole tail (up to 4,096 points) each time: a *base* chunk (seq k) with the points
// up to the last full encode, and a *delta* chunk (seq k + 1) with the points since. When the
// delta reaches kDeltaMaxPoints, or the tail is sealed, the whole tail is encoded into the base
// and the delta row is deleted. Both are ordinary chunks to readers, which already merge
// overlapping chunks by step with ties in seq order (the delta's points arrived later).
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

// Points a delta chunk holds at most before the tail is encoded whole again. A small batch then
// encodes about half of this instead of the whole tail; a tail smaller than this is always
// encoded whole (one chunk row).
inline constexpr size_t kDeltaMaxPoints = 256;

// Loads a series' summary and open tail (its base and delta chunks) from the database.
Result<std::unique_ptr<SeriesState>> LoadSeries(Db& db, int64_t series_id);

// Stores the tail (its delta, or the whole tail into the base) and the summary row; returns the
// change in stored bytes. When the tail holds kTargetChunkPoints or more, it is encoded whole and
// sealed, and a new empty tail begins.
Result<int64_t> StoreSeries(Db& db, SeriesState& s);

}  // namespace nereid::store_sqlite
