// Applying a validated batch to a run, on the writer thread inside the batch's savepoint. Same
// semantics as the SQLite backend (src/store_sqlite/ingest.cc; src/store/README.md states the
// contract), with the locking that several servers writing one database need:
//
// 1. The run row is locked first (SELECT ... FOR UPDATE). Every ingest transaction updates the
//    run row anyway (modified time, size), so this serialises nothing that was not serialised;
//    taking it first gives every transaction the same lock order (groups are sorted by run).
// 2. The (run, writer) row of `writers` is created if missing and locked; the batch is a
//    duplicate when its sequence is <= last_sequence. A retry of the same batch sent to another
//    server waits on this lock and, once the first commits, reads the new last_sequence (READ
//    COMMITTED re-reads a row after waiting for its lock), so it is acknowledged as duplicate.
// 3. Each series appended to is locked (FOR UPDATE) and its count compared with the writer's
//    cached tail; when another server appended meanwhile the tail is reloaded, so two servers
//    never rewrite the same tail chunk from different pasts.
//
// Run size accounting is the SQLite backend's: approximate by design, incremental.
#include <algorithm>
#include <set>

#include "nereid/v1/batch.pb.h"
#include "store/codec.h"
#include "store/trash.h"
#include "store_postgres/pg_store_impl.h"
#include "store_postgres/quota.h"
#include "store_postgres/series_write.h"

namespace nereid::store_postgres {
using store::FieldType;

namespace {

std::string TypeName(FieldType t) {
  return std::string(store::FieldTypeName(t));
}

class Applier {
 public:
  Applier(PgConn& conn, store::SeriesCache& cache, store::FieldRegistrar& fields, const RunKey& run,
          int64_t now)
      : conn_(conn), cache_(cache), fields_(fields), run_(run), now_(now) {}

  Status Apply(const v1::Operation& op);
  // Stores the touched series and the run's times and size.
  Status Finish();
  // Drops cached state of every series this batch touched: the savepoint rolls back their rows.
  void Abort() {
    for (int64_t id : touched_) cache_.Evict(id);
  }
  uint64_t points() const { return points_; }

 private:
  struct Existing {
    FieldType type;
    int64_t int_value;
    std::string text;
    int64_t bytes;
  };
  Result<std::optional<Existing>> Lookup(const std::string& path);
  Status Upsert(const std::string& path, FieldType type, std::optional<double> num,
                std::optional<int64_t> int_value, std::optional<std::string> text, int64_t bytes,
                const std::optional<Existing>& old);
  Status Assign(const std::string& path, const v1::Value& value);
  Status SysWrite(const v1::Operation& op);
  Status AddTags(const google::protobuf::RepeatedPtrField<std::string>& tags);
  Result<store::SeriesState*> Series(const std::string& path, FieldType type);
  Result<store::FileInfo> File(const v1::FileRef& ref);
  Status AppendFloats(const std::string& path, const v1::FloatPoints& pts);
  template <typename Points>
  Status AppendStrings(const std::string& path, FieldType type, const Points& pts);
  Status Conflict(const std::string& path, FieldType have, FieldType want, const char* verb) {
    return TypeConflict("field '" + path + "' is a " + TypeName(have) + "; cannot " + verb + " a " +
                        TypeName(want));
  }

