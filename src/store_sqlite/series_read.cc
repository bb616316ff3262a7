// Series reads: raw points paged by step, downsampled buckets, and files of file fields/series.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>

#include "store/codec.h"
#include "store_sqlite/sqlite_store_impl.h"

namespace nereid::store_sqlite {
using store::FieldType;

namespace {

struct SeriesRow {
  int64_t id = 0;
  FieldType type = FieldType::kFloatSeries;
  uint64_t count = 0;
  double first_step = 0, last_step = 0;
  std::string last_text;
};

Result<SeriesRow> FindSeries(Db& db, int64_t run, const std::string& path) {
  auto q = db.Cached(
      "SELECT id, type, count, first_step, last_step, last_text FROM series "
      "WHERE run_id = ? AND path = ?");
  q->BindAll(run, path);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return NotFound("series '" + path + "' not found");
  return SeriesRow{q->Int(0),
                   static_cast<FieldType>(q->Int(1)),
                   static_cast<uint64_t>(q->Int(2)),
                   q->Real(3),
                   q->Real(4),
                   q->Text(5)};
}

// A decoded point with its arrival position, for merging chunks whose step ranges overlap.
struct Ref {
  double step;
  int64_t seq;     // chunk seq: later chunks arrived later
  uint32_t index;  // position in the chunk (ties by arrival within it)
  uint32_t slot;   // where the point is kept
};

}  // namespace

Result<store::SeriesPage> SqliteStore::ReadSeries(const store::SeriesQuery& query) {
  if (query.limit < 1 || query.limit > 100000) {
    return InvalidArgument("limit must be 1..100000");
  }
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  Db& db = r.db();
  NEREID_ASSIGN_OR_RETURN(RunKey run, ResolveRun(db, query.run_id));
  NEREID_ASSIGN_OR_RETURN(SeriesRow series, FindSeries(db, run.id, query.path));
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
  double to = query.step_to;

  store::SeriesPage page;
  page.type = series.type;
  bool is_float = series.type == FieldType::kFloatSeries;
  std::vector<series::FloatPoint> floats;
  std::vector<series::StringPoint> strings;
  std::vector<Ref> refs;
  // Chunks by step_min: once the next chunk starts above step m, every point below m is final.
  auto q = db.Cached(
      "SELECT c.seq, c.step_min, d.data FROM chunks c JOIN chunk_data d ON d.chunk_id = c.id "
      "WHERE c.series_id = ? AND c.step_max >= ? AND c.step_min <= ? ORDER BY c.step_min, c.seq");
  q->BindAll(series.id, from, to);
  auto count_final = [&](double below) {
    uint64_t n = 0;
    for (const Ref& ref : refs) n += ref.step < below ? 1 : 0;
    return n;
  };
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    double step_min = q->Real(1);
    // Enough final points for a full page plus one (to know another page exists)?
    if (!refs.empty() && count_final(step_min) > query.limit + skip) break;
    int64_t seq = q->Int(0);
    uint32_t index = 0;
    if (is_float) {
      NEREID_ASSIGN_OR_RETURN(std::vector<series::FloatPoint> pts,
                              series::DecodeFloatChunk(q->Blob(2)));
      for (const auto& p : pts) {
        if (p.step >= from && p.step <= to) {
          refs.push_back({p.step, seq, index, static_cast<uint32_t>(floats.size())});
          floats.push_back(p);
        }
        ++index;
      }
    } else {
      NEREID_ASSIGN_OR_RETURN(std::vector<series::StringPoint> pts,
                              series::DecodeStringChunk(q->Blob(2)));
      for (auto& p : pts) {
        if (p.step >= from && p.step <= to) {
          refs.push_back({p.step, seq, index, static_cast<uint32_t>(strings.size())});
          strings.push_back(std::move(p));
        }
        ++index;
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
  return page;
}

Result<std::vector<series::Bucket>> SqliteStore::ReadBuckets(const store::BucketQuery& query) {
  if (query.buckets < 1 || query.buckets > 10000) {
    return InvalidArgument("buckets must be 1..10000");
  }
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  Db& db = r.db();
  NEREID_ASSIGN_OR_RETURN(RunKey run, ResolveRun(db, query.run_id));
  NEREID_ASSIGN_OR_RETURN(SeriesRow series, FindSeries(db, run.id, query.path));
  if (series.type != FieldType::kFloatSeries) {
    return InvalidArgument("'" + query.path + "' is a " +
                           std::string(store::FieldTypeName(series.type)) +
                           "; only float series have buckets");
  }
  if (series.count == 0) return std::vector<series::Bucket>{};
  double from = query.step_from.value_or(series.first_step);
  double to = query.step_to.value_or(series.last_step);
  if (!(from <= to)) return InvalidArgument("step_from must not exceed step_to");
  series::BucketBuilder builder(from, to, query.buckets);
  // Chunks that straddle a bucket boundary must be opened; that is nearly all the cost. Within
  // one, only the 512-point blocks that straddle an edge are decoded (the rest merge from the
  // chunk's block index). They are gathered in batches, split on two threads into per-bucket parts,
  // and every chunk's contribution (summary or parts) is then merged in arrival order, so ties
  // resolve first/last exactly as a point-by-point pass would.
  struct Item {
    series::ChunkSummary summary;
    int64_t job = -1;  // index into jobs, or -1 for a summary
  };
  struct Job {
    size_t offset = 0, size = 0;  // the chunk's blob within scratch.blobs
    std::vector<series::BucketBuilder::Part> parts;
    Status status;
  };
  // Per-thread buffers kept across requests: allocating megabytes afresh per request cost more
  // (page faults on new heap pages) than decoding.
  struct Row {  // a chunk's summary row
    int64_t chunk_id = 0, seq = 0;
    series::ChunkSummary summary;
  };
  struct Scratch {
    std::vector<Row> rows;
    std::vector<Item> items;
    std::vector<Job> jobs;
    // The blobs of jobs, end to end: one buffer that keeps its capacity, and is not zeroed as a
    // std::string's resize would (zeroing 18 MB per view cost more than copying the blobs in).
    std::unique_ptr<char[]> blobs;
    size_t blobs_capacity = 0;
    series::FloatChunkReader chunk;   // for the requesting thread; the helper has its own
    series::BucketBuilder::Scratch decoded;
  };
  // Requests run on any of the HTTP handler pool's threads, so the buffers are pooled here
  // rather than kept per thread.
  static std::mutex pool_mu;
  static std::vector<std::unique_ptr<Scratch>> pool;
  std::unique_ptr<Scratch> taken;
  {
    std::lock_guard lock(pool_mu);
    if (!pool.empty()) taken = std::move(pool.back()), pool.pop_back();
  }
  if (!taken) taken = std::make_unique<Scratch>();
  struct GiveBack {
    std::unique_ptr<Scratch>& s;
    ~GiveBack() {
      std::lock_guard lock(pool_mu);
      if (pool.size() < 4) pool.push_back(std::move(s));  // bounds what idle buffers hold
    }
  } give_back{taken};
  Scratch& scratch = *taken;
  std::vector<Item>& items = scratch.items;
  std::vector<Job>& jobs = scratch.jobs;
  size_t blob_bytes = 0;  // used of scratch.blobs
  // Room for `size` more bytes at blob_bytes, keeping the bytes before it.
  auto reserve_blob = [&](size_t size) {
    if (blob_bytes + size <= scratch.blobs_capacity) return;
    size_t capacity = std::max({blob_bytes + size, scratch.blobs_capacity * 2, size_t{1} << 20});
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (blob_bytes > 0) std::memcpy(grown.get(), scratch.blobs.get(), blob_bytes);
    scratch.blobs = std::move(grown);
    scratch.blobs_capacity = capacity;
  };
  items.clear();
  size_t njobs = 0;
  auto flush = [&]() -> Status {
    std::atomic<size_t> next{0};
    const std::thread::id requester = std::this_thread::get_id();
    std::function<void()> work = [&] {
      thread_local series::FloatChunkReader helper_chunk;
      thread_local series::BucketBuilder::Scratch helper_decoded;
      bool mine = std::this_thread::get_id() == requester;
      series::FloatChunkReader& chunk = mine ? scratch.chunk : helper_chunk;
      series::BucketBuilder::Scratch& decoded = mine ? scratch.decoded : helper_decoded;
      for (size_t j; (j = next.fetch_add(1)) < njobs;) {
        Job& job = jobs[j];
        job.status = chunk.Open(std::string_view(scratch.blobs.get() + job.offset, job.size));
        if (job.status.ok()) job.status = builder.SplitChunkIntoParts(chunk, &decoded, &job.parts);
      }
    };
    if (njobs >= 2) {
      read_helper_.Share(work);
    } else {
      work();
    }
    for (const Item& item : items) {
      if (item.job < 0) {
        builder.AddSummary(item.summary);
        continue;
      }
      const Job& job = jobs[static_cast<size_t>(item.job)];
      if (!job.status.ok()) return job.status;
      builder.AddParts(job.parts);
    }
    items.clear();
    njobs = 0;
    blob_bytes = 0;
    return Status();
  };
  // Summaries only: the columns the view uses (not the data, nor the timestamps). SQLite would
  // sort by seq through a temporary b-tree, serializing every row; the rows come back in
  // chunks_step order instead, which for an appended series is already arrival order, and are
  // put in arrival order here (so ties resolve first/last by arrival).
  std::vector<Row>& rows = scratch.rows;
  rows.clear();
  {
    auto q = db.Cached(
        "SELECT id, seq, count, nan_count, step_min, step_max, min, max, sum, first, last "
        "FROM chunks WHERE series_id = ? AND step_max >= ? AND step_min <= ?");
    q->BindAll(series.id, from, to);
    for (;;) {
      NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      Row& r = rows.emplace_back();
      r.chunk_id = q->Int(0);
      r.seq = q->Int(1);
      series::ChunkSummary& s = r.summary;
      s.count = static_cast<uint32_t>(q->Int(2));
      s.nan_count = static_cast<uint32_t>(q->Int(3));
      s.step_min = q->Real(4);
      s.step_max = q->Real(5);
      // min and max are NULL when every value is NaN.
      s.min = q->IsNull(6) ? 0 : q->Real(6);
      s.max = q->IsNull(7) ? 0 : q->Real(7);
      s.sum = q->IsNull(8) ? 0 : q->Real(8);
      s.first = q->Real(9);
      s.last = q->Real(10);
    }
  }
  auto by_seq = [](const Row& a, const Row& b) { return a.seq < b.seq; };
  if (!std::is_sorted(rows.begin(), rows.end(), by_seq)) {
    std::sort(rows.begin(), rows.end(), by_seq);  // seq is unique per series
  }
  sqlite3_blob* blob = nullptr;
  struct BlobCloser {
    sqlite3_blob*& blob;
    ~BlobCloser() {
      if (blob != nullptr) sqlite3_blob_close(blob);
    }
  } close_blob{blob};
  for (const Row& r : rows) {
    const series::ChunkSummary& s = r.summary;
    if (s.step_min >= from && s.step_max <= to && builder.FitsOneBucket(s)) {
      items.push_back(Item{s, -1});
      continue;
    }
    // Incremental blob I/O copies straight into our buffer (a SELECT would copy into SQLite's
    // own buffer first), and only what the split reads: the chunk's header, block index and
    // column heads, then the value bytes of the blocks it decodes (FloatChunkLayout); about half
    // of a 4,096-point chunk with one bucket edge, read ahead included. Other chunks are read
    // whole.
    int64_t chunk_id = r.chunk_id;
    int rc = blob != nullptr
                 ? sqlite3_blob_reopen(blob, chunk_id)
                 : sqlite3_blob_open(db.raw(), "main", "chunk_data", "data", chunk_id, 0, &blob);
    if (rc != SQLITE_OK) return DataLoss("chunk data missing for series '" + query.path + "'");
    size_t size = static_cast<size_t>(sqlite3_blob_bytes(blob));
    items.push_back(Item{{}, static_cast<int64_t>(njobs)});
    if (jobs.size() <= njobs) jobs.resize(njobs + 1);
    Job& job = jobs[njobs++];
    job.parts.clear();
    job.status = Status();
    reserve_blob(size);
    job.offset = blob_bytes;
    job.size = size;
    blob_bytes += size;
    rc = sqlite3_blob_read(blob, scratch.blobs.get() + job.offset, static_cast<int>(size), 0);
    if (rc != SQLITE_OK) return Internal("reading a chunk: " + std::string(sqlite3_errstr(rc)));
    // Bounds the memory held by copied blobs; batches are big enough to amortize a thread start.
    if (blob_bytes >= (size_t{4} << 20)) NEREID_RETURN_IF_ERROR(flush());
  }
  NEREID_RETURN_IF_ERROR(flush());
  return builder.Finish();
}

Result<store::FileInfo> SqliteStore::GetFile(std::string_view run_id, std::string_view path,
                                             std::optional<double> step) {
  NEREID_ASSIGN_OR_RETURN(Reader r, BorrowReader());
  Db& db = r.db();
  NEREID_ASSIGN_OR_RETURN(RunKey run, ResolveRun(db, run_id));
  std::string p(path);
  FieldType type;
  {
    auto q = db.Cached("SELECT type, text FROM fields WHERE run_id = ? AND path = ?");
    q->BindAll(run.id, p);
    NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
    if (!found) return NotFound("field '" + p + "' not found");
    type = static_cast<FieldType>(q->Int(0));
    if (type == FieldType::kFile) {
      if (auto f = store::DecodeFile(q->Text(1))) return *f;
      return DataLoss("field '" + p + "' holds a malformed file reference");
    }
  }
  if (type != FieldType::kFileSeries) {
    return InvalidArgument("field '" + p + "' is a " + std::string(store::FieldTypeName(type)) +
                           ", not a file or file series");
  }
  NEREID_ASSIGN_OR_RETURN(SeriesRow series, FindSeries(db, run.id, p));
  if (!step) {
    if (series.count == 0) return NotFound("file series '" + p + "' is empty");
    if (auto f = store::DecodeFile(series.last_text)) return *f;
    return DataLoss("file series '" + p + "' holds a malformed file reference");
  }
  // The last point to arrive at `step`: scan the chunks covering it, latest chunk last.
  auto q = db.Cached(
      "SELECT d.data FROM chunks c JOIN chunk_data d ON d.chunk_id = c.id "
      "WHERE c.series_id = ? AND c.step_min <= ? AND c.step_max >= ? ORDER BY c.seq");
  q->BindAll(series.id, *step, *step);
  std::optional<std::string> found;
  for (;;) {
    NEREID_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    NEREID_ASSIGN_OR_RETURN(std::vector<series::StringPoint> pts,
                            series::DecodeStringChunk(q->Blob(0)));
    for (auto& pt : pts) {
      if (pt.step == *step) found = std::move(pt.value);
    }
  }
  if (!found) return NotFound("file series '" + p + "' has no point at that step");
  if (auto f = store::DecodeFile(*found)) return *f;
  return DataLoss("file series '" + p + "' holds a malformed file reference");
}

}  // namespace nereid::store_sqlite
