// Series reads: raw points paged by step, and downsampled buckets. Same results as the SQLite
// backend (src/store_sqlite/series_read.cc): each read runs in one REPEATABLE READ transaction,
// so it sees one snapshot even while a writer (of any server) rewrites the tail chunk. Chunk data
// (bytea) comes back in binary format.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "store/codec.h"
#include "store_postgres/pg_store_impl.h"

namespace nereid::store_postgres {
using store::FieldType;

namespace {

struct SeriesRow {
  int64_t id = 0;
  FieldType type = FieldType::kFloatSeries;
  uint64_t count = 0;
  double first_step = 0, last_step = 0;
};

Result<SeriesRow> FindSeries(PgConn& conn, int64_t run, const std::string& path) {
  NEREID_ASSIGN_OR_RETURN(PgResult r,
                          conn.Query("SELECT id, type, count, first_step, last_step FROM series "
                                     "WHERE run_id = $1 AND path = $2",
                                     PgParams().Int(run).Text(path), PgFormat::kBinary));
  if (r.rows() == 0) return NotFound("series '" + path + "' not found");
  return SeriesRow{r.Int(0, 0), static_cast<FieldType>(r.Int(0, 1)),
                   static_cast<uint64_t>(r.Int(0, 2)), r.Double(0, 3), r.Double(0, 4)};
}

// A decoded point with its arrival position, for merging chunks whose step ranges overlap.
struct Ref {
  double step;
  int64_t seq;     // chunk seq: later chunks arrived later
  uint32_t index;  // position in the chunk (ties by arrival within it)
  uint32_t slot;   // where the point is kept
};

// Chunks fetched per round trip while paging: enough to amortize the round trip, few enough that
// a page near the start of a long series does not pull the whole series.
constexpr int kChunksPerFetch = 8;

// Chunk data per round trip while bucketing, bounding the memory the copied blobs hold.
constexpr size_t kBucketFetchChunks = 64;

}  // namespace

Result<store::SeriesPage> PgStore::ReadSeries(const store::SeriesQuery& query) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  if (query.limit < 1 || query.limit > 100000) {
    return InvalidArgument("limit must be 1..100000");
  }
  double from = query.step_from;
  uint64_t skip = 0;  // points at step `from` already returned by earlier pages
  if (!query.cursor.empty()) {
    NEREID_ASSIGN_OR_RETURN(nlohmann::json c, store::DecodeCursor(query.cursor));
    if (!c.contains("s") || !c["s"].is_number() || !c.contains("n") ||
        !c["n"].is_number_unsigned()) {
      return InvalidArgument("invalid cursor");
    }
    from = std::max(from, c["s"].get<double>());
    skip = c["n"].get<uint64_t>();
  }
  const double to = query.step_to;
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_->Borrow());
  store::SeriesPage page;
  Status s = Transact(
      *lease,
      [&](PgConn& conn) -> Status {
        page = store::SeriesPage();
        NEREID_ASSIGN_OR_RETURN(RunKey run, ResolveRun(conn, query.run_id));
        NEREID_ASSIGN_OR_RETURN(SeriesRow series, FindSeries(conn, run.id, query.path));
        page.type = series.type;
        const bool is_float = series.type == FieldType::kFloatSeries;
        std::vector<series::FloatPoint> floats;
        std::vector<series::StringPoint> strings;
        std::vector<Ref> refs;
        auto count_final = [&](double below) {
          uint64_t n = 0;
          for (const Ref& ref : refs) n += ref.step < below ? 1 : 0;
          return n;
        };
        // Chunks by (step_min, seq), fetched a few at a time (keyset paging): once the next
        // chunk starts above step m, every point below m is final.
        double after_step = -INFINITY;
        int64_t after_seq = -1;
        bool done = false;
        while (!done) {
          NEREID_ASSIGN_OR_RETURN(
              PgResult r,
              conn.Query("SELECT c.seq, c.step_min, d.data FROM chunks c "
                         "JOIN chunk_data d ON d.chunk_id = c.id "
                         "WHERE c.series_id = $1 AND c.step_max >= $2 AND c.step_min <= $3 "
                         "AND (c.step_min, c.seq) > ($4, $5) "
                         "ORDER BY c.step_min, c.seq LIMIT $6",
                         PgParams()
                             .Int(series.id)
                             .Double(from)
                             .Double(to)
                             .Double(after_step)
                             .Int(after_seq)
                             .Int(kChunksPerFetch),
                         PgFormat::kBinary));
          if (r.rows() < kChunksPerFetch) done = true;
          for (int row = 0; row < r.rows(); ++row) {
            const int64_t seq = r.Int(row, 0);
            const double step_min = r.Double(row, 1);
            after_step = step_min;
            after_seq = seq;
            // Enough final points for a full page plus one (to know another page exists)?
            if (!refs.empty() && count_final(step_min) > query.limit + skip) {
              done = true;
              break;
            }
            uint32_t index = 0;
            if (is_float) {
              NEREID_ASSIGN_OR_RETURN(std::vector<series::FloatPoint> pts,
                                      series::DecodeFloatChunk(r.Raw(row, 2)));
              for (const auto& p : pts) {
                if (p.step >= from && p.step <= to) {
                  refs.push_back({p.step, seq, index, static_cast<uint32_t>(floats.size())});
                  floats.push_back(p);
                }
                ++index;
              }
            } else {
              NEREID_ASSIGN_OR_RETURN(std::vector<series::StringPoint> pts,
                                      series::DecodeStringChunk(r.Raw(row, 2)));
              for (auto& p : pts) {
                if (p.step >= from && p.step <= to) {
                  refs.push_back({p.step, seq, index, static_cast<uint32_t>(strings.size())});
                  strings.push_back(std::move(p));
                }
                ++index;
              }
            }
          }
        }
        std::sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
          if (a.step != b.step) return a.step < b.step;
          if (a.seq != b.seq) return a.seq < b.seq;
          return a.index < b.index;
        });
        size_t begin = 0;
        while (begin < refs.size() && begin < skip && refs[begin].step == from) ++begin;
        size_t end = std::min(refs.size(), begin + query.limit);
        for (size_t i = begin; i < end; ++i) {
          const Ref& ref = refs[i];
          if (is_float) {
            page.floats.push_back(floats[ref.slot]);
          } else if (series.type == FieldType::kStringSeries) {
            page.strings.push_back(std::move(strings[ref.slot]));
          } else {
            const series::StringPoint& p = strings[ref.slot];
            page.file_steps.emplace_back(p.step, p.timestamp_us);
            page.files.push_back(store::DecodeFile(p.value).value_or(store::FileInfo{}));
          }
        }
        if (end < refs.size()) {
          double last = refs[end - 1].step;
          uint64_t at_last = 0;
          for (size_t i = begin; i < end; ++i) at_last += refs[i].step == last ? 1 : 0;
          if (last == from) at_last += begin;  // the points at `from` skipped for earlier pages
          page.next_cursor = store::EncodeCursor({{"s", last}, {"n", at_last}});
        }
        return Status();
      },
      "REPEATABLE READ, READ ONLY");
  NEREID_RETURN_IF_ERROR(s);
  return page;
}

