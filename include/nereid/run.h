// Run: one experiment run, and Field: a handle on one of its paths.
//
// Logging never touches the network: every log call writes one record into the run's spool, a
// memory-mapped file on local disk, and returns. Once a log call has returned, its record survives
// kill -9 of the process (the kernel owns the mapped pages); it does not survive a power loss
// before the kernel wrote the pages back (the spool is not fsync'ed). A background thread reads
// the spool and uploads it in batches that the server applies exactly once. What is not yet
// acknowledged when the process ends stays in the spool until `nereid sync` uploads it.
//
// Thread-safety: every method of Run and Field may be called from any number of threads at once,
// except that a Run must not be moved or destroyed while another thread uses it. Field handles
// point into their Run and must not outlive it.
//
// Failure behaviour: log calls return nothing. An invalid call (bad path, wrong value type for a
// method) is reported through RunOptions::on_error and changes nothing. Problems of the upload
// (server away, rate limit) are retried for as long as the process lives; problems that retrying
// cannot fix are reported through on_error and the data stays in the spool.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nereid/file.h"
#include "nereid/options.h"
#include "nereid/status.h"

namespace nereid {

namespace client {
class RunImpl;
}

enum class RunState { kSucceeded, kFailed, kAborted };

// Counters of a run, for progress displays and tests. A "record" here is one log entry: a point,
// an assignment, a tag change; an Extend of n points counts n (though the spool stores them in a
// few multi-point records).
struct RunStats {
  uint64_t records_logged = 0;   // entries written to the spool by this process
  uint64_t records_dropped = 0;  // entries refused because the spool was at its disk cap
  uint64_t bytes_pending = 0;    // spool bytes written but not yet acknowledged (approximate)
  uint64_t batches_acked = 0;    // batches the server acknowledged
  // Records of this process's spool the server acknowledged. Records are sent in the order they
  // were logged, so the n-th record logged is acknowledged once records_acked >= n.
  uint64_t records_acked = 0;
  // Entries the server refused for their content (a write of another type than the field's, a
  // value it cannot take): each is reported through on_error, kept in
  // <spool_dir>/<run>/<writer id>.refused.jsonl and not sent again; every other record still
  // arrives. records_logged = records_acked + records_refused + what is still pending.
  uint64_t records_refused = 0;
  // Batch requests (POSTs of a batch) this run's sender made, and how many were answered 429
  // (the server's rate limit) or failed otherwise (no answer, 5xx, another refusal); each failed
  // batch is sent again later, so a request is counted per try.
  uint64_t batch_requests = 0;
  uint64_t batch_requests_rate_limited = 0;
  uint64_t batch_requests_failed = 0;
  // The server's ack latency as this process saw it: for every acknowledged batch request, the
  // time from sending it to reading the server's 200 (which means committed to disk). It excludes
  // the wait in the spool before the send (the flush period). ack_latency_counts[i] counts acks
  // that took at most kAckLatencyBoundsMs[i] ms and more than the bound before; the last bucket
  // counts the longer ones. ack_latency_max_us is the longest.
  static constexpr std::array<double, 23> kAckLatencyBoundsMs = {
      1,   2,   3,   5,   7,   10,   15,   20,   30,   50,   70,   100,
      150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000, 10000};
  std::array<uint64_t, kAckLatencyBoundsMs.size() + 1> ack_latency_counts{};
  uint64_t ack_latency_max_us = 0;
};

using TimePoint = std::chrono::system_clock::time_point;

// A path of a run. Cheap to copy (a pointer and the path); checking the path happens once, when
// the handle is made, so keep the handle in a loop: `auto loss = run["train/loss"];`.
class Field {
 public:
  // Assign a single value (params, configuration, results). The field's type is fixed by its
  // first write on the server; a later write of another type is refused there (type_conflict).
  Field& operator=(double value);
  Field& operator=(int value);
  Field& operator=(long value);
  Field& operator=(long long value);
  Field& operator=(bool value);
  Field& operator=(const char* value);
  Field& operator=(std::string_view value);
  Field& operator=(const std::string& value);
  Field& operator=(TimePoint value);
  Field& operator=(const File& file);  // uploads the file (see Upload)