  PgConn& conn_;
  store::SeriesCache& cache_;
  store::FieldRegistrar& fields_;
  const RunKey& run_;
  int64_t now_;
  std::optional<int64_t> ping_;
  int64_t size_delta_ = 0;
  uint64_t points_ = 0;
  std::vector<int64_t> touched_;
};

Result<std::optional<Applier::Existing>> Applier::Lookup(const std::string& path) {
  NEREID_ASSIGN_OR_RETURN(PgResult r, conn_.Query("SELECT type, int, text, bytes FROM fields "
                                                  "WHERE run_id = $1 AND path = $2",
                                                  PgParams().Int(run_.id).Text(path)));
  if (r.rows() == 0) return std::optional<Existing>();
  return std::optional<Existing>(
      Existing{static_cast<FieldType>(r.Int(0, 0)), r.Int(0, 1), r.Text(0, 2), r.Int(0, 3)});
}

Status Applier::Upsert(const std::string& path, FieldType type, std::optional<double> num,
                       std::optional<int64_t> int_value, std::optional<std::string> text,
                       int64_t bytes, const std::optional<Existing>& old) {
  PgParams p;
  p.Int(run_.id).Text(path).Int(static_cast<int64_t>(type));
  OptReal(p, num);  // NaN -> NULL, as in SQLite (schema.cc)
  int_value ? p.Int(*int_value) : p.Null();
  p.OptionalText(text).Int(bytes);
  // A field new to the run may be new to the project; an existing one is registered already (a
  // run's field keeps its type).
  if (!old) NEREID_RETURN_IF_ERROR(fields_.Note(path, type));
  size_delta_ += bytes - (old ? old->bytes : 0);
  return conn_
      .Query(
          "INSERT INTO fields(run_id, path, type, num, int, text, bytes) "
          "VALUES($1, $2, $3, $4, $5, $6, $7) "
          "ON CONFLICT(run_id, path) DO UPDATE SET type = excluded.type, num = excluded.num, "
          "int = excluded.int, text = excluded.text, bytes = excluded.bytes",
          p)
      .status();
}

Result<store::FileInfo> Applier::File(const v1::FileRef& ref) {
  // FOR SHARE: a deletion of the last run referencing this blob (trash.cc) locks the row before
  // it checks run_blobs, so either it sees this reference or this batch sees the blob gone.
  NEREID_ASSIGN_OR_RETURN(PgResult r,
                          conn_.Query("SELECT size FROM blobs WHERE sha256 = $1 FOR SHARE",
                                      PgParams().Text(ref.sha256())));
  if (r.rows() == 0) return InvalidArgument("file " + ref.sha256() + " was not uploaded");
  NEREID_RETURN_IF_ERROR(conn_.Query("INSERT INTO run_blobs(run_id, sha256) VALUES($1, $2) "
                                     "ON CONFLICT DO NOTHING",
                                     PgParams().Int(run_.id).Text(ref.sha256()))
                             .status());
  store::FileInfo f;
  f.sha256 = ref.sha256();
  f.name = ref.name();
  f.content_type = ref.content_type().empty() ? "application/octet-stream" : ref.content_type();
  f.size = r.Int(0, 0);
  return f;
}

// File sets are keyed by name: adding a file whose name is present replaces it.
void MergeFiles(store::FileSet& set, store::FileInfo f) {
  auto it = std::find_if(set.begin(), set.end(), [&](const auto& x) { return x.name == f.name; });
  if (it != set.end()) {
    *it = std::move(f);
  } else {
    set.push_back(std::move(f));
  }
}

int64_t FileSetBytes(const store::FileSet& set, const std::string& json) {
  int64_t bytes = static_cast<int64_t>(json.size());
  for (const auto& f : set) bytes += f.size;
  return bytes;
}

std::optional<FieldType> AssignedType(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kFloatValue:
      return FieldType::kFloat;
    case v1::Value::kIntValue:
      return FieldType::kInt;
    case v1::Value::kBoolValue:
      return FieldType::kBool;
    case v1::Value::kStringValue:
      return FieldType::kString;
    case v1::Value::kDatetimeUs:
      return FieldType::kDatetime;
    case v1::Value::kStringSet:
      return FieldType::kStringSet;
    case v1::Value::kFile:
      return FieldType::kFile;
    case v1::Value::kFileSet:
      return FieldType::kFileSet;
    default:
      return std::nullopt;
  }
}

Status Applier::Assign(const std::string& path, const v1::Value& value) {
  std::optional<FieldType> assigned = AssignedType(value);
  if (!assigned)
    return InvalidArgument("field '" + path + "': unsupported value (nested or empty)");
  FieldType type = *assigned;
  NEREID_ASSIGN_OR_RETURN(std::optional<Existing> old, Lookup(path));
  if (old && old->type != type) {
    if (old->type == FieldType::kFloat && type == FieldType::kInt) {
      type = FieldType::kFloat;  // an int assigned to a float field is widened
    } else {
      return Conflict(path, old->type, type, "assign");
    }
  }
  switch (type) {
    case FieldType::kFloat: {
      double v = value.kind_case() == v1::Value::kIntValue ? static_cast<double>(value.int_value())
                                                           : value.float_value();
      return Upsert(path, type, v, std::nullopt, std::nullopt, 8, old);
    }
    case FieldType::kInt:
      return Upsert(path, type, static_cast<double>(value.int_value()), value.int_value(),
                    std::nullopt, 8, old);
    case FieldType::kBool:
      return Upsert(path, type, std::nullopt, value.bool_value() ? 1 : 0, std::nullopt, 1, old);
    case FieldType::kString:
      return Upsert(path, type, std::nullopt, std::nullopt, value.string_value(),
                    static_cast<int64_t>(value.string_value().size()), old);
    case FieldType::kDatetime:
      return Upsert(path, type, static_cast<double>(value.datetime_us()), value.datetime_us(),
                    std::nullopt, 8, old);
    case FieldType::kStringSet: {
      store::StringSet set(value.string_set().values().begin(), value.string_set().values().end());
      std::sort(set.begin(), set.end());
      set.erase(std::unique(set.begin(), set.end()), set.end());
      std::string json = store::EncodeStringSet(set);
      int64_t bytes = static_cast<int64_t>(json.size());
      return Upsert(path, type, std::nullopt, std::nullopt, std::move(json), bytes, old);
    }
    case FieldType::kFile: {
      NEREID_ASSIGN_OR_RETURN(store::FileInfo f, File(value.file()));
      std::string json = store::EncodeFile(f);
      int64_t bytes = static_cast<int64_t>(json.size()) + f.size;
      return Upsert(path, type, std::nullopt, std::nullopt, std::move(json), bytes, old);
    }
    case FieldType::kFileSet: {
      store::FileSet set;
      for (const auto& ref : value.file_set().files()) {
        NEREID_ASSIGN_OR_RETURN(store::FileInfo f, File(ref));
        MergeFiles(set, std::move(f));
      }
      std::stable_sort(set.begin(), set.end(), [](auto& a, auto& b) { return a.name < b.name; });
      std::string json = store::EncodeFileSet(set);
      int64_t bytes = FileSetBytes(set, json);
      return Upsert(path, type, std::nullopt, std::nullopt, std::move(json), bytes, old);
    }
    default:
      return Internal("unreachable");
  }
}

Status Applier::AddTags(const google::protobuf::RepeatedPtrField<std::string>& tags) {
  for (const std::string& tag : tags) {
    NEREID_RETURN_IF_ERROR(conn_
                               .Query("INSERT INTO run_tags(run_id, tag) VALUES($1, $2) "
                                      "ON CONFLICT (run_id, md5(tag)) DO NOTHING",
                                      PgParams().Int(run_.id).Text(tag))
                               .status());
  }
  return Status();
}

Status Applier::SysWrite(const v1::Operation& op) {
  const std::string& path = op.path();
  auto set_column = [&](const char* sql, PgParams p) {
    p.Int(run_.id);
    return conn_.Query(sql, p).status();
  };
  auto bad = [&] { return InvalidArgument("cannot write '" + path + "' this way"); };
  if (op.has_assign()) {
    const v1::Value& v = op.assign();
    if (path == "sys/name" && v.has_string_value()) {
      return set_column("UPDATE runs SET name = $1 WHERE id = $2",
                        PgParams().Text(v.string_value()));
    }
    if (path == "sys/description" && v.has_string_value()) {
      return set_column("UPDATE runs SET description = $1 WHERE id = $2",
                        PgParams().Text(v.string_value()));
    }
    if (path == "sys/state" && v.has_string_value()) {
      if (!store::ParseRunState(v.string_value())) return bad();
      return set_column("UPDATE runs SET state = $1 WHERE id = $2",
                        PgParams().Text(v.string_value()));
    }
    if (path == "sys/failed" && v.has_bool_value()) {
      return set_column("UPDATE runs SET failed = $1 WHERE id = $2",
                        PgParams().Bool(v.bool_value()));
    }
    if (path == "sys/ping_time" && v.kind_case() == v1::Value::kDatetimeUs) {
      ping_ = v.datetime_us();
      return Status();
    }
    if (path == "sys/tags" && v.has_string_set()) {
      NEREID_RETURN_IF_ERROR(
          conn_.Query("DELETE FROM run_tags WHERE run_id = $1", PgParams().Int(run_.id)).status());
      return AddTags(v.string_set().values());
    }
    return bad();
  }
  if (path == "sys/tags" && op.has_add_strings()) return AddTags(op.add_strings().values());
  if (path == "sys/tags" && op.has_remove_strings()) {
    for (const std::string& tag : op.remove_strings().values()) {
      NEREID_RETURN_IF_ERROR(conn_
                                 .Query("DELETE FROM run_tags WHERE run_id = $1 AND "
                                        "md5(tag) = md5($2) AND tag = $2",
                                        PgParams().Int(run_.id).Text(tag))
                                 .status());
    }
    return Status();
  }
  return bad();
}

Result<store::SeriesState*> Applier::Series(const std::string& path, FieldType type) {
  NEREID_ASSIGN_OR_RETURN(std::optional<Existing> old, Lookup(path));
  store::SeriesState* s = nullptr;
  if (old) {
    if (old->type != type) return Conflict(path, old->type, type, "append to it as");
    const int64_t id = old->int_value;
    s = cache_.Find(id);
    // Lock the series and check the cached tail against it: another server may have appended
    // since this writer cached it (the count only grows, so equal counts mean the same tail).
    NEREID_ASSIGN_OR_RETURN(
        PgResult r,
        conn_.Query("SELECT count FROM series WHERE id = $1 FOR UPDATE", PgParams().Int(id)));
    if (r.rows() == 0) return Internal("series of field '" + path + "' is missing");
    if (s != nullptr && s->count != static_cast<uint64_t>(r.Int(0, 0))) {
      cache_.Evict(id);
      s = nullptr;
    }
    if (s == nullptr) {
      NEREID_ASSIGN_OR_RETURN(std::unique_ptr<store::SeriesState> loaded, LoadSeries(conn_, id));
      s = cache_.Insert(std::move(loaded));
    }
  } else {
    // The run row is locked, so no other transaction creates this series meanwhile.
    NEREID_ASSIGN_OR_RETURN(
        PgResult r,
        conn_.Query("INSERT INTO series(run_id, path, type) VALUES($1, $2, $3) "
                    "RETURNING id",
                    PgParams().Int(run_.id).Text(path).Int(static_cast<int64_t>(type))));
    auto state = std::make_unique<store::SeriesState>();
    state->id = r.Int(0, 0);
    state->run_id = run_.id;
    state->type = type;
    NEREID_RETURN_IF_ERROR(
        Upsert(path, type, std::nullopt, state->id, std::nullopt, 0, std::nullopt));
    s = cache_.Insert(std::move(state));
  }
  if (std::find(touched_.begin(), touched_.end(), s->id) == touched_.end()) {
    touched_.push_back(s->id);
  }
  return s;
}

// The step of the i-th point of an append without steps: after the highest step so far (0 for a
// new series).
double AutoStep(const store::SeriesState& s, int i) {
  return (s.count == 0 ? 0.0 : s.last_step + 1) + static_cast<double>(i);
}

Status Applier::AppendFloats(const std::string& path, const v1::FloatPoints& pts) {
  NEREID_ASSIGN_OR_RETURN(store::SeriesState * s, Series(path, FieldType::kFloatSeries));
  double base = AutoStep(*s, 0);
  for (int i = 0; i < pts.values_size(); ++i) {
    series::FloatPoint p;
    p.step = pts.steps_size() > 0 ? pts.steps(i) : base + i;
    p.timestamp_us = pts.timestamps_us_size() > 0 ? pts.timestamps_us(i) : now_;
    p.value = pts.values(i);
    s->Append(p);
    if (s->TailPoints() >= series::kTargetChunkPoints) {
      NEREID_ASSIGN_OR_RETURN(int64_t delta, StoreSeries(conn_, *s));
      size_delta_ += delta;
    }
  }
  points_ += static_cast<uint64_t>(pts.values_size());
  return Status();
}

template <typename Points>
Status Applier::AppendStrings(const std::string& path, FieldType type, const Points& pts) {
  NEREID_ASSIGN_OR_RETURN(store::SeriesState * s, Series(path, type));
  double base = AutoStep(*s, 0);
  int n = 0;
  if constexpr (std::is_same_v<Points, v1::StringPoints>) {
    n = pts.values_size();
  } else {
    n = pts.files_size();
  }
  for (int i = 0; i < n; ++i) {
    series::StringPoint p;
    p.step = pts.steps_size() > 0 ? pts.steps(i) : base + i;
    p.timestamp_us = pts.timestamps_us_size() > 0 ? pts.timestamps_us(i) : now_;
    if constexpr (std::is_same_v<Points, v1::StringPoints>) {
      p.value = pts.values(i);
    } else {
      NEREID_ASSIGN_OR_RETURN(store::FileInfo f, File(pts.files(i)));
      size_delta_ += f.size;
      p.value = store::EncodeFile(f);
    }
    s->Append(std::move(p));
    if (s->TailPoints() >= series::kTargetChunkPoints) {
      NEREID_ASSIGN_OR_RETURN(int64_t delta, StoreSeries(conn_, *s));
      size_delta_ += delta;
    }
  }
  points_ += static_cast<uint64_t>(n);
  return Status();
}

Status Applier::Apply(const v1::Operation& op) {
  const std::string& path = op.path();
  if (path.rfind("sys/", 0) == 0) return SysWrite(op);
  switch (op.op_case()) {
    case v1::Operation::kAssign:
      return Assign(path, op.assign());
    case v1::Operation::kAddStrings:
    case v1::Operation::kRemoveStrings: {
      NEREID_ASSIGN_OR_RETURN(std::optional<Existing> old, Lookup(path));
      if (old && old->type != FieldType::kStringSet) {
        return Conflict(path, old->type, FieldType::kStringSet, "modify it as");
      }
      store::StringSet set = old ? store::DecodeStringSet(old->text) : store::StringSet{};
      if (op.has_add_strings()) {
        set.insert(set.end(), op.add_strings().values().begin(), op.add_strings().values().end());
        std::sort(set.begin(), set.end());
        set.erase(std::unique(set.begin(), set.end()), set.end());
      } else {
        std::set<std::string> drop(op.remove_strings().values().begin(),
                                   op.remove_strings().values().end());
        std::erase_if(set, [&](const std::string& v) { return drop.count(v) > 0; });
      }
      std::string json = store::EncodeStringSet(set);
      int64_t bytes = static_cast<int64_t>(json.size());
      return Upsert(path, FieldType::kStringSet, std::nullopt, std::nullopt, std::move(json), bytes,
                    old);
    }
    case v1::Operation::kAddFiles: {
      NEREID_ASSIGN_OR_RETURN(std::optional<Existing> old, Lookup(path));
      if (old && old->type != FieldType::kFileSet) {
        return Conflict(path, old->type, FieldType::kFileSet, "modify it as");
      }
      store::FileSet set = old ? store::DecodeFileSet(old->text) : store::FileSet{};
      for (const auto& ref : op.add_files().files()) {
        NEREID_ASSIGN_OR_RETURN(store::FileInfo f, File(ref));
        MergeFiles(set, std::move(f));
      }
      std::stable_sort(set.begin(), set.end(), [](auto& a, auto& b) { return a.name < b.name; });
      std::string json = store::EncodeFileSet(set);
      int64_t bytes = FileSetBytes(set, json);
      return Upsert(path, FieldType::kFileSet, std::nullopt, std::nullopt, std::move(json), bytes,
                    old);
    }
    case v1::Operation::kAppendFloats:
      return AppendFloats(path, op.append_floats());
    case v1::Operation::kAppendStrings:
      return AppendStrings(path, FieldType::kStringSeries, op.append_strings());
    case v1::Operation::kAppendFiles:
      return AppendStrings(path, FieldType::kFileSeries, op.append_files());
    default:
      return InvalidArgument("operation on '" + path + "' has no op");
  }
}

Status Applier::Finish() {
  for (int64_t id : touched_) {
    store::SeriesState* s = cache_.Find(id);
    if (s == nullptr) return Internal("series state lost during a batch");
    NEREID_ASSIGN_OR_RETURN(int64_t delta, StoreSeries(conn_, *s));
    size_delta_ += delta;
  }
  return conn_
      .Query(
          "UPDATE runs SET modified_us = $1, ping_us = $2, size_bytes = size_bytes + $3 "
          "WHERE id = $4",
          PgParams().Int(now_).Int(ping_.value_or(now_)).Int(size_delta_).Int(run_.id))
      .status();
}

}  // namespace

