#include "store_sqlite/writer_sequences.h"

#include <cstring>

namespace nereid::store_sqlite {

// The run id's 8 bytes, then the writer id: fixed width, so no two pairs share a key.
std::string WriterSequences::Key(int64_t run_id, std::string_view writer_id) {
  std::string key(sizeof run_id, '\0');
  std::memcpy(key.data(), &run_id, sizeof run_id);
  key.append(writer_id);
  return key;
}

std::optional<uint64_t> WriterSequences::Find(int64_t run_id, std::string_view writer_id) const {
  auto it = map_.find(Key(run_id, writer_id));
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void WriterSequences::Set(int64_t run_id, std::string_view writer_id, uint64_t sequence) {
  std::string key = Key(run_id, writer_id);
  if (map_.size() >= max_entries_ && map_.find(key) == map_.end()) map_.clear();
  map_[std::move(key)] = sequence;
}

void WriterSequences::ForgetRun(int64_t run_id) {
  std::string prefix = Key(run_id, "");
  std::erase_if(map_,
                [&](const auto& kv) { return kv.first.compare(0, prefix.size(), prefix) == 0; });
}

}  // namespace nereid::store_sqlite
