#include "store_sqlite/series_cache.h"

namespace nereid::store_sqlite {
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

Result<int64_t> StoreSeries(Db& db, SeriesState& s) {
  if (!s.dirty) return int64_t{0};
  int64_t delta = 0;
  if (s.TailPoints() > 0) {
    store::EncodedTail tail = store::EncodeTail(s);
    const std::string& data = tail.data;
    const series::ChunkSummary& sum = tail.summary;
    bool is_float = tail.is_float;
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
    delta += store::TailStored(s, static_cast<int64_t>(data.size()));
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

}  // namespace nereid::store_sqlite
