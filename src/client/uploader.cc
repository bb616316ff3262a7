#include "client/uploader.h"

#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "client/refused_log.h"
#include "client/spool_writer.h"

namespace nereid::client {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// The server's {"error": {"code", "message"}} body, parsed once; a body that is not one (a proxy's
// HTML page, say) leaves code empty and keeps the start of the body as the message.
struct ServerError {
  std::string code;
  std::string message;
};

ServerError ParseServerError(const HttpResponse& r) {
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    return {e.value("code", ""), e.value("message", "")};
  }
  return {"", r.body.substr(0, 200)};
}

std::string Describe(const ServerError& e) {
  return e.code.empty() ? e.message : e.message + " (" + e.code + ")";
}

StatusCode CodeFor(long status) {
  switch (status) {
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kTypeConflict;
    case 413:
      return StatusCode::kPayloadTooLarge;
    case 429:
      return StatusCode::kRateLimited;
    case 507:
      return StatusCode::kInsufficientStorage;
    default:
      return status >= 500 || status == 0 ? StatusCode::kUnavailable : StatusCode::kInvalidArgument;
  }
}

// The code a refusal is reported with: by HTTP status, except that a 409 is a type conflict or,
// for a run in the trash, failed_precondition (the data waits for a restore).
StatusCode CodeOf(const HttpResponse& r, const ServerError& e) {
  if (r.status == 409 && e.code == "failed_precondition") {
    return StatusCode::kFailedPrecondition;
  }
  return CodeFor(r.status);
}

// A refusal of what the batch holds (a malformed or oversized value, a write of another type
// than the field's): the same batch would be refused forever, but the records around the
// refused one can be delivered. Not 409 failed_precondition (a run in the trash, restorable).
bool RefusesContent(const HttpResponse& r, const ServerError& e) {
  return r.status == 400 || r.status == 413 || (r.status == 409 && e.code == "type_conflict");
}

}  // namespace

void BatchRequestStats::AddAck(std::chrono::microseconds latency) {
  const auto& bounds = RunStats::kAckLatencyBoundsMs;
  const double ms = static_cast<double>(latency.count()) / 1000.0;
  size_t i = 0;
  while (i < bounds.size() && ms > bounds[i]) ++i;
  ++ack_latency_counts[i];
  ack_latency_max_us = std::max(ack_latency_max_us, static_cast<uint64_t>(latency.count()));
}

Uploader::Uploader(UploaderConfig config, Ledger ledger, WriterInfo info,
                   const std::atomic<bool>* abort)
    : config_(std::move(config)),
      ledger_(std::move(ledger)),
      info_(std::move(info)),
      http_(config_.url.empty() ? info_.url : config_.url, config_.token, abort),
      reader_(config_.dir, config_.live),
      rng_(std::random_device{}()) {}

Result<std::unique_ptr<Uploader>> Uploader::Open(UploaderConfig config,
                                                 const std::atomic<bool>* abort) {
  NEREID_ASSIGN_OR_RETURN(WriterInfo info, ReadWriterInfo(config.dir));
  NEREID_ASSIGN_OR_RETURN(Ledger ledger, Ledger::Open(config.dir));
  return std::unique_ptr<Uploader>(
      new Uploader(std::move(config), std::move(ledger), std::move(info), abort));
}

milliseconds Uploader::Backoff() {
  // Full jitter: uniform in [0, min(cap, base * 2^n)], so many clients that failed together do
  // not come back together.
  int n = std::min(failures_, 20);
  double ceiling = std::min<double>(static_cast<double>(config_.backoff_cap.count()),
                                    static_cast<double>(config_.backoff_base.count()) * (1 << n));
  ++failures_;
  std::uniform_real_distribution<double> d(0, ceiling);
  return milliseconds(static_cast<int64_t>(d(rng_)));
}

