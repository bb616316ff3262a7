// Uploader: moves one writer folder's spool to the server, one batch per Attempt().
//
// Used by the live sender thread of a Run and by `nereid sync` (recovered mode). Each Attempt
// creates the run if needed, then sends the pending batch from the ledger (unchanged, same
// sequence) or builds the next one from the acknowledged position, uploads the blobs it refers to,
// posts it, and on the ack records it in the ledger and deletes fully acknowledged segments.
// It never sleeps: it says how long the caller should wait before the next attempt (backoff with
// full jitter, Retry-After, rate-limit pacing), so the caller can stay interruptible.
//
// A batch the server refuses for its content (HTTP 400, 413, 409 type_conflict) is not resent
// as it is: the pending batch is replaced by its first half under the same sequence (the server
// applied nothing of it) and sent at once, and so on until the refused record is alone; that one
// record is kept in the refused-records file (refused_log.h), reported, counted and skipped (its
// sequence acknowledged in the ledger without being sent; the server allows the gap). The rest
// of the spool goes on arriving, exactly once and in order. Other refusals (401, 403, 404, 409
// failed_precondition) wait with the data kept: their cause is outside the spool.
//
// Thread-safety: one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "client/http.h"
#include "client/ledger.h"
#include "client/records.h"
#include "client/spool_reader.h"
#include "client/writer_dir.h"
#include "nereid/run.h"
#include "nereid/status.h"

namespace nereid::client {

class SpoolWriter;

struct UploaderConfig {
  std::string dir;  // the writer folder
  std::string url;  // overrides writer.json's url when not empty
  std::string token;
  bool live = true;  // reading a folder that this process is writing
  uint64_t max_batch_bytes = uint64_t{4} << 20;
  SpoolWriter* writer = nullptr;  // live mode: deletes segments through it (disk accounting)
  std::function<void(const Status&)> on_error;  // problems retrying cannot fix; rate limiting
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{30000};
};

// What batch requests cost and how they ended: the RunStats fields of the same names.
struct BatchRequestStats {
  uint64_t requests = 0;
  uint64_t rate_limited = 0;
  uint64_t failed = 0;
  std::array<uint64_t, RunStats::kAckLatencyBoundsMs.size() + 1> ack_latency_counts{};
  uint64_t ack_latency_max_us = 0;

  void AddAck(std::chrono::microseconds latency);
};

enum class AttemptResult {
  kSent,   // a batch was acknowledged; more may be ready at once
  kIdle,   // nothing to send now
  kRetry,  // a failure; wait delay() then try again
};

class Uploader {
 public:
  static Result<std::unique_ptr<Uploader>> Open(UploaderConfig config,
                                                const std::atomic<bool>* abort);

  // One batch, or, after a content refusal, the pieces of it sent at once until one is
  // acknowledged or its refused record is set aside (a logarithmic number of requests).
  AttemptResult Attempt();
  // After kRetry (and after kSent when rate-limit pacing asks for a pause): how long to wait.
  std::chrono::milliseconds delay() const { return delay_; }
  // The last failure, for messages ("HTTP 503", "connection refused").
  const Status& last_error() const { return last_error_; }

  Position acked_position() const { return ledger_.acked_position(); }
  uint64_t batches_acked() const { return batches_acked_; }
  uint64_t records_acked() const { return records_acked_; }
  const BatchRequestStats& request_stats() const { return request_stats_; }
  // Records skipped because their payload did not decode although their CRC matched (a writer
  // bug); each is reported through on_error as kDataLoss.
  uint64_t undecodable() const { return undecodable_; }
  // Entries (as records_acked counts them) the server refused for their content, kept in
  // RefusedPath(dir()) and not sent again; each is reported through on_error.
  uint64_t records_refused() const { return records_refused_; }
  const WriterInfo& info() const { return info_; }
  const std::string& dir() const { return config_.dir; }  // the writer folder
  // The last batch built from the spool stopped at the size budget (more was waiting then): the
  // caller sends again at once instead of waiting for its flush period.
  bool last_batch_full() const { return last_batch_full_; }
  // A batch is pending or the spool holds a record after the acknowledged position (reads at most
  // one record).
  bool HasWaitingData();
  // Counts the records and bytes not yet acknowledged (reads the spool; not cheap).
  void CountPending(uint64_t* records, uint64_t* bytes);

 private:
  Uploader(UploaderConfig config, Ledger ledger, WriterInfo info, const std::atomic<bool>* abort);
  AttemptResult AttemptOnce();
  // The pending batch `b` was refused for its content: halve it, or set its one record aside.
  // Sets again_ when it made progress.
  AttemptResult Isolate(const HttpResponse& r, const PendingBatch& b);
  Status EnsureRun();
  // Reads records from `from` into builder_ up to `to` (when set) or the size budget.
  Position Build(Position from, const Position* to);
  void ReportUndecodable(const Position& at, const SpoolRecord& rec);
  // Uploads the pending batch's files. A file the server refuses for itself (413: larger than its
  // upload limit) would be refused forever: its answer goes to *refused and the batch is then
  // isolated like one refused for its content, so only the record holding the file is set aside.
  Status UploadBlobs(HttpResponse* refused);
  AttemptResult Fail(const HttpResponse& r, const std::string& what);
  // The spool holds a record type this reader does not know: report it, send nothing more.
  AttemptResult RefuseNewer();
  void ReportPacing(std::chrono::milliseconds wait);
  void NotePacing(const HttpResponse& r);
  std::chrono::milliseconds Backoff();
  void DeleteAcked();

  UploaderConfig config_;
  Ledger ledger_;
  WriterInfo info_;
  HttpClient http_;
  SpoolReader reader_;
  BatchBuilder builder_;
  uint64_t cached_sequence_ = 0;  // the batch whose body is cached_body_
  std::string cached_body_;
  std::vector<std::string> cached_blobs_;
  uint64_t cached_records_ = 0;
  std::mt19937_64 rng_;
  std::chrono::milliseconds delay_{0};
  Status last_error_;
  std::string last_reported_;  // message last given to on_error, so a storm reports once
  int failures_ = 0;           // consecutive transient failures (backoff exponent)
  bool paced_ = false;         // the rate-limit budget is low: fewer, larger batches
  int64_t rate_limit_ = 0;     // requests per minute the server last announced (RateLimit-Limit)
  std::chrono::steady_clock::time_point next_send_{};
  uint64_t batches_acked_ = 0;
  uint64_t records_acked_ = 0;
  uint64_t undecodable_ = 0;
  uint64_t records_refused_ = 0;
  // The end of the last batch refused for its content, while the acknowledged position is before
  // it: new batches stop there, so that the search for the refused record stays a bisection of
  // that range instead of starting again from a full batch after every accepted half.
  std::optional<Position> suspect_end_;
  bool again_ = false;  // Attempt: a refused batch was split or skipped; send the next one now
  BatchRequestStats request_stats_;
  bool last_batch_full_ = false;
};

}  // namespace nereid::client
