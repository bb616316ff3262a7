#include "store_postgres/writer.h"

#include <algorithm>

namespace nereid::store_postgres {

Writer::Writer(std::string url, std::string session_sql, size_t max_group,
               std::function<void()> on_transaction_lost)
    : url_(std::move(url)),
      session_sql_(std::move(session_sql)),
      max_group_(max_group),
      on_transaction_lost_(std::move(on_transaction_lost)),
      thread_([this] { Loop(); }) {}

Writer::~Writer() {
  Stop();
}

Status Writer::Run(int64_t order_key, Job job, bool is_batch) {
  auto pending = std::make_unique<Pending>();
  pending->order_key = order_key;
  pending->job = std::move(job);
  pending->is_batch = is_batch;
  std::future<Status> done = pending->done.get_future();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Unavailable("store is closed");
    queue_.push_back(std::move(pending));
  }
  cv_.notify_one();
  return done.get();
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

Status Writer::Connect() {
  if (conn_ && conn_->ok()) return Status();
  conn_.reset();
  NEREID_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, PgConn::Connect(url_));
  if (!session_sql_.empty()) NEREID_RETURN_IF_ERROR(conn->ExecScript(session_sql_));
  conn_ = std::move(conn);
  return Status();
}

void Writer::Loop() {
  Group retry;
  for (;;) {
    Group group;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !retry.empty(); });
      if (queue_.empty() && retry.empty()) break;  // stopping, and everything queued is done
      // Victims of the last group go first: they have waited longest.
      group = std::move(retry);
      retry.clear();
      while (!queue_.empty() && group.size() < max_group_) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    retry = RunGroup(group);
    // Let the other server's transaction that won the deadlock finish before trying again.
    if (!retry.empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(2 << retry[0]->attempts));
  }
  conn_.reset();
}

Writer::Group Writer::RunGroup(Group& group) {
  std::stable_sort(group.begin(), group.end(),
                   [](const auto& a, const auto& b) { return a->order_key < b->order_key; });
  std::vector<Status> results(group.size());
  std::vector<bool> again(group.size(), false);
  Status txn = Connect();
  if (txn.ok()) txn = conn_->ExecScript("BEGIN");
  size_t batches = 0;
  for (size_t i = 0; i < group.size() && txn.ok(); ++i) {
    txn = conn_->ExecScript("SAVEPOINT job");
    if (!txn.ok()) break;
    Status s = group[i]->job(*conn_);
    if (!s.ok()) {
      // Also releases the row locks the job took, so the transaction that waited on them (a
      // deadlock's winner) proceeds.
      txn = conn_->ExecScript("ROLLBACK TO SAVEPOINT job");
      if (!txn.ok()) break;
    }
    txn = conn_->ExecScript("RELEASE SAVEPOINT job");
    if (IsRetryable(s) && ++group[i]->attempts < kMaxAttempts) {
      again[i] = true;
    } else {
      batches += s.ok() && group[i]->is_batch ? 1 : 0;
      results[i] = std::move(s);
    }
  }
  if (txn.ok()) txn = conn_->ExecScript("COMMIT");
  if (!txn.ok()) {
    if (conn_ && conn_->ok()) (void)conn_->ExecScript("ROLLBACK");
    on_transaction_lost_();
    batches = 0;
    // A lost transaction retried whole when PostgreSQL asked for it; otherwise every job fails
    // with the transaction's error, including those that had succeeded.
    bool retry_all = IsRetryable(txn);
    for (size_t i = 0; i < group.size(); ++i) {
      again[i] = retry_all && (again[i] || ++group[i]->attempts < kMaxAttempts);
      results[i] = txn;
    }
  }
  {
    std::lock_guard lock(mu_);
    if (txn.ok()) {
      stats_.commits++;
      stats_.batches += batches;
      size_t bucket = 0;
      size_t done =
          group.size() - static_cast<size_t>(std::count(again.begin(), again.end(), true));
      while (bucket < 7 && (size_t{1} << bucket) < done) ++bucket;
      if (done > 0) stats_.group_size_hist[bucket]++;
    }
  }
  Group retry;
  for (size_t i = 0; i < group.size(); ++i) {
    if (again[i]) {
      retry.push_back(std::move(group[i]));
    } else {
      group[i]->done.set_value(std::move(results[i]));
    }
  }
  return retry;
}

}  // namespace nereid::store_postgres