void Uploader::NotePacing(const HttpResponse& r) {
  if (r.rl_limit <= 0 || r.rl_remaining < 0) {
    paced_ = false;
    if (last_reported_ == "paced") last_reported_.clear();
    next_send_ = Clock::now();
    return;
  }
  // Below a fifth of the budget, spread what is left evenly over the time until the reset; the
  // spool keeps filling meanwhile, so each request carries more (up to 4x max_batch_bytes).
  rate_limit_ = r.rl_limit;
  paced_ = r.rl_remaining * 5 < r.rl_limit;
  if (!paced_) {
    if (last_reported_ == "paced") last_reported_.clear();
    next_send_ = Clock::now();
    return;
  }
  double reset = r.rl_reset_s > 0 ? r.rl_reset_s : 60.0;
  double interval_s = reset / static_cast<double>(r.rl_remaining + 1);
  next_send_ = Clock::now() + milliseconds(static_cast<int64_t>(interval_s * 1000));
}

bool Uploader::HasWaitingData() {
  if (ledger_.pending()) return true;
  Position pos = ledger_.acked_position();
  SpoolRecord rec;
  return reader_.Next(&pos, &rec);  // reads by position: Build starts from its own
}

void Uploader::ReportPacing(milliseconds wait) {
  // A client pacing itself on RateLimit-* is never refused, so without this note a user whose
  // upload falls behind the training (a backlog waiting in the spool) would see no reason for it.
  // Said once per paced spell (and not over a refusal's note), only when the wait is noticeable.
  if (!paced_ || last_reported_ == "paced" || last_reported_ == "429") return;
  if (wait < milliseconds(500)) return;
  last_reported_ = "paced";
  if (config_.on_error) {
    config_.on_error(Status(StatusCode::kRateLimited,
                            "the server's rate limit (" + std::to_string(rate_limit_) +
                                " requests per minute) is pacing upload: one request every " +
                                std::to_string(wait.count() / 1000.0).substr(0, 4) +
                                " s, each carrying more; nothing is lost, the data waits in " +
                                config_.dir));
  }
}

AttemptResult Uploader::Fail(const HttpResponse& r, const std::string& what) {
  std::string message;
  ServerError error;
  if (r.status == 0) {
    message = what + ": cannot reach " + http_.base_url() + ": " + r.error;
  } else {
    error = ParseServerError(r);
    message = what + ": HTTP " + std::to_string(r.status) + ": " + Describe(error);
  }
  const StatusCode code = CodeOf(r, error);
  last_error_ = Status(code, message);
  bool transient = r.status == 0 || r.status >= 500 || r.status == 408;
  if (r.status == 429) {
    double wait = std::max(r.retry_after_s, 0.0);
    std::uniform_real_distribution<double> jitter(0, 0.1);
    if (wait <= 0) {
      delay_ = Backoff();
    } else {
      delay_ = milliseconds(static_cast<int64_t>(wait * (1 + jitter(rng_)) * 1000));
    }
    std::string note = "the server's rate limit is delaying upload (retrying in " +
                       std::to_string(delay_.count() / 1000.0).substr(0, 4) +
                       " s); nothing is lost, the data waits in " + config_.dir;
    if (last_reported_ != "429") {
      last_reported_ = "429";
      if (config_.on_error) config_.on_error(Status(StatusCode::kRateLimited, note));
    }
    return AttemptResult::kRetry;
  }
  if (transient) {
    delay_ = Backoff();
    return AttemptResult::kRetry;
  }
  // Retrying cannot fix this; say so once, keep the data, and look again at the backoff cap in
  // case the cause is fixed (a token restored, a project created).
  delay_ = config_.backoff_cap;
  if (last_reported_ != message) {
    last_reported_ = message;
    if (config_.on_error) {
      config_.on_error(Status(code, message + ". The data stays in " + config_.dir +
                                        "; after fixing the cause, `nereid sync` uploads it."));
    }
  }
  return AttemptResult::kRetry;
}

