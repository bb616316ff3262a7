// SqliteNotebooks: the NotebookStore of the SQLite backend. Its tables are created if missing
// when the store opens (purely additive, like the accounts tables).
//
// Thread-safety: as NotebookStore. Writes run as jobs of the store's group-commit writer.
#pragma once

#include "store/notebooks.h"

namespace nereid::store_sqlite {

class SqliteStore;

class SqliteNotebooks final : public store::NotebookStore {
 public:
  explicit SqliteNotebooks(SqliteStore* store) : store_(store) {}
  Status Init();

  Result<store::CheckpointInfo> AddCheckpoint(std::string_view project, std::string_view path,
                                              std::string_view sha256, int64_t size,
                                              std::string_view created_by, bool* created) override;
  Result<std::vector<store::NotebookInfo>> ListNotebooks(std::string_view project) override;
  Result<std::vector<store::CheckpointInfo>> ListCheckpoints(std::string_view project,
                                                             std::string_view path) override;
  Result<store::CheckpointInfo> GetCheckpoint(std::string_view project, std::string_view path,
                                              std::string_view sha256) override;

 private:
  SqliteStore* store_;  // owns this
};

}  // namespace nereid::store_sqlite
