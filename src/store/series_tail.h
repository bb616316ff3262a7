// A series as its writer sees it: the summary and the open tail chunk, decoded, so that appending
// N points costs O(N) plus re-encoding one chunk instead of a read-decode-encode of the tail per
// batch; and a bounded cache of them. Backend-neutral: each backend loads and stores the state
// with its own SQL (store_sqlite/series_cache.cc, store_postgres/series_write.cc).
//
// Thread-safety: none; each store uses its states and cache from its writer thread only.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "series/float_chunk.h"
#include "store/types.h"

namespace nereid::store {

struct SeriesState {
  int64_t id = 0;
  int64_t run_id = 0;
  FieldType type = FieldType::kFloatSeries;
  // Summary, mirrored in the series row.
  uint64_t count = 0;
  double first_step = 0, last_step = 0;
  int64_t last_ts = 0;
  double last = 0;
  std::optional<double> min, max;
  std::string last_text;  // string series: last value; file series: last file (JSON)
  // Open tail chunk: points sorted by step, ties by arrival, then new points in arrival order.
  int64_t tail_chunk_id = 0;  // 0 until the tail is first stored
  int64_t tail_seq = 0;
  int64_t tail_bytes = 0;  // encoded size as stored (for run size accounting)
  // A backend may store the tail as two chunk rows so that a small batch re-encodes only the
  // points since the last full encode (store_sqlite/series_cache.h): the first `base_points`
  // points of the tail are in the chunk `tail_chunk_id` (seq tail_seq), the rest in the chunk
  // `delta_chunk_id` (seq tail_seq + 1; 0 while there is none) of `delta_bytes`. Backends that
  // write the whole tail every time leave these at 0.
  size_t base_points = 0;
  int64_t delta_chunk_id = 0;
  int64_t delta_bytes = 0;
  std::vector<series::FloatPoint> floats;
  std::vector<series::StringPoint> strings;
  bool dirty = false;  // tail or summary changed since last stored

  size_t TailPoints() const { return floats.size() + strings.size(); }

  // Appends one point (in arrival order) and updates the summary.
  void Append(const series::FloatPoint& p);
  void Append(series::StringPoint p);
};

// The tail chunk ready to store: its points sorted by step (ties by arrival), encoded, and its
// summary (string chunks: count, steps and timestamps only).
struct EncodedTail {
  std::string data;
  series::ChunkSummary summary;
  bool is_float = true;
};
// Sorts the tail in place and encodes it. The tail must hold at least one point.
EncodedTail EncodeTail(SeriesState& s);
// The same for the tail's points from position `from` on (sorting only those); from < TailPoints().
EncodedTail EncodeTailFrom(SeriesState& s, size_t from);
// After the tail was stored as `stored_bytes`: updates tail_bytes, and when the tail holds
// kTargetChunkPoints or more, seals it so the next point opens a new chunk. Returns the change in
// stored bytes (for run size accounting).
int64_t TailStored(SeriesState& s, int64_t stored_bytes);

class SeriesCache {
 public:
  explicit SeriesCache(size_t max_points) : max_points_(max_points) {}

  SeriesState* Find(int64_t series_id);
  SeriesState* Insert(std::unique_ptr<SeriesState> state);
  void Evict(int64_t series_id);
  void Clear();
  // Drops least recently used series until the cached tail points fit the bound.
  void Trim();

 private:
  struct Entry {
    std::unique_ptr<SeriesState> state;
    std::list<int64_t>::iterator lru;
  };
  size_t max_points_;
  std::unordered_map<int64_t, Entry> map_;
  std::list<int64_t> lru_;  // most recent first
};

}  // namespace nereid::store