AttemptResult Uploader::RefuseNewer() {
  builder_.Take();
  last_error_ = FailedPrecondition(
      "the spool " + config_.dir + " holds records of type " +
      std::to_string(reader_.newer_type()) +
      ", written by a newer version of nereid; the records before them are uploaded, these wait: "
      "upload them with `nereid sync` of that version. Nothing is deleted");
  if (last_reported_ != last_error_.message()) {
    last_reported_ = last_error_.message();
    if (config_.on_error) config_.on_error(last_error_);
  }
  delay_ = config_.backoff_cap;
  return AttemptResult::kRetry;
}

Status Uploader::EnsureRun() {
  if (!info_.run_id.empty()) return Status::Ok();
  size_t slash = info_.project.find('/');
  if (slash == std::string::npos) {
    return InvalidArgument("project '" + info_.project + "' is not workspace/project");
  }
  nlohmann::json body = {{"custom_run_id", info_.custom_run_id}};
  if (!info_.name.empty()) body["name"] = info_.name;
  if (!info_.description.empty()) body["description"] = info_.description;
  if (!info_.tags.empty()) body["tags"] = info_.tags;
  std::string path = "/api/v1/projects/" + UrlEscape(info_.project.substr(0, slash)) + "/" +
                     UrlEscape(info_.project.substr(slash + 1)) + "/runs";
  HttpResponse r = http_.Post(path, "application/json", body.dump(), false);
  if (r.status != 200 && r.status != 201) {
    Fail(r, "creating the run");
    return last_error_;
  }
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("id")) {
    return Internal("the server answered run creation without an id");
  }
  info_.run_id = j["id"].get<std::string>();
  return WriteWriterInfo(config_.dir, info_);
}

Position Uploader::Build(Position from, const Position* to) {
  uint64_t budget = paced_ ? 4 * config_.max_batch_bytes : config_.max_batch_bytes;
  Position pos = from;
  SpoolRecord rec;
  // A pending batch rebuilt after a restart may have been cut by the budget: look again at once.
  last_batch_full_ = to != nullptr;
  for (;;) {
    if (to != nullptr && !(pos < *to)) break;
    if (to == nullptr && builder_.raw_bytes() >= budget) {
      last_batch_full_ = true;
      break;
    }
    Position before = pos;
    if (!reader_.Next(&pos, &rec)) break;
    if (to != nullptr && *to < pos) {  // cannot happen with an honest ledger
      pos = before;
      break;
    }
    if (!builder_.Add(rec)) ReportUndecodable(before, rec);
  }
  return pos;
}

void Uploader::ReportUndecodable(const Position& at, const SpoolRecord& rec) {
  // A record whose checksum matched but whose payload does not decode can only come from a faulty
  // writer: nothing can send it, but skipping it silently would break the rule that every loss
  // is counted and said.
  ++undecodable_;
  if (config_.on_error) {
    config_.on_error(DataLoss(
        "a spool record of type " + std::to_string(static_cast<int>(rec.type)) + " (" +
        std::to_string(rec.payload.size()) + " bytes) in segment " + std::to_string(at.segment) +
        " of " + config_.dir + " passed its checksum but does not decode; it is skipped (" +
        std::to_string(undecodable_) + " so far). Please report this as a bug in nereid"));
  }
}

Status Uploader::UploadBlobs(HttpResponse* refused) {
  for (const std::string& sha : cached_blobs_) {
    HttpResponse r = http_.PostFile("/api/v1/files", config_.dir + "/blobs/" + sha);
    if (r.status != 200 && r.status != 201) {
      if (r.status == 0 && r.error.rfind("cannot open", 0) == 0) {
        return DataLoss(r.error);  // the blob vanished: nothing to retry
      }
      if (r.status == 413) {
        ++request_stats_.failed;
        *refused = std::move(r);
        return PayloadTooLarge("the server refuses a file");
      }
      Fail(r, "uploading a file");
      return last_error_;
    }
  }
  return Status::Ok();
}

void Uploader::DeleteAcked() {
  uint32_t below = ledger_.acked_position().segment;
  if (config_.writer != nullptr) {
    config_.writer->DeleteBelow(below);
    return;
  }
  for (uint32_t n : ListSegments(config_.dir)) {
    if (n < below) unlink(SegmentPath(config_.dir, n).c_str());
  }
}

