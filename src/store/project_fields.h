// The per-project field list: every (path, type) that a project's runs have logged, kept by each
// backend in a `project_fields` table that ingest maintains, so listing a project's fields never
// scans its runs (a project may hold 100k runs and thousands of distinct paths).
//
// The backends supply the SQL (an insert-if-absent of one row; a range read of the table); what
// is shared lives here: the writer's in-memory set of rows already committed (so the steady state
// of ingest costs no SQL), the batch-scoped registrar that decides when a row must be written,
// the prefix range, and the merge with the sys/ fields every run has.
//
// A path logged with different types in different runs is listed once per type. Rows are never
// removed, so the list may name paths whose last run was deleted (docs/http-api.md says so).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "nereid/status.h"
#include "store/types.h"

namespace nereid::store {

struct ProjectField {
  std::string path;
  FieldType type = FieldType::kFloat;
  bool operator==(const ProjectField&) const = default;
};

struct FieldListQuery {
  std::string project;    // "workspace/project"
  std::string prefix;     // a byte prefix of the path ("train/lo"); empty = every field
  uint32_t limit = 1000;  // 1..kMaxFieldListLimit
};

struct FieldList {
  std::vector<ProjectField> fields;  // ordered by path (bytes), then type
  bool truncated = false;            // more fields matched than `limit`
};

inline constexpr uint32_t kMaxFieldListLimit = 10000;

// The (project, path, type) rows this store's writer knows to be committed in project_fields.
// A row only ever gets added (never removed), so a remembered row stays true, also when other
// servers write the same database. Bounded: when full it forgets everything and relearns (each
// forgotten row costs one insert-if-absent the next time a run logs it).
//
// Thread-safety: none; used by the writer thread only, like the series cache.
class KnownFields {
 public:
  explicit KnownFields(size_t max_rows = 1 << 18) : max_rows_(max_rows) {}
  bool Contains(int64_t project_id, std::string_view path, FieldType type) const;
  void Add(int64_t project_id, std::string_view path, FieldType type);
  // After a lost transaction: rows added by its jobs may not exist.
  void Clear() { rows_.clear(); }
  size_t size() const { return rows_.size(); }

 private:
  static std::string Key(int64_t project_id, std::string_view path, FieldType type);
  size_t max_rows_;
  std::unordered_set<std::string> rows_;
};

// The field rows one batch adds to its project. The backend's Applier calls Note for every field
// it creates in a run (a run's existing field is already registered: its type never changes);
// Note writes the row through `insert` (insert-if-absent, in the batch's transaction) unless the
// writer knows it is committed or this batch wrote it already. Commit, once the whole batch
// succeeded, teaches `known` the batch's rows; a batch rolled back teaches nothing, and a group
// commit that fails clears `known` (the backends' on_transaction_lost).
//
// Thread-safety: none; lives on the writer thread for one batch.
class FieldRegistrar {
 public:
  using InsertFn = std::function<Status(int64_t project_id, std::string_view path, FieldType)>;
  FieldRegistrar(KnownFields& known, int64_t project_id, InsertFn insert)
      : known_(known), project_id_(project_id), insert_(std::move(insert)) {}

  Status Note(std::string_view path, FieldType type);
  void Commit();

 private:
  KnownFields& known_;
  int64_t project_id_;
  InsertFn insert_;
  std::vector<ProjectField> added_;
};

// The exclusive upper bound of the paths that start with `prefix` (valid UTF-8) in byte order:
// the prefix with its last code point incremented (U+10FFFF dropped first). UTF-8 byte order is
// code point order, and the bound stays valid UTF-8, which PostgreSQL requires of a text
// parameter. Empty when there is no bound (an empty prefix): read to the end.
std::string PrefixEnd(std::string_view prefix);

// Checks a query's limit and prefix: 1..kMaxFieldListLimit, at most 1024 bytes of UTF-8
// (InvalidArgument naming the parameter).
Status ValidateFieldListQuery(const FieldListQuery& query);

// The answer to `query` from `registered`, the project_fields rows in [prefix, PrefixEnd(prefix))
// ordered by path and type, at most query.limit + 1 of them: merged with the sys/ fields under the
// prefix, cut to the limit, `truncated` when anything was cut.
FieldList MergeFieldList(std::vector<ProjectField> registered, const FieldListQuery& query);

}  // namespace nereid::store
