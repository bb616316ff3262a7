#include "client/records.h"

#include <cstring>

#include "client/float_points.h"

namespace nereid::client {
namespace {

void PutU32(std::string* out, uint32_t v) {
  out->append(reinterpret_cast<const char*>(&v), 4);
}
void Put8(std::string* out, const void* v) {
  out->append(static_cast<const char*>(v), 8);
}
void PutStr(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}
void PutFile(std::string* out, const FileRefData& f) {
  PutStr(out, f.sha256);
  PutStr(out, f.name);
  PutStr(out, f.content_type);
}

// Reads from a payload, refusing to run past its end.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool Get8(void* out) { return Take(out, 8); }
  bool GetU8(uint8_t* out) { return Take(out, 1); }
  bool GetU32(uint32_t* out) { return Take(out, 4); }
  bool GetStr(std::string_view* out) {
    uint32_t n;
    if (!GetU32(&n) || n > s_.size()) return false;
    *out = s_.substr(0, n);
    s_.remove_prefix(n);
    return true;
  }
  bool GetFile(v1::FileRef* f) {
    std::string_view a, b, c;
    if (!GetStr(&a) || !GetStr(&b) || !GetStr(&c)) return false;
    f->set_sha256(std::string(a));
    f->set_name(std::string(b));
    f->set_content_type(std::string(c));
    return true;
  }
  std::string_view rest() const { return s_; }
  bool done() const { return s_.empty(); }

 private:
  bool Take(void* out, size_t n) {
    if (s_.size() < n) return false;
    std::memcpy(out, s_.data(), n);
    s_.remove_prefix(n);
    return true;
  }
  std::string_view s_;
};

// Appends n 8-byte numbers from unaligned spool bytes to a repeated field.
template <typename T>
void AppendRaw(google::protobuf::RepeatedField<T>* field, const char* src, int n) {
  static_assert(sizeof(T) == 8);
  const int old = field->size();
  field->Resize(old + n, T{});
  std::memcpy(field->mutable_data() + old, src, size_t(n) * 8);
}

}  // namespace

uint64_t RecordEntries(const SpoolRecord& rec) {
  FloatPointsView v;
  if (rec.type == RecordType::kFloatPoints && DecodeFloatPoints(rec.payload, rec.flags, &v)) {
    return v.n;
  }
  return 1;
}

std::string EncodeAssignNumber(std::string_view path, ValueKind kind, const void* value8) {
  std::string out;
  out += static_cast<char>(kind);
  PutStr(&out, path);
  Put8(&out, value8);
  return out;
}

std::string EncodeAssignString(std::string_view path, std::string_view value) {
  std::string out;
  out += static_cast<char>(ValueKind::kString);
  PutStr(&out, path);
  out.append(value);
  return out;
}

std::string EncodeAssignFile(std::string_view path, const FileRefData& file) {
  std::string out;
  out += static_cast<char>(ValueKind::kFile);
  PutStr(&out, path);
  PutFile(&out, file);
  return out;
}

std::string EncodeStrings(std::string_view path, const std::vector<std::string_view>& values) {
  std::string out;
  PutStr(&out, path);
  for (std::string_view v : values) PutStr(&out, v);
  return out;
}

std::string EncodeStringPoint(std::string_view path, std::string_view value, double step,
                              int64_t time_us) {
  std::string out;
  Put8(&out, &step);
  Put8(&out, &time_us);
  PutStr(&out, path);
  out.append(value);
  return out;
}

std::string EncodeFilePoint(std::string_view path, const FileRefData& file, double step,
                            int64_t time_us) {
  std::string out;
  Put8(&out, &step);
  Put8(&out, &time_us);
  PutStr(&out, path);
  PutFile(&out, file);
  return out;
}

v1::Operation* BatchBuilder::OpFor(std::string_view path, v1::Operation::OpCase kind,
                                   bool has_step) {
  auto it = last_.find(std::string(path));
  if (it != last_.end()) {
    v1::Operation* op = batch_.mutable_operations(it->second.index);
    if (op->op_case() == kind && it->second.has_step == has_step) return op;
  }
  v1::Operation* op = batch_.add_operations();
  op->set_path(std::string(path));
  last_[std::string(path)] = Last{batch_.operations_size() - 1, has_step};
  return op;
}