AttemptResult Uploader::Attempt() {
  AttemptResult r;
  do {
    again_ = false;
    r = AttemptOnce();
  } while (again_);  // each round shrinks the pending range or moves the acked position on
  return r;
}

AttemptResult Uploader::AttemptOnce() {
  auto now = Clock::now();
  if (now < next_send_) {
    delay_ = std::chrono::duration_cast<milliseconds>(next_send_ - now) + milliseconds(1);
    if (HasWaitingData()) ReportPacing(delay_);
    return AttemptResult::kRetry;
  }
  if (Status s = EnsureRun(); !s.ok()) {
    last_error_ = s;
    if (s.code() != StatusCode::kUnavailable && s.code() != StatusCode::kRateLimited) {
      if (delay_ < milliseconds(1)) delay_ = config_.backoff_cap;
    }
    return AttemptResult::kRetry;
  }
  if (!ledger_.pending()) {
    Position from = ledger_.acked_position();
    if (suspect_end_ && !(from < *suspect_end_)) suspect_end_.reset();
    Position limit = suspect_end_.value_or(Position{});
    Position to = Build(from, suspect_end_ ? &limit : nullptr);
    if (builder_.empty()) {
      builder_.Take();
      return reader_.newer_type() != 0 ? RefuseNewer() : AttemptResult::kIdle;
    }
    PendingBatch b{ledger_.acked_sequence() + 1, from, to};
    if (Status s = ledger_.BeginBatch(b); !s.ok()) {
      builder_.Take();
      last_error_ = s;
      delay_ = Backoff();
      return AttemptResult::kRetry;
    }
    cached_sequence_ = 0;
  } else if (cached_sequence_ != ledger_.pending()->sequence) {
    Position to = ledger_.pending()->to;
    Build(ledger_.pending()->from, &to);
    // Sending part of the range under its sequence would acknowledge the rest unsent.
    if (reader_.newer_type() != 0) return RefuseNewer();
  }
  const PendingBatch b = *ledger_.pending();
  if (cached_sequence_ != b.sequence) {
    cached_records_ = builder_.records();
    cached_blobs_ = builder_.blobs();
    v1::Batch batch = builder_.Take();
    batch.set_writer_id(info_.writer_id);
    batch.set_sequence(b.sequence);
    std::string raw = batch.SerializeAsString();
    cached_body_.resize(ZSTD_compressBound(raw.size()));
    size_t n = ZSTD_compress(cached_body_.data(), cached_body_.size(), raw.data(), raw.size(), 1);
    if (ZSTD_isError(n)) {
      cached_body_ = std::move(raw);  // cannot happen; send it uncompressed then
    } else {
      cached_body_.resize(n);
    }
    cached_sequence_ = b.sequence;
  }
  HttpResponse refused_file;
  if (Status s = UploadBlobs(&refused_file); !s.ok()) {
    if (refused_file.status == 413) return Isolate(refused_file, b);
    if (s.code() == StatusCode::kDataLoss && config_.on_error) config_.on_error(s);
    return AttemptResult::kRetry;
  }
  const auto sent = Clock::now();
  HttpResponse r = http_.Post("/api/v1/runs/" + UrlEscape(info_.run_id) + "/batches",
                              "application/x-protobuf", cached_body_, true);
  ++request_stats_.requests;
  if (r.status != 200) {
    ++(r.status == 429 ? request_stats_.rate_limited : request_stats_.failed);
    NotePacing(r);
    if (RefusesContent(r, ParseServerError(r))) return Isolate(r, b);
    return Fail(r, "sending batch " + std::to_string(b.sequence));
  }
  request_stats_.AddAck(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent));
  NotePacing(r);
  failures_ = 0;
  if (last_reported_ == "429") last_reported_.clear();
  if (Status s = ledger_.AckBatch(b.sequence); !s.ok()) {
    last_error_ = s;
    if (config_.on_error) config_.on_error(s);
  }
  ++batches_acked_;
  records_acked_ += cached_records_;
  cached_sequence_ = 0;
  cached_body_.clear();
  cached_body_.shrink_to_fit();
  DeleteAcked();
  delay_ = milliseconds(0);
  return AttemptResult::kSent;
}

