// Values the storage interface speaks in: runs, fields, series pages. No SQL, no HTTP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "series/buckets.h"
#include "series/float_chunk.h"

namespace nereid::store {

enum class FieldType {
  kFloat,
  kInt,
  kBool,
  kString,
  kDatetime,
  kStringSet,
  kFile,
  kFileSet,
  kFloatSeries,
  kStringSeries,
  kFileSeries,
};

// "float", "int", "bool", "string", "datetime", "string_set", "file", "file_set",
// "float_series", "string_series", "file_series".
std::string_view FieldTypeName(FieldType type);
bool IsSeries(FieldType type);

struct Datetime {
  int64_t us = 0;  // since the Unix epoch, UTC
  bool operator==(const Datetime&) const = default;
};

struct FileInfo {
  std::string sha256;        // lowercase hex
  std::string name;          // original name, for downloads
  std::string content_type;  // never empty once stored ("application/octet-stream" at worst)
  int64_t size = 0;          // bytes
  bool operator==(const FileInfo&) const = default;
};

using StringSet = std::vector<std::string>;  // sorted, unique
using FileSet = std::vector<FileInfo>;       // sorted by name

// A field's value: an atom, a set, a file. monostate = absent (e.g. a column a run lacks).
using Value = std::variant<std::monostate, double, int64_t, bool, std::string, Datetime, StringSet,
                           FileInfo, FileSet>;

// What a series field reports without reading its points.
struct SeriesSummary {
  uint64_t count = 0;
  double last_step = 0;
  int64_t last_timestamp_us = 0;
  // Float series: last value (at the highest step), min and max over non-NaN values.
  double last = 0, min = 0, max = 0;
  bool has_min_max = false;  // false when every value is NaN
  // String series: last value. File series: the last file.
  std::string last_string;
  std::optional<FileInfo> last_file;
};

struct Field {
  std::string path;
  FieldType type = FieldType::kFloat;
  Value value;                          // atoms, sets, files
  std::optional<SeriesSummary> series;  // series fields
};

enum class RunState { kRunning, kSucceeded, kFailed, kAborted };
std::string_view RunStateName(RunState state);  // "running", ...
std::optional<RunState> ParseRunState(std::string_view name);

struct RunInfo {
  std::string id;             // "VIS-42"
  std::string project;        // "workspace/project"
  std::string custom_run_id;  // empty when none
  std::string name;
  std::string description;
  RunState state = RunState::kRunning;
  bool failed = false;
  int64_t creation_time_us = 0;
  int64_t modification_time_us = 0;
  int64_t ping_time_us = 0;
  std::string owner;
  StringSet tags;
  int64_t size_bytes = 0;  // stored bytes of fields, series chunks and referenced files
  int64_t trashed_time_us = 0;  // when it was moved to the trash; 0 when not in the trash
};

struct WorkspaceInfo {
  std::string name;
  int64_t creation_time_us = 0;
};

struct ProjectInfo {
  std::string workspace;
  std::string name;
  std::string key;  // 1-10 capitals, unique on the server
  int64_t creation_time_us = 0;
  int64_t run_count = 0;
};

struct CreateRunRequest {
  std::string project;        // "workspace/project"
  std::string custom_run_id;  // optional; an existing one returns that run
  std::string name;
  std::string description;
  StringSet tags;
  std::string owner;
};

struct CreateRunResult {
  RunInfo run;
  bool created = false;  // false when custom_run_id matched an existing run
};

struct IngestResult {
  uint64_t sequence = 0;
  bool duplicate = false;
  uint64_t applied_points = 0;
};

// Raw points of one series, ordered by step (ties by arrival), paged by an opaque cursor.
struct SeriesPage {
  FieldType type = FieldType::kFloatSeries;
  std::vector<series::FloatPoint> floats;              // float series
  std::vector<series::StringPoint> strings;            // string series
  std::vector<std::pair<double, int64_t>> file_steps;  // file series: (step, timestamp_us) ...
  std::vector<FileInfo> files;                         // ... and the file at each
  std::string next_cursor;                             // empty at the end
};

// A column cell in the runs table.
using Cell = Value;

struct RunRow {
  RunInfo run;
  std::vector<Cell> cells;  // one per requested column
};

struct RunPage {
  std::vector<RunRow> rows;
  std::string next_cursor;  // empty at the end
  // Runs matching the filter; unset when the query asked not to count (count_total = false).
  std::optional<uint64_t> total;
};

// Counters for /metrics.
struct StoreStats {
  uint64_t database_bytes = 0;
  uint64_t files_bytes = 0;
  uint64_t commits = 0;                   // group commits (transactions)
  uint64_t batches = 0;                   // batches applied in them
  std::vector<uint64_t> group_size_hist;  // batches per commit: buckets 1,2,4,8,16,32,64,+Inf
};

}  // namespace nereid::store
