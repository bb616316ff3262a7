#include "store_sqlite/writer.h"

#include <pthread.h>

namespace nereid::store_sqlite {

Writer::Writer(std::unique_ptr<Db> db, size_t max_group, std::function<void()> on_transaction_lost)
    : db_(std::move(db)),
      max_group_(max_group),
      on_transaction_lost_(std::move(on_transaction_lost)),
      thread_([this] {
        // Named so that `top -H` and /proc/<pid>/task/*/comm tell the writer from the handlers
        // (docs/operations.md).
        pthread_setname_np(pthread_self(), "nereid-writer");
        Loop();
      }) {}

Writer::~Writer() {
  Stop();
}

Status Writer::Run(Job job, bool is_batch) {
  auto pending = std::make_unique<Pending>();
  pending->job = std::move(job);
  pending->is_batch = is_batch;
  pending->timing.queued = std::chrono::steady_clock::now();
  std::future<Outcome> done = pending->done.get_future();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Unavailable("store is closed");
    queue_.push_back(std::move(pending));
  }
  cv_.notify_one();
  Outcome outcome = done.get();
  store::last_write_timing = outcome.timing;
  return std::move(outcome.status);
}

void Writer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

WriterStats Writer::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Writer::Loop() {
  for (;;) {
    std::vector<std::unique_ptr<Pending>> group;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      while (!queue_.empty() && group.size() < max_group_) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunGroup(group);
  }
}

namespace {
// The statements every job runs, prepared once: sqlite3_exec would parse them each time.
Status RunCached(Db& db, std::string_view sql) {
  return db.Cached(sql)->Run();
}
}  // namespace

void Writer::RunGroup(std::vector<std::unique_ptr<Pending>>& group) {
  std::vector<Status> results(group.size());
  const auto started = std::chrono::steady_clock::now();
  Status txn = RunCached(*db_, "BEGIN IMMEDIATE");
  size_t batches = 0;
  for (size_t i = 0; i < group.size() && txn.ok(); ++i) {
    batches += group[i]->is_batch ? 1 : 0;
    txn = RunCached(*db_, "SAVEPOINT job");
    if (!txn.ok()) break;
    Status s = group[i]->job(*db_);
    if (sqlite3_get_autocommit(db_->raw())) {
      // An I/O error or a full disk made SQLite roll back the whole transaction: every job of the
      // group is lost, including those that had succeeded.
      txn = s.ok() ? Internal("sqlite rolled back the transaction") : s;
      break;
    }
    if (!s.ok()) txn = RunCached(*db_, "ROLLBACK TO job");
    if (txn.ok()) txn = RunCached(*db_, "RELEASE job");
    results[i] = std::move(s);
  }
  const auto applied = std::chrono::steady_clock::now();
  if (txn.ok()) txn = db_->Exec("COMMIT");
  if (!txn.ok()) {
    if (!sqlite3_get_autocommit(db_->raw())) (void)db_->Exec("ROLLBACK");
    for (Status& r : results) r = txn;
    on_transaction_lost_();
  }
  {
    std::lock_guard lock(mu_);
    if (txn.ok()) {
      stats_.commits++;
      stats_.batches += batches;
      size_t bucket = 0;
      while (bucket < 7 && (size_t{1} << bucket) < group.size()) ++bucket;
      stats_.group_size_hist[bucket]++;
    }
  }
  const auto committed = std::chrono::steady_clock::now();
  for (size_t i = 0; i < group.size(); ++i) {
    store::WriteTiming timing = group[i]->timing;
    timing.started = started;
    timing.applied = applied;
    timing.committed = committed;
    group[i]->done.set_value(Outcome{std::move(results[i]), timing});
  }
}

}  // namespace nereid::store_sqlite
