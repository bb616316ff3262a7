// RunImpl: the state behind nereid::Run: the spool writer, the sender thread and the fork guard.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "client/records.h"
#include "client/spool_writer.h"
#include "client/uploader.h"
#include "client/writer_dir.h"
#include "nereid/file.h"
#include "nereid/options.h"
#include "nereid/run.h"

namespace nereid::client {

class RunImpl {
 public:
  static Result<std::unique_ptr<RunImpl>> Create(RunOptions options);
  ~RunImpl();

  // Log calls: refuse (with a report) when the run cannot take records, then append.
  void LogFloat(std::string_view path, double value, double step, bool has_step, int64_t time_us);
  // n points of one path; `steps` null or n finite steps; `times` null (all at time_us) or n
  // times. In sync mode, one wait for all of them.
  void LogFloats(std::string_view path, const double* values, const double* steps,
                 const int64_t* times, size_t n, int64_t time_us);
  void LogRecord(RecordType type, uint8_t flags, std::string&& payload);
  // Copies the file into blobs/ and returns its reference; reports and returns false on failure.
  bool StoreFile(const File& file, FileRefData* ref);
  void Report(const Status& status);
  // Sender thread, every wake: restarts a stopped spool when there is room again, and reports
  // drops and the resumption through on_error.
  void CheckSpool();

  Status Wait(std::chrono::milliseconds timeout);
  // Waits for the server at most `timeout`, or options_.stop_timeout when it is empty.
  Status Stop(RunState state, std::optional<std::chrono::milliseconds> timeout);
  std::string id() const;
  const std::string& custom_run_id() const { return info_.custom_run_id; }
  const std::string& spool_path() const { return dir_; }
  RunStats stats() const;
  Result<std::string> Fetch(const std::string& path_and_query) const;

  // Called in the child after fork(): the child must never write into the parent's spool.
  void MarkForked() { state_.store(kForked, std::memory_order_relaxed); }

 private:
  enum : int { kAccepting = 0, kStopped = 1, kForked = 2, kDropAll = 3, kRefuse = 4 };
  RunImpl() = default;
  bool Refuse();  // the slow path of a log call that is not accepted
  void AfterLog();
  // The log calls' side of the idle sender: cheap when the sender is busy (one relaxed load).
  void KickIfIdle() {
    if (sender_idle_.load(std::memory_order_relaxed)) [[unlikely]]
      Kick();
  }
  void Kick();
  void SenderLoop();
  void StopSender();
  std::string SyncHint() const;

  RunOptions options_;
  Mode mode_ = Mode::kAsync;
  WriterInfo info_;
  std::string dir_;
  int lock_fd_ = -1;
  pid_t owner_pid_ = 0;
  std::atomic<int> state_{kAccepting};
  std::unique_ptr<SpoolWriter> writer_;

  // Sender thread and what it shares with Wait/Stop.
  std::atomic<bool> abort_{false};
  std::unique_ptr<Uploader> uploader_;  // used by the sender thread only (after start)
  std::thread sender_;
  mutable std::mutex mu_;
  std::condition_variable wake_;   // wakes the sender (flush request, stop)
  std::condition_variable acked_;  // wakes Wait() after an ack
  bool flush_requested_ = false;   // guarded by mu_
  bool kicked_ = false;            // guarded by mu_: a record arrived while the sender was idle
  // The sender found nothing to send at its last look: the next log call wakes it (Kick).
  std::atomic<bool> sender_idle_{false};
  bool stopping_ = false;          // guarded by mu_
  bool sender_done_ = false;       // guarded by mu_
  Position acked_pos_;             // guarded by mu_
  uint64_t batches_acked_ = 0;     // guarded by mu_
  uint64_t records_acked_ = 0;     // guarded by mu_
  uint64_t records_refused_ = 0;   // guarded by mu_
  BatchRequestStats requests_;     // guarded by mu_
  std::string run_id_;             // guarded by mu_
  Status last_error_;              // guarded by mu_
  uint64_t reported_dropped_ = 0;  // sender thread only
  bool reported_stall_ = false;    // sender thread only: "dropping" said, "resumed" not yet
  std::once_flag forked_warning_;
  bool stopped_ = false;  // Stop() ran; guarded by stop_mu_
  std::mutex stop_mu_;
  Status stop_status_;
};

}  // namespace nereid::client
