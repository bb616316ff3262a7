// The notebooks part of the storage interface: notebooks of a project (no count limit), each with
// checkpoints, i.e. uploaded .ipynb versions stored as content-addressed blobs (the blob store
// holds the bytes; the backend keeps which notebook has which checkpoint). Backends implement it
// beside their Store (Store::Notebooks()).
//
// Thread-safety: every method may be called from many threads at once. Failure: a Status;
// NotFound names the missing project, notebook or checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nereid/status.h"

namespace nereid::store {

struct NotebookInfo {
  std::string project;  // "workspace/project"
  std::string path;     // the notebook's name in the project, e.g. "experiments/train.ipynb"
  int64_t creation_time_us = 0;
  int64_t checkpoints = 0;
  int64_t last_checkpoint_time_us = 0;
};

struct CheckpointInfo {
  std::string project;
  std::string path;
  std::string sha256;  // the content's hash: the checkpoint's id within its notebook
  int64_t size = 0;
  int64_t number = 0;  // 1, 2, ... in upload order within the notebook
  int64_t creation_time_us = 0;
  std::string created_by;
};

class NotebookStore {
 public:
  virtual ~NotebookStore() = default;
  // Adds a checkpoint whose bytes are the recorded blob `sha256` (creating the notebook on its
  // first checkpoint). Uploading content the notebook already has returns that checkpoint and
  // `*created` false.
  virtual Result<CheckpointInfo> AddCheckpoint(std::string_view project, std::string_view path,
                                               std::string_view sha256, int64_t size,
                                               std::string_view created_by, bool* created) = 0;
  virtual Result<std::vector<NotebookInfo>> ListNotebooks(std::string_view project) = 0;
  // Oldest first.
  virtual Result<std::vector<CheckpointInfo>> ListCheckpoints(std::string_view project,
                                                              std::string_view path) = 0;
  virtual Result<CheckpointInfo> GetCheckpoint(std::string_view project, std::string_view path,
                                               std::string_view sha256) = 0;
};

}  // namespace nereid::store
