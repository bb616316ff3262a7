// Applying a validated batch to a run, on the writer thread inside the batch's savepoint.
//
// Run size accounting (runs.size_bytes, reported as sys/size) is maintained incrementally and is
// approximate by design: each field row carries its value's byte size (8 for numbers, the text or
// JSON length for strings, sets and files, plus the referenced files' sizes), each series adds its
// chunks' encoded sizes and the sizes of the files its points reference. Replacing a value
// subtracts the old row's bytes; the same blob referenced twice is counted twice.
#include <algorithm>
#include <set>

#include "nereid/v1/batch.pb.h"
#include "store/codec.h"
#include "store/trash.h"
#include "store_sqlite/quota.h"
#include "store_sqlite/sqlite_store_impl.h"

namespace nereid::store_sqlite {
using store::FieldType;

namespace {

std::string TypeName(FieldType t) {
  return std::string(store::FieldTypeName(t));
}

class Applier {
 public:
  Applier(Db& db, SeriesCache& cache, store::FieldRegistrar& fields, const RunKey& run, int64_t now)
      : db_(db), cache_(cache), fields_(fields), run_(run), now_(now) {}

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
  Result<SeriesState*> Series(const std::string& path, FieldType type);
  Result<store::FileInfo> File(const v1::FileRef& ref);
  Status AppendFloats(const std::string& path, const v1::FloatPoints& pts);
  template <typename Points>
  Status AppendStrings(const std::string& path, FieldType type, const Points& pts);
  Status Conflict(const std::string& path, FieldType have, FieldType want, const char* verb) {
    return TypeConflict("field '" + path + "' is a " + TypeName(have) + "; cannot " + verb + " a " +
                        TypeName(want));
  }

