#include "store_postgres/series_write.h"

#include <cmath>

namespace nereid::store_postgres {
using store::FieldType;

PgParams& Real(PgParams& p, double v) {
  return std::isnan(v) ? p.Null() : p.Double(v);
}

PgParams& OptReal(PgParams& p, const std::optional<double>& v) {
  return v ? Real(p, *v) : p.Null();
}

Result<std::unique_ptr<store::SeriesState>> LoadSeries(PgConn& conn, int64_t series_id) {
  auto s = std::make_unique<store::SeriesState>();
  s->id = series_id;
  {
    NEREID_ASSIGN_OR_RETURN(
        PgResult r,
        conn.Query("SELECT run_id, type, count, first_step, last_step, last_ts, last, min, max, "
                   "last_text FROM series WHERE id = $1",
                   PgParams().Int(series_id), PgFormat::kBinary));
    if (r.rows() == 0) return Internal("series " + std::to_string(series_id) + " is missing");
    s->run_id = r.Int(0, 0);
    s->type = static_cast<FieldType>(r.Int(0, 1));
    s->count = static_cast<uint64_t>(r.Int(0, 2));
    s->first_step = r.Double(0, 3);
    s->last_step = r.Double(0, 4);
    s->last_ts = r.Int(0, 5);
    s->last = r.Double(0, 6);  // NULL (a NaN last value) reads as NaN
    if (!r.IsNull(0, 7)) s->min = r.Double(0, 7);
    if (!r.IsNull(0, 8)) s->max = r.Double(0, 8);
    s->last_text = r.Text(0, 9);
  }
  NEREID_ASSIGN_OR_RETURN(PgResult r,
                          conn.Query("SELECT c.id, c.seq, c.count, d.data FROM chunks c "
                                     "JOIN chunk_data d ON d.chunk_id = c.id "
                                     "WHERE c.series_id = $1 ORDER BY c.seq DESC LIMIT 1",
                                     PgParams().Int(series_id), PgFormat::kBinary));
  if (r.rows() == 0) return s;
  if (static_cast<size_t>(r.Int(0, 2)) >= series::kTargetChunkPoints) {
    s->tail_seq = r.Int(0, 1) + 1;  // the last chunk is sealed: the next append starts a new one
    return s;
  }
  s->tail_chunk_id = r.Int(0, 0);
  s->tail_seq = r.Int(0, 1);
  std::string_view data = r.Raw(0, 3);
  s->tail_bytes = static_cast<int64_t>(data.size());
  if (s->type == FieldType::kFloatSeries) {
    NEREID_ASSIGN_OR_RETURN(s->floats, series::DecodeFloatChunk(data));
  } else {
    NEREID_ASSIGN_OR_RETURN(s->strings, series::DecodeStringChunk(data));
  }
  return s;
}

Result<int64_t> StoreSeries(PgConn& conn, store::SeriesState& s) {
  if (!s.dirty) return int64_t{0};
  int64_t delta = 0;
  if (s.TailPoints() > 0) {
    store::EncodedTail tail = store::EncodeTail(s);
    const series::ChunkSummary& sum = tail.summary;
    auto summary = [&](PgParams& p) {
      p.Int(sum.count).Int(sum.nan_count).Double(sum.step_min).Double(sum.step_max);
      p.Int(sum.timestamp_min).Int(sum.timestamp_max);
      bool has_values = tail.is_float && sum.count > sum.nan_count;
      has_values ? Real(p, sum.min) : p.Null();
      has_values ? Real(p, sum.max) : p.Null();
      tail.is_float ? Real(p, sum.sum) : p.Null();
      tail.is_float ? Real(p, sum.first) : p.Null();
      tail.is_float ? Real(p, sum.last) : p.Null();
    };
    if (s.tail_chunk_id == 0) {
      PgParams p;
      p.Int(s.id).Int(s.tail_seq);
      summary(p);
      NEREID_ASSIGN_OR_RETURN(
          PgResult r, conn.Query("INSERT INTO chunks(series_id, seq, count, nan_count, step_min, "
                                 "step_max, ts_min, ts_max, min, max, sum, first, last) "
                                 "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id",
                                 p));
      s.tail_chunk_id = r.Int(0, 0);
      NEREID_RETURN_IF_ERROR(conn.Query("INSERT INTO chunk_data(chunk_id, data) VALUES($1, $2)",
                                        PgParams().Int(s.tail_chunk_id).Bytes(tail.data))
                                 .status());
    } else {
      PgParams p;
      summary(p);
      p.Int(s.tail_chunk_id);
      NEREID_RETURN_IF_ERROR(
          conn.Query("UPDATE chunks SET count = $1, nan_count = $2, step_min = $3, step_max = $4, "
                     "ts_min = $5, ts_max = $6, min = $7, max = $8, sum = $9, first = $10, "
                     "last = $11 WHERE id = $12",
                     p)
              .status());
      NEREID_RETURN_IF_ERROR(conn.Query("UPDATE chunk_data SET data = $1 WHERE chunk_id = $2",
                                        PgParams().Bytes(tail.data).Int(s.tail_chunk_id))
                                 .status());
    }
    delta += store::TailStored(s, static_cast<int64_t>(tail.data.size()));
  }
  bool is_float = s.type == FieldType::kFloatSeries;
  PgParams p;
  p.Int(static_cast<int64_t>(s.count)).Double(s.first_step).Double(s.last_step).Int(s.last_ts);
  is_float ? Real(p, s.last) : p.Null();
  OptReal(p, s.min);
  OptReal(p, s.max);
  is_float ? p.Null() : p.Text(s.last_text);
  p.Int(s.id);
  NEREID_RETURN_IF_ERROR(
      conn.Query("UPDATE series SET count = $1, first_step = $2, last_step = $3, last_ts = $4, "
                 "last = $5, min = $6, max = $7, last_text = $8 WHERE id = $9",
                 p)
          .status());
  s.dirty = false;
  return delta;
}

}  // namespace nereid::store_postgres
