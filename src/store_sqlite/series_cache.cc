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
  // The last two chunks: a sealed last chunk means an empty tail; two unsealed ones in a row are
  // the tail's base and delta (series_cache.h).
  struct Row {
    int64_t id, seq, count;
    std::string data;
  };
  std::vector<Row> rows;
  {
    auto q = db.Cached(
        "SELECT c.id, c.seq, c.count, d.data FROM chunks c JOIN chunk_data d ON d.chunk_id = c.id "
        "WHERE c.series_id = ? ORDER BY c.seq DESC LIMIT 2");
    q->Bind(1, series_id);
    for (;;) {
      NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      rows.push_back(Row{q->Int(0), q->Int(1), q->Int(2), std::string(q->Blob(3))});
    }
  }
  if (rows.empty()) return s;
  auto sealed = [](const Row& r) {
    return static_cast<size_t>(r.count) >= series::kTargetChunkPoints;
  };
  if (sealed(rows[0])) {
    s->tail_seq = rows[0].seq + 1;  // the next append starts a new chunk
    return s;
  }
  const bool has_delta = rows.size() == 2 && !sealed(rows[1]) && rows[1].seq + 1 == rows[0].seq;
  const Row& base = has_delta ? rows[1] : rows[0];
  s->tail_chunk_id = base.id;
  s->tail_seq = base.seq;
  s->tail_bytes = static_cast<int64_t>(base.data.size());
  auto decode_into = [&](const std::string& data) -> Status {
    if (s->type == store::FieldType::kFloatSeries) {
      NEREID_ASSIGN_OR_RETURN(std::vector<series::FloatPoint> pts, series::DecodeFloatChunk(data));
      s->floats.insert(s->floats.end(), pts.begin(), pts.end());
    } else {
      NEREID_ASSIGN_OR_RETURN(std::vector<series::StringPoint> pts,
                              series::DecodeStringChunk(data));
      for (auto& p : pts) s->strings.push_back(std::move(p));
    }
    return Status();
  };
  NEREID_RETURN_IF_ERROR(decode_into(base.data));
  s->base_points = s->TailPoints();
  if (has_delta) {
    s->delta_chunk_id = rows[0].id;
    s->delta_bytes = static_cast<int64_t>(rows[0].data.size());
    NEREID_RETURN_IF_ERROR(decode_into(rows[0].data));
  }
  return s;
}

namespace {

void BindSummary(Stmt& q, int first, const store::EncodedTail& tail) {
  const series::ChunkSummary& sum = tail.summary;
  const bool is_float = tail.is_float;
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
}

// Inserts a chunk row (and its data) when *chunk_id is 0, else rewrites it.
Status WriteChunk(Db& db, int64_t series_id, int64_t seq, const store::EncodedTail& tail,
                  int64_t* chunk_id) {
  if (*chunk_id == 0) {
    auto q = db.Cached(
        "INSERT INTO chunks(series_id, seq, count, nan_count, step_min, step_max, ts_min, "
        "ts_max, min, max, sum, first, last) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
    q->Bind(1, series_id);
    q->Bind(2, seq);
    BindSummary(*q, 3, tail);
    NEREID_RETURN_IF_ERROR(q->Run());
    *chunk_id = sqlite3_last_insert_rowid(db.raw());
    auto d = db.Cached("INSERT INTO chunk_data(chunk_id, data) VALUES(?, ?)");
    d->Bind(1, *chunk_id);
    d->BindBlob(2, tail.data);
    return d->Run();
  }
  auto q = db.Cached(
      "UPDATE chunks SET count = ?, nan_count = ?, step_min = ?, step_max = ?, ts_min = ?, "
      "ts_max = ?, min = ?, max = ?, sum = ?, first = ?, last = ? WHERE id = ?");
  BindSummary(*q, 1, tail);
  q->Bind(12, *chunk_id);
  NEREID_RETURN_IF_ERROR(q->Run());
  auto d = db.Cached("UPDATE chunk_data SET data = ? WHERE chunk_id = ?");
  d->BindBlob(1, tail.data);
  d->Bind(2, *chunk_id);
  return d->Run();
}

Status DeleteChunk(Db& db, int64_t chunk_id) {
  auto d = db.Cached("DELETE FROM chunk_data WHERE chunk_id = ?");
  d->Bind(1, chunk_id);
  NEREID_RETURN_IF_ERROR(d->Run());
  auto q = db.Cached("DELETE FROM chunks WHERE id = ?");
  q->Bind(1, chunk_id);
  return q->Run();
}

}  // namespace

Result<int64_t> StoreSeries(Db& db, SeriesState& s) {
  if (!s.dirty) return int64_t{0};
  int64_t delta = 0;
  const size_t n = s.TailPoints();
  if (n > 0) {
    // Only the points since the last full encode go to the delta, while the base is big enough
    // for that to pay and the delta small enough; otherwise the whole tail goes to the base.
    const bool whole = n >= series::kTargetChunkPoints || s.tail_chunk_id == 0 ||
                       s.base_points < kDeltaMaxPoints || s.base_points > n ||
                       n - s.base_points > kDeltaMaxPoints;
    if (!whole) {
      store::EncodedTail tail = store::EncodeTailFrom(s, s.base_points);
      NEREID_RETURN_IF_ERROR(WriteChunk(db, s.id, s.tail_seq + 1, tail, &s.delta_chunk_id));
      const auto bytes = static_cast<int64_t>(tail.data.size());
      delta += bytes - s.delta_bytes;
      s.delta_bytes = bytes;
    } else {
      store::EncodedTail tail = store::EncodeTail(s);
      NEREID_RETURN_IF_ERROR(WriteChunk(db, s.id, s.tail_seq, tail, &s.tail_chunk_id));
      if (s.delta_chunk_id != 0) {
        NEREID_RETURN_IF_ERROR(DeleteChunk(db, s.delta_chunk_id));
        delta -= s.delta_bytes;
        s.delta_chunk_id = 0;
        s.delta_bytes = 0;
      }
      s.base_points = n;
      delta += store::TailStored(s, static_cast<int64_t>(tail.data.size()));
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

}  // namespace nereid::store_sqlite
