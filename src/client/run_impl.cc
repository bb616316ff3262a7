#include "client/run_impl.h"

#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <set>

#include "client/send_period.h"

namespace nereid::client {
namespace {

namespace fs = std::filesystem;

// Every live RunImpl of this process, so the fork handler can disarm them in the child.
std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::set<RunImpl*>& Registry() {
  static std::set<RunImpl*> runs;
  return runs;
}

void ForkPrepare() {
  RegistryMutex().lock();
}
void ForkParent() {
  RegistryMutex().unlock();
}
void ForkChild() {
  for (RunImpl* r : Registry()) r->MarkForked();
  RegistryMutex().unlock();
}

void Register(RunImpl* r) {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(ForkPrepare, ForkParent, ForkChild); });
  std::lock_guard lock(RegistryMutex());
  Registry().insert(r);
}

void Unregister(RunImpl* r) {
  std::lock_guard lock(RegistryMutex());
  Registry().erase(r);
}

std::string RandomCustomId() {
  return "nrd-" + NewWriterId().substr(0, 20);
}

std::string StateName(RunState s) {
  switch (s) {
    case RunState::kSucceeded:
      return "succeeded";
    case RunState::kFailed:
      return "failed";
    case RunState::kAborted:
      return "aborted";
  }
  return "succeeded";
}

}  // namespace

Result<std::unique_ptr<RunImpl>> RunImpl::Create(RunOptions options) {
  std::unique_ptr<RunImpl> r(new RunImpl());
  r->options_ = ResolveOptions(std::move(options));
  const RunOptions& o = r->options_;
  r->mode_ = *o.mode;
  r->owner_pid_ = getpid();
  if (o.project.find('/') == std::string::npos) {
    return InvalidArgument("project '" + o.project + "' must be workspace/project");
  }
  if (o.flush_period.count() <= 0) return InvalidArgument("flush_period must be positive");
  WriterInfo& info = r->info_;
  info.url = o.url;
  info.project = o.project;
  info.run_id = o.run_id;
  info.custom_run_id = o.custom_run_id;
  if (info.custom_run_id.empty() && info.run_id.empty()) info.custom_run_id = RandomCustomId();
  info.writer_id = NewWriterId();
  info.name = o.name;
  info.description = o.description;
  info.tags = o.tags;
  info.mode = std::string(ModeName(r->mode_));
  info.pid = r->owner_pid_;
  r->run_id_ = info.run_id;

  if (r->mode_ == Mode::kDebug || r->mode_ == Mode::kReadOnly) {
    if (r->mode_ == Mode::kReadOnly && info.run_id.empty()) {
      return InvalidArgument("read-only mode needs the run_id of an existing run");
    }
    r->state_.store(r->mode_ == Mode::kDebug ? kDropAll : kRefuse);
    return r;
  }

  std::string run_dir =
      o.spool_dir + "/" +
      EscapeDirName(info.custom_run_id.empty() ? info.run_id : info.custom_run_id);
  r->dir_ = run_dir + "/" + info.writer_id;
  std::error_code ec;
  fs::create_directories(r->dir_ + "/blobs", ec);
  if (ec) return Internal("cannot create the spool folder " + r->dir_ + ": " + ec.message());
  NEREID_ASSIGN_OR_RETURN(r->lock_fd_, LockWriterDir(r->dir_));
  NEREID_RETURN_IF_ERROR(WriteWriterInfo(r->dir_, info));
  NEREID_ASSIGN_OR_RETURN(r->writer_,
                          SpoolWriter::Open(r->dir_, o.segment_bytes, o.disk_cap_bytes));
  Register(r.get());
  if (r->mode_ == Mode::kOffline) return r;

  UploaderConfig uc;
  uc.dir = r->dir_;
  uc.url = o.url;
  uc.token = o.api_token;
  uc.live = true;
  uc.max_batch_bytes = o.max_batch_bytes;
  uc.writer = r->writer_.get();
  RunImpl* self = r.get();
  uc.on_error = [self](const Status& s) { self->Report(s); };
  NEREID_ASSIGN_OR_RETURN(r->uploader_, Uploader::Open(std::move(uc), &r->abort_));
  r->sender_ = std::thread([self] { self->SenderLoop(); });
  return r;
}

