// The group-commit writer: one thread owns the write connection. Callers enqueue a job and block;
// the thread takes every queued job (up to a bound), runs them in one BEGIN IMMEDIATE ... COMMIT,
// each inside its own SAVEPOINT so that a refused job is rolled back alone, and completes the
// callers only after COMMIT returned (so a returned OK is durable).
//
// Thread-safety: Run may be called from any thread; jobs run on the writer thread only.
#pragma once

#include <array>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "store/write_timing.h"
#include "store_sqlite/db.h"

namespace nereid::store_sqlite {

struct WriterStats {
  uint64_t commits = 0;
  uint64_t batches = 0;
  std::array<uint64_t, 8> group_size_hist{};  // jobs per commit: 1,2,4,8,16,32,64,+Inf
};

class Writer {
 public:
  // A job applies its changes through the connection; a non-OK Status rolls back its savepoint.
  using Job = std::function<Status(Db&)>;

  // `on_transaction_lost` runs on the writer thread when a whole transaction failed (COMMIT or an
  // I/O error), so that in-memory caches mirroring the database can be dropped.
  Writer(std::unique_ptr<Db> db, size_t max_group, std::function<void()> on_transaction_lost);
  ~Writer();  // Stop()

  // Runs `job` in the next group commit and waits for the commit. Returns the job's Status, or the
  // commit's error, or Unavailable after Stop. `is_batch` counts the job in WriterStats::batches.
  // Sets store::last_write_timing on the calling thread.
  Status Run(Job job, bool is_batch);

  // Finishes every queued job, then stops the thread. Idempotent.
  void Stop();

  WriterStats Stats() const;

 private:
  struct Outcome {
    Status status;
    store::WriteTiming timing;
  };
  struct Pending {
    Job job;
    bool is_batch;
    store::WriteTiming timing;  // `queued` set by Run; the rest by the writer thread
    std::promise<Outcome> done;
  };
  void Loop();
  void RunGroup(std::vector<std::unique_ptr<Pending>>& group);

  std::unique_ptr<Db> db_;  // used by the writer thread only
  const size_t max_group_;
  std::function<void()> on_transaction_lost_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;  // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  WriterStats stats_;                           // guarded by mu_
  std::thread thread_;
};

}  // namespace nereid::store_sqlite
