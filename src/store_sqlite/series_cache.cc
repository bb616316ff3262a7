#include "store_sqlite/series_cache.h"

#include <algorithm>
#include <cmath>

namespace nereid::store_sqlite {
namespace {

template <typename P>
void UpdateSummary(SeriesState& s, const P& p) {
  if (s.count == 0 || p.step < s.first_step) s.first_step = p.step;
  if (s.count == 0 || p.step >= s.last_step) {  // ties: the later arrival is the last
    s.last_step = p.step;
    s.last_ts = p.timestamp_us;
    if constexpr (std::is_same_v<P, series::FloatPoint>) {
      s.last = p.value;
    } else {
      s.last_text = p.value;
    }
  }
  if constexpr (std::is_same_v<P, series::FloatPoint>) {
    if (!std::isnan(p.value)) {
      s.min = s.min ? std::min(*s.min, p.value) : p.value;
      s.max = s.max ? std::max(*s.max, p.value) : p.value;
    }
  }
  s.count++;
  s.dirty = true;
}

}  // namespace

void SeriesState::Append(const series::FloatPoint& p) {
  UpdateSummary(*this, p);
  floats.push_back(p);
}

void SeriesState::Append(series::StringPoint p) {
  UpdateSummary(*this, p);
  strings.push_back(std::move(p));
}

Result<std::unique_ptr<SeriesState>> LoadSeries(Db& db, int64_t series_id) {
  auto s = std::make_unique<SeriesState>();
  s->id = series_id;
  {
    auto q = db.Cached(
        "SELECT run_id, type, count, first_step, last_step, last_ts, last, min, max, last_text "
        "FROM series WHERE id = ?");
    q->Bind(1, series_id);
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) return Internal("series " + std::to_string(series_id) + " is missing");
    s->run_id = q->Int(0);
    s->type = static_cast<store::FieldType>(q->Int(1));
    s->count = static_cast<uint64_t>(q->Int(2));
    s->first_step = q->Real(3);
    s->last_step = q->Real(4);
    s->last_ts = q->Int(5);
    s->last = q->Real(6);
    s->min = q->OptReal(7);
    s->max = q->OptReal(8);
    s->last_text = q->Text(9);
  }
  auto q = db.Cached(
      "SELECT c.id, c.seq, c.count, d.data FROM chunks c JOIN chunk_data d ON d.chunk_id = c.id "
      "WHERE c.series_id = ? ORDER BY c.seq DESC LIMIT 1");
  q->Bind(1, series_id);
  NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return s;
  if (static_cast<size_t>(q->Int(2)) >= series::kTargetChunkPoints) {
    s->tail_seq = q->Int(1) + 1;  // the last chunk is sealed: the next append starts a new one
    return s;
  }
  s->tail_chunk_id = q->Int(0);
  s->tail_seq = q->Int(1);
  std::string_view data = q->Blob(3);
  s->tail_bytes = static_cast<int64_t>(data.size());
  if (s->type == store::FieldType::kFloatSeries) {
    NEREID_ASSIGN_OR_RETURN(s->floats, series::DecodeFloatChunk(data));
  } else {
    NEREID_ASSIGN_OR_RETURN(s->strings, series::DecodeStringChunk(data));
  }
  return s;
}

namespace {

series::ChunkSummary SummarizeStrings(const std::vector<series::StringPoint>& points) {
  series::ChunkSummary s;
  s.count = static_cast<uint32_t>(points.size());
  if (points.empty()) return s;
  s.step_min = points.front().step;  // points are sorted by step
  s.step_max = points.back().step;
  s.timestamp_min = s.timestamp_max = points.front().timestamp_us;
  for (const auto& p : points) {
    s.timestamp_min = std::min(s.timestamp_min, p.timestamp_us);
    s.timestamp_max = std::max(s.timestamp_max, p.timestamp_us);
  }
  return s;
}

}  // namespace