Result<store::IngestResult> PgStore::ApplyBatch(PgConn& conn, const RunKey& run,
                                                const v1::Batch& batch) {
  store::IngestResult result;
  result.sequence = batch.sequence();
  // The row lock orders this batch with trashing and deleting the run (trash.cc), which lock it
  // too: the batch is applied before the run is trashed, or sees it trashed (or gone).
  NEREID_ASSIGN_OR_RETURN(
      PgResult locked,
      conn.Query("SELECT number, trashed_us IS NOT NULL FROM runs WHERE id = $1 FOR UPDATE",
                 PgParams().Int(run.id)));
  if (locked.rows() == 0) return NotFound("run not found");
  const bool trashed = locked.Bool(0, 1);
  // -1: below every sequence (they start at 1), so a fresh row never makes a batch a duplicate.
  NEREID_RETURN_IF_ERROR(conn.Query("INSERT INTO writers(run_id, writer_id, last_sequence) "
                                    "VALUES($1, $2, -1) ON CONFLICT DO NOTHING",
                                    PgParams().Int(run.id).Text(batch.writer_id()))
                             .status());
  NEREID_ASSIGN_OR_RETURN(PgResult w, conn.Query("SELECT last_sequence FROM writers "
                                                 "WHERE run_id = $1 AND writer_id = $2 FOR UPDATE",
                                                 PgParams().Int(run.id).Text(batch.writer_id())));
  if (w.rows() == 1 && w.Int(0, 0) >= 0 && batch.sequence() <= static_cast<uint64_t>(w.Int(0, 0))) {
    result.duplicate = true;
    return result;
  }
  // After the duplicate check: a retry of a batch stored before the run was trashed is still
  // acknowledged.
  if (trashed) return store::RunInTrash(run.project_key + "-" + std::to_string(locked.Int(0, 0)));
  NEREID_ASSIGN_OR_RETURN(QuotaGuard quota, QuotaGuard::Begin(conn, run));
  // Two servers registering the same new path at once: the second insert waits for the first
  // transaction and then does nothing; a deadlock between their groups is retried by the writer.
  store::FieldRegistrar fields(
      known_fields_, run.project_id,
      [&conn](int64_t project_id, std::string_view path, FieldType type) {
        return conn
            .Query(
                "INSERT INTO project_fields(project_id, path, type) VALUES($1, $2, $3) "
                "ON CONFLICT DO NOTHING",
                PgParams().Int(project_id).Text(path).Int(static_cast<int64_t>(type)))
            .status();
      });
  Applier applier(conn, series_cache_, fields, run, NowUs());
  Status s;
  for (const v1::Operation& op : batch.operations()) {
    s = applier.Apply(op);
    if (!s.ok()) break;
  }
  if (s.ok()) s = applier.Finish();
  if (s.ok()) s = quota.Check(conn, run);
  if (s.ok()) {
    s = conn.Query("UPDATE writers SET last_sequence = $3 WHERE run_id = $1 AND writer_id = $2",
                   PgParams()
                       .Int(run.id)
                       .Text(batch.writer_id())
                       .Int(static_cast<int64_t>(batch.sequence())))
            .status();
  }
  if (!s.ok()) {
    applier.Abort();
    return s;
  }
  fields.Commit();  // a lost transaction clears known_fields_ (on_transaction_lost)
  result.applied_points = applier.points();
  if (++jobs_since_trim_ % 64 == 0) series_cache_.Trim();
  return result;
}

Result<store::IngestResult> PgStore::Ingest(std::string_view run_id, const v1::Batch& batch) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  RunKey key;
  {
    // Resolved before queueing, on a pooled connection: the writer orders its group by run.
    NEREID_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_->Borrow());
    NEREID_ASSIGN_OR_RETURN(key, ResolveRun(*conn, run_id));
  }
  store::IngestResult out;
  NEREID_RETURN_IF_ERROR(writer_->Run(
      key.id,
      [&](PgConn& conn) -> Status {
        NEREID_ASSIGN_OR_RETURN(out, ApplyBatch(conn, key, batch));
        return Status();
      },
      true));
  return out;
}

}  // namespace nereid::store_postgres