bool BatchBuilder::Add(const SpoolRecord& rec) {
  Cursor c(rec.payload);
  bool has_step = (rec.flags & kFlagHasStep) != 0;
  switch (rec.type) {
    case RecordType::kFloatPoint: {
      double value, step;
      int64_t t;
      if (!c.Get8(&value) || !c.Get8(&step) || !c.Get8(&t)) return false;
      v1::Operation* op = OpFor(c.rest(), v1::Operation::kAppendFloats, has_step);
      v1::FloatPoints* pts = op->mutable_append_floats();
      if (has_step) pts->add_steps(step);
      pts->add_timestamps_us(t);
      pts->add_values(value);
      break;
    }
    case RecordType::kFloatPoints: {
      FloatPointsView v;
      if (!DecodeFloatPoints(rec.payload, rec.flags, &v)) return false;
      v1::FloatPoints* pts = OpFor(v.path, v1::Operation::kAppendFloats, has_step)
                                 ->mutable_append_floats();
      const int n = static_cast<int>(v.n);
      AppendRaw(pts->mutable_values(), v.values, n);
      if (v.steps != nullptr) AppendRaw(pts->mutable_steps(), v.steps, n);
      if (v.per_point_time) {
        AppendRaw(pts->mutable_timestamps_us(), v.times, n);
      } else {
        int64_t t;
        std::memcpy(&t, v.times, 8);
        auto* ts = pts->mutable_timestamps_us();
        ts->Resize(ts->size() + n, t);
      }
      entries_ += v.n - 1;  // the record counts once below
      raw_bytes_ += uint64_t{v.n} * (v.steps != nullptr ? 24 : 16);
      break;
    }
    case RecordType::kStringPoint:
    case RecordType::kFilePoint: {
      double step;
      int64_t t;
      std::string_view path;
      if (!c.Get8(&step) || !c.Get8(&t) || !c.GetStr(&path)) return false;
      if (rec.type == RecordType::kStringPoint) {
        v1::StringPoints* pts =
            OpFor(path, v1::Operation::kAppendStrings, has_step)->mutable_append_strings();
        if (has_step) pts->add_steps(step);
        pts->add_timestamps_us(t);
        pts->add_values(std::string(c.rest()));
      } else {
        v1::FileRef f;
        if (!c.GetFile(&f)) return false;
        blobs_.push_back(f.sha256());
        v1::FilePoints* pts =
            OpFor(path, v1::Operation::kAppendFiles, has_step)->mutable_append_files();
        if (has_step) pts->add_steps(step);
        pts->add_timestamps_us(t);
        *pts->add_files() = std::move(f);
      }
      break;
    }
    case RecordType::kAssign: {
      uint8_t kind;
      std::string_view path;
      if (!c.GetU8(&kind) || !c.GetStr(&path)) return false;
      v1::Operation op;
      op.set_path(std::string(path));
      v1::Value* v = op.mutable_assign();
      switch (static_cast<ValueKind>(kind)) {
        case ValueKind::kFloat: {
          double d;
          if (!c.Get8(&d)) return false;
          v->set_float_value(d);
          break;
        }
        case ValueKind::kInt:
        case ValueKind::kDatetimeUs:
        case ValueKind::kBool: {
          int64_t i;
          if (!c.Get8(&i)) return false;
          if (static_cast<ValueKind>(kind) == ValueKind::kInt) v->set_int_value(i);
          if (static_cast<ValueKind>(kind) == ValueKind::kDatetimeUs) v->set_datetime_us(i);
          if (static_cast<ValueKind>(kind) == ValueKind::kBool) v->set_bool_value(i != 0);
          break;
        }
        case ValueKind::kString:
          v->set_string_value(std::string(c.rest()));
          break;
        case ValueKind::kFile:
          if (!c.GetFile(v->mutable_file())) return false;
          blobs_.push_back(v->file().sha256());
          break;
        default:
          return false;
      }
      *batch_.add_operations() = std::move(op);
      last_[std::string(path)] = Last{batch_.operations_size() - 1, false};
      break;
    }
    case RecordType::kAddStrings:
    case RecordType::kRemoveStrings: {
      std::string_view path;
      if (!c.GetStr(&path)) return false;
      v1::Operation op;
      op.set_path(std::string(path));
      v1::StringList* list = rec.type == RecordType::kAddStrings ? op.mutable_add_strings()
                                                                 : op.mutable_remove_strings();
      while (!c.done()) {
        std::string_view s;
        if (!c.GetStr(&s)) return false;
        list->add_values(std::string(s));
      }
      *batch_.add_operations() = std::move(op);
      last_[std::string(path)] = Last{batch_.operations_size() - 1, false};
      break;
    }
    default:
      return false;
  }
  ++entries_;
  raw_bytes_ += RecordSpan(rec.payload.size());
  return true;
}

v1::Batch BatchBuilder::Take() {
  v1::Batch out = std::move(batch_);
  batch_.Clear();
  last_.clear();
  blobs_.clear();
  entries_ = 0;
  raw_bytes_ = 0;
  return out;
}

}  // namespace nereid::client