Result<int64_t> StoreSeries(Db& db, SeriesState& s) {
  if (!s.dirty) return int64_t{0};
  int64_t delta = 0;
  if (s.TailPoints() > 0) {
    std::string data;
    series::ChunkSummary sum;
    bool is_float = s.type == store::FieldType::kFloatSeries;
    if (is_float) {
      series::SortByStep(s.floats);
      sum = series::Summarize(s.floats);
      data = series::EncodeFloatChunk(s.floats);
    } else {
      series::SortByStep(s.strings);
      sum = SummarizeStrings(s.strings);
      data = series::EncodeStringChunk(s.strings);
    }
    auto bind_summary = [&](Stmt& q, int first) {
      q.Bind(first, int64_t{sum.count});
      q.Bind(first + 1, int64_t{sum.nan_count});
      q.Bind(first + 2, sum.step_min);
      q.Bind(first + 3, sum.step_max);
      q.Bind(first + 4, sum.timestamp_min);
      q.Bind(first + 5, sum.timestamp_max);
      bool has_values = is_float && sum.count > sum.nan_count;
      q.Bind(first + 6, has_values ? std::optional(sum.min) : std::nullopt);
      q.Bind(first + 7, has_values ? std::optional(sum.max) : std::nullopt);
      q.Bind(first + 8, is_float ? std::optional(sum.sum) : std::nullopt);
      q.Bind(first + 9, is_float ? std::optional(sum.first) : std::nullopt);
      q.Bind(first + 10, is_float ? std::optional(sum.last) : std::nullopt);
    };
    if (s.tail_chunk_id == 0) {
      auto q = db.Cached(
          "INSERT INTO chunks(series_id, seq, count, nan_count, step_min, step_max, ts_min, "
          "ts_max, min, max, sum, first, last) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
      q->Bind(1, s.id);
      q->Bind(2, s.tail_seq);
      bind_summary(*q, 3);
      NEREID_RETURN_IF_ERROR(q->Run());
      s.tail_chunk_id = sqlite3_last_insert_rowid(db.raw());
      auto d = db.Cached("INSERT INTO chunk_data(chunk_id, data) VALUES(?, ?)");
      d->Bind(1, s.tail_chunk_id);
      d->BindBlob(2, data);
      NEREID_RETURN_IF_ERROR(d->Run());
    } else {
      auto q = db.Cached(
          "UPDATE chunks SET count = ?, nan_count = ?, step_min = ?, step_max = ?, ts_min = ?, "
          "ts_max = ?, min = ?, max = ?, sum = ?, first = ?, last = ? WHERE id = ?");
      bind_summary(*q, 1);
      q->Bind(12, s.tail_chunk_id);
      NEREID_RETURN_IF_ERROR(q->Run());
      auto d = db.Cached("UPDATE chunk_data SET data = ? WHERE chunk_id = ?");
      d->BindBlob(1, data);
      d->Bind(2, s.tail_chunk_id);
      NEREID_RETURN_IF_ERROR(d->Run());
    }
    delta += static_cast<int64_t>(data.size()) - s.tail_bytes;
    s.tail_bytes = static_cast<int64_t>(data.size());
    if (s.TailPoints() >= series::kTargetChunkPoints) {  // seal; the next point opens a new chunk
      s.floats.clear();
      s.strings.clear();
      s.tail_chunk_id = 0;
      s.tail_bytes = 0;
      s.tail_seq++;
    }
  }
  auto q = db.Cached(
      "UPDATE series SET count = ?, first_step = ?, last_step = ?, last_ts = ?, last = ?, "
      "min = ?, max = ?, last_text = ? WHERE id = ?");
  bool is_float = s.type == store::FieldType::kFloatSeries;
  q->BindAll(s.count, s.first_step, s.last_step, s.last_ts);
  q->Bind(5, is_float ? std::optional(s.last) : std::nullopt);
  q->Bind(6, s.min);
  q->Bind(7, s.max);
  q->Bind(8, is_float ? std::nullopt : std::optional<std::string_view>(s.last_text));
  q->Bind(9, s.id);
  NEREID_RETURN_IF_ERROR(q->Run());
  s.dirty = false;
  return delta;
}

SeriesState* SeriesCache::Find(int64_t series_id) {
  auto it = map_.find(series_id);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.state.get();
}

SeriesState* SeriesCache::Insert(std::unique_ptr<SeriesState> state) {
  int64_t id = state->id;
  Evict(id);
  lru_.push_front(id);
  SeriesState* raw = state.get();
  map_.emplace(id, Entry{std::move(state), lru_.begin()});
  return raw;
}

void SeriesCache::Evict(int64_t series_id) {
  auto it = map_.find(series_id);
  if (it == map_.end()) return;
  lru_.erase(it->second.lru);
  map_.erase(it);
}

void SeriesCache::Clear() {
  map_.clear();
  lru_.clear();
}

void SeriesCache::Trim() {
  size_t total = 0;
  for (const auto& [id, e] : map_) total += e.state->TailPoints() + 1;
  while (total > max_points_ && !lru_.empty()) {
    auto it = map_.find(lru_.back());
    total -= it->second.state->TailPoints() + 1;
    lru_.pop_back();
    map_.erase(it);
  }
}

}  // namespace nereid::store_sqlite