RunImpl::~RunImpl() {
  Unregister(this);
  if (getpid() != owner_pid_) {
    // A forked child: the sender thread and the spool belong to the parent. Leak the handles
    // rather than join a thread that does not exist here or close the parent's connection.
    if (sender_.joinable()) new std::thread(std::move(sender_));
    (void)uploader_.release();
    (void)writer_.release();
    return;
  }
  (void)Stop(RunState::kSucceeded, std::nullopt);
  if (lock_fd_ >= 0) close(lock_fd_);
}

void RunImpl::CheckSpool() {
  // Also while the sender backs off from a failing server: a disk that was full may have room
  // again long before the next upload attempt.
  writer_->MaybeResume();
  uint64_t dropped = writer_->dropped();
  if (dropped != reported_dropped_) {
    reported_dropped_ = dropped;
    reported_stall_ = true;
    Report(InsufficientStorage(std::to_string(dropped) + " entries dropped so far: " +
                               writer_->stall_reason() + " (spool " + dir_ + ")"));
  }
  if (reported_stall_ && !writer_->stalled()) {
    reported_stall_ = false;
    Report(InsufficientStorage("the spool " + dir_ + " has room again: logging resumed after " +
                               std::to_string(dropped) + " entries were lost"));
  }
}

void RunImpl::Report(const Status& status) {
  if (options_.on_error) {
    options_.on_error(status);
  } else {
    std::fprintf(stderr, "nereid: %s\n", status.message().c_str());
  }
}

bool RunImpl::Refuse() {
  switch (state_.load(std::memory_order_relaxed)) {
    case kAccepting:
      return false;
    case kForked:
      std::call_once(forked_warning_, [this] {
        Report(Status(StatusCode::kCancelled,
                      "log call in a forked child process ignored: the run belongs to the "
                      "parent. Create a Run in the child (the same custom_run_id joins the run)"));
      });
      return true;
    case kStopped:
      Report(Status(StatusCode::kCancelled, "log call after Stop() ignored"));
      return true;
    case kRefuse:
      Report(Status(StatusCode::kPermissionDenied, "log call on a read-only run ignored"));
      return true;
    default:
      return true;  // debug mode: nothing is stored
  }
}

void RunImpl::AfterLog() {
  if (mode_ != Mode::kSync) return;
  Status s = Wait(options_.stop_timeout);
  if (!s.ok()) Report(s);
}

void RunImpl::LogFloat(std::string_view path, double value, double step, bool has_step,
                       int64_t time_us) {
  if (state_.load(std::memory_order_relaxed) != kAccepting && Refuse()) return;
  writer_->AppendFloat(path, value, step, has_step, time_us);
  KickIfIdle();
  if (mode_ == Mode::kSync) AfterLog();
}

void RunImpl::LogFloats(std::string_view path, const double* values, const double* steps,
                        const int64_t* times, size_t n, int64_t time_us) {
  if (n == 0) return;
  if (state_.load(std::memory_order_relaxed) != kAccepting && Refuse()) return;
  writer_->AppendFloats(path, values, steps, times, n, time_us);
  KickIfIdle();
  if (mode_ == Mode::kSync) AfterLog();
}

void RunImpl::LogRecord(RecordType type, uint8_t flags, std::string&& payload) {
  if (state_.load(std::memory_order_relaxed) != kAccepting && Refuse()) return;
  if (payload.size() > kMaxPayloadBytes) {
    Report(PayloadTooLarge("value of " + std::to_string(payload.size()) +
                           " bytes is over the 4 MiB record limit; not logged"));
    return;
  }
  writer_->Append(type, flags, payload);
  KickIfIdle();
  AfterLog();
}

void RunImpl::Kick() {
  if (!sender_idle_.exchange(false)) return;  // another log call was first
  {
    std::lock_guard lk(mu_);
    kicked_ = true;
  }
  wake_.notify_all();
}

