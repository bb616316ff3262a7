// The last batch sequence applied per (run, writer), kept in memory by the SQLite writer so that
// the duplicate check of a batch costs no statement. It mirrors the `writers` table as the open
// transaction sees it, which only holds if its owner keeps to these rules:
//   - Set only after the batch's row was written and its job succeeded (a refused batch rolls
//     back its savepoint, so its sequence must never reach the cache);
//   - Clear when a whole transaction is lost (a failed COMMIT or an I/O error), since entries set
//     by its jobs were never committed;
//   - ForgetRun when a run's rows are deleted (SQLite may reuse its row id).
// A miss means "read the table": entries are dropped wholesale when the bound is reached.
//
// Thread-safety: none; the writer thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace nereid::store_sqlite {

class WriterSequences {
 public:
  // `max_entries`: the cache is emptied when a new entry would exceed it (default below).
  explicit WriterSequences(size_t max_entries = kDefaultMaxEntries) : max_entries_(max_entries) {}

  // The last sequence applied for the writer on the run, when cached.
  std::optional<uint64_t> Find(int64_t run_id, std::string_view writer_id) const;
  void Set(int64_t run_id, std::string_view writer_id, uint64_t sequence);
  void ForgetRun(int64_t run_id);
  void Clear() { map_.clear(); }
  size_t size() const { return map_.size(); }

  // About 100 bytes an entry: 100k writers' worth is ~10 MB.
  static constexpr size_t kDefaultMaxEntries = 100'000;

 private:
  static std::string Key(int64_t run_id, std::string_view writer_id);

  size_t max_entries_;
  std::unordered_map<std::string, uint64_t> map_;  // Key() -> last sequence
};

}  // namespace nereid::store_sqlite
