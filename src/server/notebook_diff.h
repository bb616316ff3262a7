// Jupyter notebooks (.ipynb, nbformat 4): validation of an uploaded checkpoint and a cell-by-cell
// diff of two checkpoints (sources and text outputs). Pure functions over JSON: no storage, no
// HTTP, so they are unit-tested directly.
//
// Thread-safety: free functions over values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "nereid/status.h"

namespace nereid::server {

// A notebook cell reduced to what checkpoints are compared on.
struct NotebookCell {
  std::string type;                  // "code", "markdown", "raw"
  std::string source;                // joined source lines
  std::vector<std::string> outputs;  // text of each output: stream text, text/plain, errors
};

inline constexpr size_t kMaxNotebookCells = 10000;

// Parses and checks an .ipynb body. InvalidArgument naming what is wrong ("not JSON at byte 12",
// "cell 3 has no 'source'", "nbformat 3 is not supported") for anything that is not an nbformat
// 4 notebook.
Result<std::vector<NotebookCell>> ParseNotebook(std::string_view body);

// Cell-by-cell diff: cells are aligned by a longest common subsequence of (type, source); runs of
// removed and added cells between aligned ones are paired in order as "modified". Returns
// {"cells": [{"status", "from_index", "to_index", "cell_type", "source", "outputs"}...],
//  "summary": {"unchanged", "modified", "added", "removed"}} where "source" and "outputs" are
// {"from", "to"} and appear only when they differ (or for added / removed cells).
nlohmann::json DiffNotebooks(const std::vector<NotebookCell>& from,
                             const std::vector<NotebookCell>& to);

}  // namespace nereid::server
