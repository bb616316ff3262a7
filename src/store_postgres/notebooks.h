// PgNotebooks: the NotebookStore of the PostgreSQL backend (tables notebooks and
// notebook_checkpoints, schema.cc). Checkpoint numbers stay 1, 2, ... without gaps or duplicates
// when several servers upload to one notebook at once: AddCheckpoint locks the notebook's row
// before it numbers the new checkpoint.
//
// Thread-safety: as NotebookStore. Each call borrows a pooled connection for its duration.
#pragma once

#include "store/notebooks.h"

namespace nereid::store_postgres {

class PgStore;

class PgNotebooks final : public store::NotebookStore {
 public:
  explicit PgNotebooks(PgStore* store) : store_(store) {}

  Result<store::CheckpointInfo> AddCheckpoint(std::string_view project, std::string_view path,
                                              std::string_view sha256, int64_t size,
                                              std::string_view created_by, bool* created) override;
  Result<std::vector<store::NotebookInfo>> ListNotebooks(std::string_view project) override;
  Result<std::vector<store::CheckpointInfo>> ListCheckpoints(std::string_view project,
                                                             std::string_view path) override;
  Result<store::CheckpointInfo> GetCheckpoint(std::string_view project, std::string_view path,
                                              std::string_view sha256) override;

 private:
  PgStore* store_;  // owns this
};

}  // namespace nereid::store_postgres