// When to send (docs/client.md, "Sending"): while records keep coming, one batch per flush period
// (at once after a batch that reached max_batch_bytes), so a busy run makes at most one request
// per period (give or take a tenth, so that runs started together drift apart: send_period.h);
// a record logged into an idle run (the last look found nothing, the last send is a flush period
// old) goes after a short linger that gathers the records logged with it, instead of waiting for
// the next periodic look.
void RunImpl::SenderLoop() {
  using Clock = std::chrono::steady_clock;
  constexpr std::chrono::milliseconds kIdleLinger{5};
  const auto linger = std::min<std::chrono::milliseconds>(kIdleLinger, options_.flush_period);
  std::unique_lock lk(mu_);
  auto next = Clock::now();  // at once: creates the run and sends what Create logged
  Clock::time_point last_send{};
  bool backing_off = false;
  std::minstd_rand rng(std::random_device{}());
  while (!stopping_) {
    // Wake at least every second, even while backing off for 30 s, to unmap sealed segments:
    // the mapped (resident) spool must not grow with the length of an outage.
    auto housekeeping = Clock::now() + std::chrono::seconds(1);
    wake_.wait_until(lk, std::min(next, housekeeping),
                     [&] { return stopping_ || (!backing_off && (flush_requested_ || kicked_)); });
    if (stopping_) break;
    if (kicked_ && !backing_off) {
      kicked_ = false;
      next = std::min(next, std::max(Clock::now() + linger, last_send + options_.flush_period));
    }
    bool due = flush_requested_ && !backing_off;
    due = due || Clock::now() >= next;
    lk.unlock();
    writer_->ReleaseSealed();
    CheckSpool();
    if (!due) {
      lk.lock();
      continue;
    }
    lk.lock();
    flush_requested_ = false;
    kicked_ = false;
    lk.unlock();
    sender_idle_.store(false, std::memory_order_relaxed);
    const auto attempted = Clock::now();
    AttemptResult r = uploader_->Attempt();
    bool arrived = false;
    if (r == AttemptResult::kIdle) {
      sender_idle_.store(true);
      // A record published between the attempt's look and the flag is seen here; a later one's
      // log call sees the flag. (Its relaxed load may still miss the flag in that instant: the
      // record then waits for the periodic look, as every record did before.)
      arrived = uploader_->HasWaitingData() && sender_idle_.exchange(false);
    }
    CheckSpool();
    lk.lock();
    acked_pos_ = uploader_->acked_position();
    batches_acked_ = uploader_->batches_acked();
    records_acked_ = uploader_->records_acked();
    records_refused_ = uploader_->records_refused();
    requests_ = uploader_->request_stats();
    run_id_ = uploader_->info().run_id;
    if (r == AttemptResult::kRetry) last_error_ = uploader_->last_error();
    acked_.notify_all();
    auto now = Clock::now();
    backing_off = r == AttemptResult::kRetry;
    if (r == AttemptResult::kSent) {
      last_send = attempted;
      next = uploader_->last_batch_full() ? now
                                          : attempted + JitteredPeriod(options_.flush_period, rng);
    } else if (r == AttemptResult::kIdle) {
      // Log calls wake the sender now; this periodic look is a backstop.
      next = now + options_.flush_period;
      if (arrived) next = std::max(now + linger, last_send + options_.flush_period);
    } else {
      next = now + uploader_->delay();
    }
  }
  sender_done_ = true;
  acked_.notify_all();
}

Status RunImpl::Wait(std::chrono::milliseconds timeout) {
  if (!uploader_) return Status::Ok();
  Position target = writer_->Frontier();
  std::unique_lock lk(mu_);
  flush_requested_ = true;
  wake_.notify_all();
  acked_.wait_for(lk, timeout, [&] { return !(acked_pos_ < target) || sender_done_; });
  if (!(acked_pos_ < target)) return Status::Ok();
  Position from = acked_pos_;
  Status last = last_error_;
  lk.unlock();
  SpoolReader reader(dir_, true);
  uint64_t records = 0, bytes = 0;
  SpoolRecord rec;
  while (from < target && reader.Next(&from, &rec)) {
    records += RecordEntries(rec);
    bytes += RecordSpan(rec.payload.size());
  }
  std::string msg = std::to_string(records) + " entries (" + std::to_string(bytes) +
                    " bytes) not yet acknowledged by the server after " +
                    std::to_string(timeout.count() / 1000.0).substr(0, 5) + " s";
  if (!last.ok()) msg += "; last problem: " + last.message();
  return Unavailable(msg);
}

