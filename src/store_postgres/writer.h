// The group-commit writer of one server process: a thread that owns a dedicated connection.
// Callers enqueue a job and block; the thread takes every queued job (up to a bound), runs them
// in one BEGIN ... COMMIT, each inside its own SAVEPOINT so that a refused job is rolled back
// alone, and completes the callers only after COMMIT returned (so a returned OK is durable).
//
// Several servers write to the same database, each with its own writer, so transactions of
// different servers contend for row locks. Two measures keep that cheap and safe:
// - Jobs of a group run ordered by their `order_key` (the run's row id for ingest; arrival
//   order is kept among equal keys), and an ingest job locks its run row first, so two groups
//   lock runs in the same order and do not deadlock on them.
// - A job that fails with a deadlock or serialization failure (PostgreSQL chose it as the victim)
//   is rolled back to its savepoint and queued again for the next group, after this group's
//   COMMIT released its locks; up to kMaxAttempts times, then its caller gets Unavailable.
//
// Thread-safety: Run may be called from any thread; jobs run on the writer thread only.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store_postgres/pg.h"

namespace nereid::store_postgres {

struct WriterStats {
  uint64_t commits = 0;
  uint64_t batches = 0;
  std::array<uint64_t, 8> group_size_hist{};  // jobs per commit: 1,2,4,8,16,32,64,+Inf
};

class Writer {
 public:
  // A job applies its changes through the connection, inside its savepoint; a non-OK Status
  // rolls the savepoint back. A job may run more than once (see above), so it must undo any
  // in-memory effect when it fails.
  using Job = std::function<Status(PgConn&)>;

  // `url`: the database; `session_sql` runs on each new connection (may be empty).
  // `on_transaction_lost` runs on the writer thread when a whole transaction failed (COMMIT, a
  // lost connection), so that in-memory caches mirroring the database can be dropped.
  Writer(std::string url, std::string session_sql, size_t max_group,
         std::function<void()> on_transaction_lost);
  ~Writer();  // Stop()

  // Runs `job` in the next group commit and waits for the commit. Returns the job's Status, or
  // the transaction's error (Unavailable when the connection was lost: whether the group
  // committed is then unknown, and a retried batch is recognised by its sequence), or
  // Unavailable after Stop. `is_batch` counts the job in WriterStats::batches.
  Status Run(int64_t order_key, Job job, bool is_batch);

  // Finishes every queued job, then stops the thread and closes the connection. Idempotent.
  void Stop();

  WriterStats Stats() const;

  static constexpr int kMaxAttempts = 5;

 private:
  struct Pending {
    int64_t order_key;
    Job job;
    bool is_batch;
    int attempts = 0;
    std::promise<Status> done;
  };
  using Group = std::vector<std::unique_ptr<Pending>>;
  void Loop();
  // Runs a group; returns the jobs to run again (deadlock victims).
  Group RunGroup(Group& group);
  Status Connect();

  const std::string url_;
  const std::string session_sql_;
  const size_t max_group_;
  std::function<void()> on_transaction_lost_;
  std::unique_ptr<PgConn> conn_;  // writer thread only; reconnected when lost

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;  // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  WriterStats stats_;                           // guarded by mu_
  std::thread thread_;
};

}  // namespace nereid::store_postgres