  Db& db_;
  SeriesCache& cache_;
  store::FieldRegistrar& fields_;
  const RunKey& run_;
  int64_t now_;
  std::optional<int64_t> ping_;
  int64_t size_delta_ = 0;
  uint64_t points_ = 0;
  std::vector<int64_t> touched_;
};

Result<std::optional<Applier::Existing>> Applier::Lookup(const std::string& path) {
  auto q = db_.Cached("SELECT type, int, text, bytes FROM fields WHERE run_id = ? AND path = ?");
  q->BindAll(run_.id, path);
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return std::optional<Existing>();
  return std::optional<Existing>(
      Existing{static_cast<FieldType>(q->Int(0)), q->Int(1), q->Text(2), q->Int(3)});
}

Status Applier::Upsert(const std::string& path, FieldType type, std::optional<double> num,
                       std::optional<int64_t> int_value, std::optional<std::string> text,
                       int64_t bytes, const std::optional<Existing>& old) {
  auto q = db_.Cached(
      "INSERT INTO fields(run_id, path, type, num, int, text, bytes) VALUES(?,?,?,?,?,?,?) "
      "ON CONFLICT(run_id, path) DO UPDATE SET type = excluded.type, num = excluded.num, "
      "int = excluded.int, text = excluded.text, bytes = excluded.bytes");
  q->BindAll(run_.id, path, static_cast<int64_t>(type), num, int_value, text, bytes);
  // A field new to the run may be new to the project; an existing one is registered already (a
  // run's field keeps its type).
  if (!old) NEREID_RETURN_IF_ERROR(fields_.Note(path, type));
  size_delta_ += bytes - (old ? old->bytes : 0);
  return q->Run();
}

Result<store::FileInfo> Applier::File(const v1::FileRef& ref) {
  auto q = db_.Cached("SELECT size FROM blobs WHERE sha256 = ?");
  q->Bind(1, ref.sha256());
  NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
  if (!found) return InvalidArgument("file " + ref.sha256() + " was not uploaded");
  // Kept while the run lives, so deleting runs knows which blobs are still referenced.
  auto r = db_.Cached("INSERT OR IGNORE INTO run_blobs(run_id, sha256) VALUES(?, ?)");
  r->BindAll(run_.id, ref.sha256());
  NEREID_RETURN_IF_ERROR(r->Run());
  store::FileInfo f;
  f.sha256 = ref.sha256();
  f.name = ref.name();
  f.content_type = ref.content_type().empty() ? "application/octet-stream" : ref.content_type();
  f.size = q->Int(0);
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

Status Applier::Assign(const std::string& path, const v1::Value& value) {
  FieldType type;
  switch (value.kind_case()) {
    case v1::Value::kFloatValue:
      type = FieldType::kFloat;
      break;
    case v1::Value::kIntValue:
      type = FieldType::kInt;
      break;
    case v1::Value::kBoolValue:
      type = FieldType::kBool;
      break;
    case v1::Value::kStringValue:
      type = FieldType::kString;
      break;
    case v1::Value::kDatetimeUs:
      type = FieldType::kDatetime;
      break;
    case v1::Value::kStringSet:
      type = FieldType::kStringSet;
      break;
    case v1::Value::kFile:
      type = FieldType::kFile;
      break;
    case v1::Value::kFileSet:
      type = FieldType::kFileSet;
      break;
    default:
      return InvalidArgument("field '" + path + "': unsupported value (nested or empty)");
  }
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

Status Applier::SysWrite(const v1::Operation& op) {
  const std::string& path = op.path();
  auto set_column = [&](const char* sql, auto value) {
    auto q = db_.Cached(sql);
    q->BindAll(value, run_.id);
    return q->Run();
  };
  auto bad = [&] { return InvalidArgument("cannot write '" + path + "' this way"); };
  if (op.has_assign()) {
    const v1::Value& v = op.assign();
    if (path == "sys/name" && v.has_string_value()) {
      return set_column("UPDATE runs SET name = ? WHERE id = ?", v.string_value());
    }
    if (path == "sys/description" && v.has_string_value()) {
      return set_column("UPDATE runs SET description = ? WHERE id = ?", v.string_value());
    }
    if (path == "sys/state" && v.has_string_value()) {
      if (!store::ParseRunState(v.string_value())) return bad();
      return set_column("UPDATE runs SET state = ? WHERE id = ?", v.string_value());
    }
    if (path == "sys/failed" && v.has_bool_value()) {
      return set_column("UPDATE runs SET failed = ? WHERE id = ?", v.bool_value());
    }
    if (path == "sys/ping_time" && v.kind_case() == v1::Value::kDatetimeUs) {
      ping_ = v.datetime_us();
      return Status();
    }
    if (path == "sys/tags" && v.has_string_set()) {
      auto d = db_.Cached("DELETE FROM run_tags WHERE run_id = ?");
      d->Bind(1, run_.id);
      NEREID_RETURN_IF_ERROR(d->Run());
      for (const std::string& tag : v.string_set().values()) {
        auto q = db_.Cached("INSERT OR IGNORE INTO run_tags(run_id, tag) VALUES(?, ?)");
        q->BindAll(run_.id, tag);
        NEREID_RETURN_IF_ERROR(q->Run());
      }
      return Status();
    }
    return bad();
  }
  if (path == "sys/tags" && op.has_add_strings()) {
    for (const std::string& tag : op.add_strings().values()) {
      auto q = db_.Cached("INSERT OR IGNORE INTO run_tags(run_id, tag) VALUES(?, ?)");
      q->BindAll(run_.id, tag);
      NEREID_RETURN_IF_ERROR(q->Run());
    }
    return Status();
  }
  if (path == "sys/tags" && op.has_remove_strings()) {
    for (const std::string& tag : op.remove_strings().values()) {
      auto q = db_.Cached("DELETE FROM run_tags WHERE run_id = ? AND tag = ?");
      q->BindAll(run_.id, tag);
      NEREID_RETURN_IF_ERROR(q->Run());
    }
    return Status();
  }
  return bad();
}

Result<SeriesState*> Applier::Series(const std::string& path, FieldType type) {
  NEREID_ASSIGN_OR_RETURN(std::optional<Existing> old, Lookup(path));
  SeriesState* s = nullptr;
  if (old) {
    if (old->type != type) return Conflict(path, old->type, type, "append to it as");
    s = cache_.Find(old->int_value);
    if (s == nullptr) {
      NEREID_ASSIGN_OR_RETURN(std::unique_ptr<SeriesState> loaded, LoadSeries(db_, old->int_value));
      s = cache_.Insert(std::move(loaded));
    }
  } else {
    auto q = db_.Cached("INSERT INTO series(run_id, path, type) VALUES(?, ?, ?)");
    q->BindAll(run_.id, path, static_cast<int64_t>(type));
    NEREID_RETURN_IF_ERROR(q->Run());
    auto state = std::make_unique<SeriesState>();
    state->id = sqlite3_last_insert_rowid(db_.raw());
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

// Steps a point gets when the client sent none: after the highest step so far (0 for a new series).
double AutoStep(const SeriesState& s, int i) {
  return (s.count == 0 ? 0.0 : s.last_step + 1) + static_cast<double>(i);
}

Status Applier::AppendFloats(const std::string& path, const v1::FloatPoints& pts) {
  NEREID_ASSIGN_OR_RETURN(SeriesState * s, Series(path, FieldType::kFloatSeries));
  double base = AutoStep(*s, 0);
  for (int i = 0; i < pts.values_size(); ++i) {
    series::FloatPoint p;
    p.step = pts.steps_size() > 0 ? pts.steps(i) : base + i;
    p.timestamp_us = pts.timestamps_us_size() > 0 ? pts.timestamps_us(i) : now_;
    p.value = pts.values(i);
    s->Append(p);
    if (s->TailPoints() >= series::kTargetChunkPoints) {
      NEREID_ASSIGN_OR_RETURN(int64_t delta, StoreSeries(db_, *s));
      size_delta_ += delta;
    }
  }
  points_ += static_cast<uint64_t>(pts.values_size());
  return Status();
}

template <typename Points>
Status Applier::AppendStrings(const std::string& path, FieldType type, const Points& pts) {
  NEREID_ASSIGN_OR_RETURN(SeriesState * s, Series(path, type));
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
      NEREID_ASSIGN_OR_RETURN(int64_t delta, StoreSeries(db_, *s));
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
    SeriesState* s = cache_.Find(id);
    if (s == nullptr) return Internal("series state lost during a batch");
    NEREID_ASSIGN_OR_RETURN(int64_t delta, StoreSeries(db_, *s));
    size_delta_ += delta;
  }
  auto q = db_.Cached(
      "UPDATE runs SET modified_us = ?, ping_us = ?, size_bytes = size_bytes + ? WHERE id = ?");
  q->BindAll(now_, ping_.value_or(now_), size_delta_, run_.id);
  return q->Run();
}

}  // namespace

Result<store::IngestResult> SqliteStore::ApplyBatch(Db& db, const RunKey& run,
                                                    const v1::Batch& batch) {
  store::IngestResult result;
  result.sequence = batch.sequence();
  std::optional<uint64_t> last = writer_sequences_.Find(run.id, batch.writer_id());
  if (!last) {
    auto q = db.Cached("SELECT last_sequence FROM writers WHERE run_id = ? AND writer_id = ?");
    q->BindAll(run.id, batch.writer_id());
    NEREID_ASSIGN_OR_RETURN(bool found, q->Step());
    if (found) {
      last = static_cast<uint64_t>(q->Int(0));
      writer_sequences_.Set(run.id, batch.writer_id(), *last);  // as the table holds it now
    }
  }
  if (last && batch.sequence() <= *last) {
    result.duplicate = true;
    return result;
  }
  // After the duplicate check: a retry of a batch stored before the run was trashed is still
  // acknowledged. On the writer thread, so a batch is applied either before the run is trashed
  // (and deleted with it) or refused here.
  if (run.trashed) return store::RunInTrash(run.project_key + "-" + std::to_string(run.number));
  NEREID_ASSIGN_OR_RETURN(QuotaGuard quota, QuotaGuard::Begin(db, run));  // quota.h
  store::FieldRegistrar fields(
      known_fields_, run.project_id,
      [&db](int64_t project_id, std::string_view path, FieldType type) {
        auto q = db.Cached(
            "INSERT OR IGNORE INTO project_fields(project_id, path, type) VALUES(?, ?, ?)");
        q->BindAll(project_id, path, static_cast<int64_t>(type));
        return q->Run();
      });
  Applier applier(db, series_cache_, fields, run, NowUs());
  Status s;
  for (const v1::Operation& op : batch.operations()) {
    s = applier.Apply(op);
    if (!s.ok()) break;
  }
  if (s.ok()) s = applier.Finish();
  if (s.ok()) s = quota.Check(db, run);
  if (s.ok()) {
    auto q = db.Cached(
        "INSERT INTO writers(run_id, writer_id, last_sequence) VALUES(?, ?, ?) "
        "ON CONFLICT(run_id, writer_id) DO UPDATE SET last_sequence = excluded.last_sequence");
    q->BindAll(run.id, batch.writer_id(), batch.sequence());
    s = q->Run();
  }
  if (!s.ok()) {
    applier.Abort();
    return s;
  }
  // The job succeeds from here on; a failed RELEASE or COMMIT clears the cache
  // (on_transaction_lost).
  writer_sequences_.Set(run.id, batch.writer_id(), batch.sequence());
  fields.Commit();  // a failed group commit clears known_fields_ (on_transaction_lost)
  result.applied_points = applier.points();
  if (++jobs_since_trim_ % 64 == 0) series_cache_.Trim();
  return result;
}

Result<store::IngestResult> SqliteStore::Ingest(std::string_view run_id, const v1::Batch& batch) {
  NEREID_RETURN_IF_ERROR(CheckOpen());
  store::IngestResult out;
  NEREID_RETURN_IF_ERROR(writer_->Run(
      [&](Db& db) -> Status {
        NEREID_ASSIGN_OR_RETURN(RunKey key, ResolveRun(db, run_id));
        NEREID_ASSIGN_OR_RETURN(out, ApplyBatch(db, key, batch));
        return Status();
      },
      true));
  return out;
}

}  // namespace nereid::store_sqlite