void RunImpl::StopSender() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  abort_.store(true);
  wake_.notify_all();
  if (sender_.joinable()) sender_.join();
}

std::string RunImpl::SyncHint() const {
  return "nereid sync " + dir_;
}

Status RunImpl::Stop(RunState state, std::optional<std::chrono::milliseconds> timeout) {
  std::lock_guard stop_lock(stop_mu_);
  if (stopped_) return stop_status_;
  stopped_ = true;
  if (!writer_) return Status::Ok();  // debug and read-only runs have nothing to flush
  if (state_.load() == kAccepting) {
    std::string name = StateName(state);
    writer_->Append(RecordType::kAssign, 0, EncodeAssignString("sys/state", name));
    if (state == RunState::kFailed) {
      int64_t yes = 1;
      writer_->Append(RecordType::kAssign, 0,
                      EncodeAssignNumber("sys/failed", ValueKind::kBool, &yes));
    }
  }
  state_.store(kStopped);
  // No log call is accepted now: the spare segment is not needed, and it must not appear in the
  // folder while the folder is removed below.
  writer_->StopPreparing();
  if (!uploader_) {  // offline
    std::fprintf(stderr, "nereid: offline run stored in %s; upload it with: %s\n", dir_.c_str(),
                 SyncHint().c_str());
    flock(lock_fd_, LOCK_UN);
    return stop_status_;
  }
  Status waited = Wait(timeout.value_or(options_.stop_timeout));
  StopSender();
  if (waited.ok()) {
    // Everything is on the server: the writer folder has nothing left worth keeping.
    std::error_code ec;
    fs::remove_all(dir_, ec);
    fs::remove(fs::path(dir_).parent_path(), ec);  // only if empty (other writers may remain)
  } else {
    stop_status_ = Unavailable(waited.message() + ". They are safe in " + dir_ +
                               "; upload them with: " + SyncHint());
    std::fprintf(stderr, "nereid: %s\n", stop_status_.message().c_str());
  }
  flock(lock_fd_, LOCK_UN);
  return stop_status_;
}

std::string RunImpl::id() const {
  std::lock_guard lk(mu_);
  return run_id_;
}

RunStats RunImpl::stats() const {
  RunStats s;
  if (!writer_) return s;
  s.records_dropped = writer_->dropped();
  s.records_logged = writer_->written();
  Position f = writer_->Frontier();
  std::lock_guard lk(mu_);
  s.batches_acked = batches_acked_;
  s.records_acked = records_acked_;
  s.records_refused = records_refused_;
  s.batch_requests = requests_.requests;
  s.batch_requests_rate_limited = requests_.rate_limited;
  s.batch_requests_failed = requests_.failed;
  s.ack_latency_counts = requests_.ack_latency_counts;
  s.ack_latency_max_us = requests_.ack_latency_max_us;
  Position a = uploader_ ? acked_pos_ : Position{};
  if (a < f) {
    s.bytes_pending = (f.segment - a.segment) * writer_->segment_bytes() + f.offset - a.offset;
  }
  return s;
}

Result<std::string> RunImpl::Fetch(const std::string& path_and_query) const {
  std::string id = this->id();
  if (id.empty()) return NotFound("the run has no server id yet");
  HttpClient http(options_.url, options_.api_token, nullptr);
  HttpResponse r = http.Get("/api/v1/runs/" + UrlEscape(id) + path_and_query);
  if (r.status == 0) return Unavailable("cannot reach " + options_.url + ": " + r.error);
  if (r.status != 200)
    return Status(StatusCode::kNotFound,
                  "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300));
  return r.body;
}

}  // namespace nereid::client