Result<std::vector<series::Bucket>> PgStore::ReadBuckets(const store::BucketQuery& query) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  if (query.buckets < 1 || query.buckets > 10000) {
    return InvalidArgument("buckets must be 1..10000");
  }
  NEREID_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_->Borrow());
  std::vector<series::Bucket> out;
  Status s = Transact(
      *lease,
      [&](PgConn& conn) -> Status {
        out.clear();
        NEREID_ASSIGN_OR_RETURN(RunKey run, ResolveRun(conn, query.run_id));
        NEREID_ASSIGN_OR_RETURN(SeriesRow series, FindSeries(conn, run.id, query.path));
        if (series.type != FieldType::kFloatSeries) {
          return InvalidArgument("'" + query.path + "' is a " +
                                 std::string(store::FieldTypeName(series.type)) +
                                 "; only float series have buckets");
        }
        if (series.count == 0) return Status();
        const double from = query.step_from.value_or(series.first_step);
        const double to = query.step_to.value_or(series.last_step);
        if (!(from <= to)) return InvalidArgument("step_from must not exceed step_to");
        series::BucketBuilder builder(from, to, query.buckets);
        // Summaries only (no data column), in arrival order so ties resolve first/last by
        // arrival. A chunk inside one bucket merges from its summary; the others are opened, and
        // within them only the 512-point blocks that straddle an edge are decoded (the rest merge
        // from the chunk's block index).
        NEREID_ASSIGN_OR_RETURN(
            PgResult q,
            conn.Query("SELECT id, count, nan_count, step_min, step_max, ts_min, ts_max, min, max, "
                       "sum, first, last FROM chunks WHERE series_id = $1 AND step_max >= $2 "
                       "AND step_min <= $3 ORDER BY seq",
                       PgParams().Int(series.id).Double(from).Double(to), PgFormat::kBinary));
        struct Item {
          series::ChunkSummary summary;
          int64_t chunk_id = 0;  // 0: merge the summary; else open the chunk
        };
        std::vector<Item> items;
        std::vector<int64_t> ids;
        series::FloatChunkReader chunk;
        series::BucketBuilder::Scratch decoded;
        std::vector<series::BucketBuilder::Part> parts;
        // Fetches the data of the chunks in `ids` and merges every item in arrival order.
        auto flush = [&]() -> Status {
          std::unordered_map<int64_t, int> row_of;
          PgResult data;
          if (!ids.empty()) {
            std::string array = "{";
            for (size_t i = 0; i < ids.size(); ++i) {
              array += (i ? "," : "") + std::to_string(ids[i]);
            }
            array += "}";
            NEREID_ASSIGN_OR_RETURN(data, conn.Query("SELECT chunk_id, data FROM chunk_data "
                                                     "WHERE chunk_id = ANY($1::bigint[])",
                                                     PgParams().Text(array), PgFormat::kBinary));
            for (int row = 0; row < data.rows(); ++row) row_of[data.Int(row, 0)] = row;
          }
          for (const Item& item : items) {
            if (item.chunk_id == 0) {
              builder.AddSummary(item.summary);
              continue;
            }
            auto it = row_of.find(item.chunk_id);
            if (it == row_of.end()) {
              return DataLoss("chunk data missing for series '" + query.path + "'");
            }
            NEREID_RETURN_IF_ERROR(chunk.Open(data.Raw(it->second, 1)));
            parts.clear();
            NEREID_RETURN_IF_ERROR(builder.SplitChunkIntoParts(chunk, &decoded, &parts));
            builder.AddParts(parts);
          }
          items.clear();
          ids.clear();
          return Status();
        };
        for (int row = 0; row < q.rows(); ++row) {
          series::ChunkSummary c;
          c.count = static_cast<uint32_t>(q.Int(row, 1));
          c.nan_count = static_cast<uint32_t>(q.Int(row, 2));
          c.step_min = q.Double(row, 3);
          c.step_max = q.Double(row, 4);
          c.timestamp_min = q.Int(row, 5);
          c.timestamp_max = q.Int(row, 6);
          // NULL min/max/sum (every value NaN): meaningless, as in the SQLite backend.
          c.min = q.IsNull(row, 7) ? 0 : q.Double(row, 7);
          c.max = q.IsNull(row, 8) ? 0 : q.Double(row, 8);
          c.sum = q.IsNull(row, 9) ? 0 : q.Double(row, 9);
          c.first = q.Double(row, 10);  // NULL reads as NaN
          c.last = q.Double(row, 11);
          if (c.step_min >= from && c.step_max <= to && builder.FitsOneBucket(c)) {
            items.push_back(Item{c, 0});
            continue;
          }
          items.push_back(Item{{}, q.Int(row, 0)});
          ids.push_back(q.Int(row, 0));
          if (ids.size() >= kBucketFetchChunks) NEREID_RETURN_IF_ERROR(flush());
        }
        NEREID_RETURN_IF_ERROR(flush());
        out = builder.Finish();
        return Status();
      },
      "REPEATABLE READ, READ ONLY");
  NEREID_RETURN_IF_ERROR(s);
  return out;
}

}  // namespace nereid::store_postgres
