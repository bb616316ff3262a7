#include "store/project_fields.h"

#include <algorithm>
#include <tuple>

#include "common/path.h"
#include "store/sys_fields.h"

namespace nereid::store {

std::string KnownFields::Key(int64_t project_id, std::string_view path, FieldType type) {
  std::string key;
  key.reserve(path.size() + 16);
  key.append(reinterpret_cast<const char*>(&project_id), sizeof project_id);
  key.push_back(static_cast<char>(type));
  key.append(path);
  return key;
}

bool KnownFields::Contains(int64_t project_id, std::string_view path, FieldType type) const {
  return rows_.count(Key(project_id, path, type)) > 0;
}

void KnownFields::Add(int64_t project_id, std::string_view path, FieldType type) {
  if (rows_.size() >= max_rows_) rows_.clear();
  rows_.insert(Key(project_id, path, type));
}

Status FieldRegistrar::Note(std::string_view path, FieldType type) {
  if (known_.Contains(project_id_, path, type)) return Status();
  for (const ProjectField& f : added_) {
    if (f.type == type && f.path == path) return Status();
  }
  NEREID_RETURN_IF_ERROR(insert_(project_id_, path, type));
  added_.push_back({std::string(path), type});
  return Status();
}

void FieldRegistrar::Commit() {
  for (const ProjectField& f : added_) known_.Add(project_id_, f.path, f.type);
  added_.clear();
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    // The last code point: its lead byte is the last byte that is not 10xxxxxx.
    size_t start = end.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(end[start]) & 0xc0) == 0x80) --start;
    const auto lead = static_cast<unsigned char>(end[start]);
    const size_t n = end.size() - start;
    uint32_t cp = n == 1 ? lead : lead & (0x7f >> n);
    for (size_t i = start + 1; i < end.size(); ++i) {
      cp = (cp << 6) | (static_cast<unsigned char>(end[i]) & 0x3f);
    }
    end.resize(start);
    if (cp >= 0x10ffff) continue;  // nothing follows it: the bound moves one code point left
    ++cp;
    if (cp == 0xd800) cp = 0xe000;  // no string holds a surrogate
    if (cp < 0x80) {
      end.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      end.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      end.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      end.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      end.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      end.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      end.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      end.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      end.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      end.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
    return end;
  }
  return end;
}

Status ValidateFieldListQuery(const FieldListQuery& query) {
  if (query.limit < 1 || query.limit > kMaxFieldListLimit) {
    return InvalidArgument("'limit' must be 1 to " + std::to_string(kMaxFieldListLimit));
  }
  if (query.prefix.size() > 1024) {
    return InvalidArgument("'prefix' is longer than a path may be (1024 bytes)");
  }
  if (!common::IsValidUtf8(query.prefix)) return InvalidArgument("'prefix' is not UTF-8");
  return Status();
}

FieldList MergeFieldList(std::vector<ProjectField> registered, const FieldListQuery& query) {
  std::vector<ProjectField> all = std::move(registered);
  for (const auto& [path, type] : SysFieldTypes()) {
    if (path.substr(0, query.prefix.size()) == query.prefix) {
      all.push_back({std::string(path), type});
    }
  }
  std::sort(all.begin(), all.end(), [](const ProjectField& a, const ProjectField& b) {
    return std::tie(a.path, a.type) < std::tie(b.path, b.type);
  });
  FieldList out;
  out.truncated = all.size() > query.limit;
  if (out.truncated) all.resize(query.limit);
  out.fields = std::move(all);
  return out;
}

}  // namespace nereid::store