AttemptResult Uploader::Isolate(const HttpResponse& r, const PendingBatch& b) {
  const std::string what = "sending batch " + std::to_string(b.sequence);
  // Where each record of the batch ends (the reader skips torn bytes in recovered mode, so the
  // ranges are the reader's, as when the batch was built).
  std::vector<Position> ends;
  Position pos = b.from;
  SpoolRecord rec;
  while (pos < b.to && reader_.Next(&pos, &rec) && !(b.to < pos)) ends.push_back(pos);
  if (ends.empty()) return Fail(r, what);  // nothing to split: cannot happen with an honest ledger
  if (ends.size() > 1) {
    // The server applied nothing of the batch, so its sequence is free to carry the first half.
    // The ledger's last B line of a sequence is the one a resumed folder resends.
    PendingBatch half{b.sequence, b.from, ends[ends.size() / 2 - 1]};
    if (Status s = ledger_.BeginBatch(half); !s.ok()) {
      last_error_ = s;
      delay_ = Backoff();
      return AttemptResult::kRetry;
    }
    if (!suspect_end_ || b.to < *suspect_end_) suspect_end_ = b.to;
    cached_sequence_ = 0;
    again_ = true;
    return AttemptResult::kRetry;
  }
  // The batch is one record: keep it beside the folder, then skip it.
  const ServerError error = ParseServerError(r);
  Position start = b.from;
  if (!reader_.Next(&start, &rec)) return Fail(r, what);
  Position at = start;
  at.offset -= RecordSpan(rec.payload.size());
  RefusedRecord why{at, b.sequence, r.status, error.code, error.message, {}};
  // The batch is this record alone, so its files are the record's.
  Status kept = KeepRefusedFiles(config_.dir, cached_blobs_, &why.kept_files);
  if (Status s = kept.ok() ? AppendRefused(config_.dir, rec, why) : kept; !s.ok()) {
    // Skipping it unkept would lose it: wait, with the data in the spool, as for any refusal.
    AttemptResult result = Fail(r, what);
    if (config_.on_error) {
      config_.on_error(Status(s.code(), "cannot set aside the record the server refused (" +
                                            s.message() + "); it stays in the spool"));
    }
    return result;
  }
  const std::string described = DescribeRecord(rec);
  const uint64_t entries = RecordEntries(rec);
  // A crash between the line above and this ack lists the record twice in the file, never zero
  // times.
  if (Status s = ledger_.AckBatch(b.sequence); !s.ok()) {
    last_error_ = s;
    if (config_.on_error) config_.on_error(s);
    delay_ = Backoff();
    return AttemptResult::kRetry;
  }
  records_refused_ += entries;
  cached_sequence_ = 0;
  cached_body_.clear();
  DeleteAcked();
  if (config_.on_error) {
    config_.on_error(Status(
        CodeOf(r, error),
        "the server refused " + described + " (HTTP " + std::to_string(r.status) + ": " +
            Describe(error) + "); it is not sent again and is kept in " + RefusedPath(config_.dir) +
            (why.kept_files.empty() ? std::string()
                                    : ", its file in " + RefusedFilesDir(config_.dir)) +
            "; the rest of the run is uploaded (" + std::to_string(records_refused_) +
            " entries refused so far)"));
  }
  again_ = true;
  return AttemptResult::kRetry;
}

void Uploader::CountPending(uint64_t* records, uint64_t* bytes) {
  SpoolReader r(config_.dir, config_.live);
  Position pos = ledger_.acked_position();
  SpoolRecord rec;
  *records = 0;
  *bytes = 0;
  while (r.Next(&pos, &rec)) {
    *records += RecordEntries(rec);
    *bytes += RecordSpan(rec.payload.size());
  }
}

}  // namespace nereid::client