  // Float series. Without a step the server numbers the point after the series' last step;
  // without a time the point is stamped with the time of the call.
  void Append(double value);
  void Append(double value, double step);
  void Append(double value, double step, TimePoint time);
  // Many points at the time of the call, far cheaper per point than Append: they are copied into
  // the spool as packed arrays (multi-point records of up to 16,379 points, each written whole or
  // not at all). Once the call returned, every point survives kill -9 like an Append. In
  // Mode::kSync, one wait for the whole call.
  void Extend(std::span<const double> values);
  // steps must be as long as values, or the call is refused.
  void Extend(std::span<const double> values, std::span<const double> steps);
  // With a time per point too (as long as values; empty: the time of the call).
  void Extend(std::span<const double> values, std::span<const double> steps,
              std::span<const TimePoint> times);

  // String series (each value at most 1 MiB of UTF-8).
  void Append(std::string_view value);
  void Append(const char* value) { Append(std::string_view(value)); }
  void Append(std::string_view value, double step);
  void Extend(std::span<const std::string> values);

  // File series (e.g. images per epoch). The content is copied into the spool first.
  void Append(const File& file);
  void Append(const File& file, double step);

  // String sets such as sys/tags.
  void Add(std::initializer_list<std::string_view> values);
  void Add(const std::vector<std::string>& values);
  void Remove(std::initializer_list<std::string_view> values);
  void Remove(const std::vector<std::string>& values);

  // Uploads a local file as this field's value. The file is copied into the spool before the
  // call returns (it may be large: the copy is the cost of never losing it).
  void Upload(const std::string& local_path);

  const std::string& path() const { return path_; }

 private:
  friend class Run;
  Field(client::RunImpl* run, std::string_view path);

  client::RunImpl* run_;
  std::string path_;
  bool valid_;  // the path passed validation; an invalid handle reports and drops every call
  bool sys_;    // the path is under sys/, where the server takes only some writes
};

class Run {
 public:
  // Creates the run's spool folder and, unless offline/debug, starts the background sender, which
  // creates or joins the run on the server. Does no network I/O itself, in any mode (a read-only
  // run with a wrong run_id finds out at its first Fetch). Fails when the spool folder cannot be
  // created or an option is invalid (read-only without run_id).
  static Result<Run> Create(RunOptions options);

  Run(Run&&) noexcept;
  Run& operator=(Run&&) noexcept;
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  // Calls Stop(kSucceeded) if Stop was not called: waits at most stop_timeout, never forever.
  ~Run();

  // A handle on `path`. An invalid path is reported through on_error and yields a handle that
  // drops every call.
  Field operator[](std::string_view path);

  // Blocks until everything logged before the call is acknowledged by the server, or the timeout
  // passes (then returns kUnavailable whose message says how many records and bytes are left).
  // Offline and debug runs return OK at once; so does a run whose sender stopped.
  Status Wait(std::chrono::milliseconds timeout);

  // Sets sys/state, flushes, waits up to stop_timeout, and stops the sender. What is left stays
  // in the spool; the returned status (and stderr) then names the `nereid sync` command that
  // uploads it. Calling it again returns OK and does nothing. Log calls after Stop are refused.
  Status Stop(RunState state = RunState::kSucceeded);
  // The same, waiting at most `timeout` instead of the run's stop_timeout (Neptune's
  // run.stop(seconds=...)).
  Status Stop(RunState state, std::chrono::milliseconds timeout);

  // The server's run id ("SAND-7"); empty until the sender created the run (or for offline runs).
  std::string id() const;
  const std::string& custom_run_id() const;
  // The folder that holds this process's spool for the run.
  const std::string& spool_path() const;
  RunStats stats() const;

  // Read-only helpers (any mode that has a server): the JSON of GET /runs/{id}/fields?prefix= and
  // of GET /runs/{id}/series?path=. Blocking network calls; safe from any thread.
  Result<std::string> FetchFieldsJson(std::string_view prefix = "") const;
  Result<std::string> FetchSeriesJson(std::string_view path) const;

 private:
  explicit Run(std::unique_ptr<client::RunImpl> impl);
  std::unique_ptr<client::RunImpl> impl_;
};

}  // namespace nereid
