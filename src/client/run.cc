// The public Run and Field: thin glue that validates, encodes and hands records to RunImpl.
#include "nereid/run.h"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "client/run_impl.h"
#include "common/field_rules.h"
#include "common/path.h"
#include "nereid/git.h"

namespace nereid {

using client::EncodeAssignNumber;
using client::EncodeAssignString;
using client::RecordType;
using client::ValueKind;
using common::SysWrite;

namespace {

inline int64_t NowMicros() {
  timespec ts;
  // The coarse clock (a jiffy, 1-4 ms) costs a memory read; the precise one took ~40% of a log
  // call on our VMs (docs/performance.md).
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

int64_t Micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// What the server would refuse (common/field_rules.h) is refused here, at the call, and reported:
// sent, it would make the server refuse its whole batch, and every later record of the run would
// wait in the spool behind it. Each returns true when the write may go ahead.
bool Accepted(client::RunImpl* run, const Status& s) {
  if (s.ok()) return true;
  run->Report(s.WithContext("log call ignored: "));
  return false;
}
bool SysAccepts(client::RunImpl* run, bool sys, const std::string& path, SysWrite kind,
                std::string_view value = {}) {
  return !sys || Accepted(run, common::CheckSysWrite(path, kind, value));
}
bool StringAccepted(client::RunImpl* run, const std::string& path, std::string_view s) {
  if (s.size() <= common::kMaxStringBytes && common::IsValidUtf8(s)) return true;
  return Accepted(run, common::CheckString("a string for '" + path + "'", s));
}
bool FileNameAccepted(client::RunImpl* run, const std::string& path, const File& file) {
  return Accepted(run, common::CheckFileName(file.name()).WithContext("'" + path + "': "));
}

// A point with a NaN or infinite step is refused here, at the call: the server refuses the whole
// batch that holds it, which would keep every later record of the run in the spool.
bool StepIsFinite(client::RunImpl* run, const std::string& path, double step) {
  if (std::isfinite(step)) return true;
  run->Report(InvalidArgument("step of " + path + " must be finite; point not logged"));
  return false;
}

}  // namespace

// ---- Run ----

Run::Run(std::unique_ptr<client::RunImpl> impl) : impl_(std::move(impl)) {}
Run::Run(Run&&) noexcept = default;
Run& Run::operator=(Run&&) noexcept = default;
Run::~Run() = default;

Result<Run> Run::Create(RunOptions options) {
  const RunOptions resolved = ResolveOptions(options);
  NEREID_ASSIGN_OR_RETURN(auto impl, client::RunImpl::Create(std::move(options)));
  Run run(std::move(impl));
  const Mode mode = resolved.mode.value_or(Mode::kAsync);
  if (resolved.capture_git && mode != Mode::kReadOnly && mode != Mode::kDebug) {
    GitCaptureOptions git;
    git.ignore_dirs = {resolved.spool_dir};
    const std::string where = resolved.git_path.empty() ? "." : resolved.git_path;
    // Not in a repository, or libgit2 failed: the run simply has no source_code/git.
    if (Result<GitInfo> info = ReadGitInfo(where, git); info.ok()) RecordGitInfo(run, *info);
  }
  return run;
}

Field Run::operator[](std::string_view path) {
  return Field(impl_.get(), path);
}
Status Run::Wait(std::chrono::milliseconds timeout) {
  return impl_->Wait(timeout);
}
Status Run::Stop(RunState state) {
  return impl_->Stop(state, std::nullopt);
}
Status Run::Stop(RunState state, std::chrono::milliseconds timeout) {
  return impl_->Stop(state, timeout);
}
std::string Run::id() const {
  return impl_->id();
}
const std::string& Run::custom_run_id() const {
  return impl_->custom_run_id();
}
const std::string& Run::spool_path() const {
  return impl_->spool_path();
}
RunStats Run::stats() const {
  return impl_->stats();
}

Result<std::string> Run::FetchFieldsJson(std::string_view prefix) const {
  std::string q = "/fields";
  if (!prefix.empty()) q += "?prefix=" + client::UrlEscape(std::string(prefix));
  return impl_->Fetch(q);
}

Result<std::string> Run::FetchSeriesJson(std::string_view path) const {
  return impl_->Fetch("/series?path=" + client::UrlEscape(std::string(path)) + "&limit=100000");
}

// ---- Field ----

Field::Field(client::RunImpl* run, std::string_view path)
    : run_(run), path_(path), sys_(path == "sys" || path.starts_with("sys/")) {
  Status s = common::ValidatePath(path);
  valid_ = s.ok();
  if (!valid_) run_->Report(s.WithContext("log call ignored: "));
}

Field& Field::operator=(double value) {
  if (valid_ && SysAccepts(run_, sys_, path_, SysWrite::kOther)) {
    run_->LogRecord(RecordType::kAssign, 0, EncodeAssignNumber(path_, ValueKind::kFloat, &value));
  }
  return *this;
}
Field& Field::operator=(int value) {
  return *this = static_cast<long long>(value);
}
Field& Field::operator=(long value) {
  return *this = static_cast<long long>(value);
}
Field& Field::operator=(long long value) {
  int64_t v = value;
  if (valid_ && SysAccepts(run_, sys_, path_, SysWrite::kOther)) {
    run_->LogRecord(RecordType::kAssign, 0, EncodeAssignNumber(path_, ValueKind::kInt, &v));
  }
  return *this;
}
Field& Field::operator=(bool value) {
  int64_t v = value ? 1 : 0;
  if (valid_ && SysAccepts(run_, sys_, path_, SysWrite::kBool)) {
    run_->LogRecord(RecordType::kAssign, 0, EncodeAssignNumber(path_, ValueKind::kBool, &v));
  }
  return *this;
}
Field& Field::operator=(const char* value) {
  return *this = std::string_view(value);
}
Field& Field::operator=(const std::string& value) {
  return *this = std::string_view(value);
}
Field& Field::operator=(std::string_view value) {
  if (valid_ && SysAccepts(run_, sys_, path_, SysWrite::kString, value) &&
      StringAccepted(run_, path_, value)) {
    run_->LogRecord(RecordType::kAssign, 0, EncodeAssignString(path_, value));
  }
  return *this;
}
Field& Field::operator=(TimePoint value) {
  int64_t v = Micros(value);
  if (valid_ && SysAccepts(run_, sys_, path_, SysWrite::kDatetime)) {
    run_->LogRecord(RecordType::kAssign, 0, EncodeAssignNumber(path_, ValueKind::kDatetimeUs, &v));
  }
  return *this;
}
Field& Field::operator=(const File& file) {
  client::FileRefData ref;
  if (valid_ && SysAccepts(run_, sys_, path_, SysWrite::kOther) &&
      FileNameAccepted(run_, path_, file) && run_->StoreFile(file, &ref)) {
    run_->LogRecord(RecordType::kAssign, 0, client::EncodeAssignFile(path_, ref));
  }
  return *this;
}

void Field::Upload(const std::string& local_path) {
  *this = File::FromPath(local_path);
}

void Field::Append(double value) {
  if (valid_ && SysAccepts(run_, sys_, path_, SysWrite::kOther)) {
    run_->LogFloat(path_, value, 0, false, NowMicros());
  }
}
void Field::Append(double value, double step) {
  if (!valid_ || !SysAccepts(run_, sys_, path_, SysWrite::kOther) ||
      !StepIsFinite(run_, path_, step)) {
    return;
  }
  run_->LogFloat(path_, value, step, true, NowMicros());
}
void Field::Append(double value, double step, TimePoint time) {
  if (!valid_ || !SysAccepts(run_, sys_, path_, SysWrite::kOther) ||
      !StepIsFinite(run_, path_, step)) {
    return;
  }
  run_->LogFloat(path_, value, step, true, Micros(time));
}
void Field::Extend(std::span<const double> values) {
  if (!valid_ || !SysAccepts(run_, sys_, path_, SysWrite::kOther)) return;
  run_->LogFloats(path_, values.data(), nullptr, nullptr, values.size(), NowMicros());
}
void Field::Extend(std::span<const double> values, std::span<const double> steps) {
  Extend(values, steps, {});
}
void Field::Extend(std::span<const double> values, std::span<const double> steps,
                   std::span<const TimePoint> times) {
  if (!valid_ || !SysAccepts(run_, sys_, path_, SysWrite::kOther)) return;
  if (steps.size() != values.size() || (!times.empty() && times.size() != values.size())) {
    run_->Report(InvalidArgument("Extend of " + path_ + ": " + std::to_string(steps.size()) +
                                 " steps and " + std::to_string(times.size()) + " times for " +
                                 std::to_string(values.size()) + " values; nothing logged"));
    return;
  }
  int64_t now = NowMicros();
  std::vector<int64_t> micros;
  if (!times.empty()) {
    micros.resize(times.size());
    for (size_t i = 0; i < times.size(); ++i) micros[i] = Micros(times[i]);
  }
  const int64_t* t = micros.empty() ? nullptr : micros.data();
  if (std::all_of(steps.begin(), steps.end(), [](double s) { return std::isfinite(s); })) {
    run_->LogFloats(path_, values.data(), steps.data(), t, values.size(), now);
    return;
  }
  // Points with a non-finite step are skipped, one by one.
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(steps[i])) run_->LogFloat(path_, values[i], steps[i], true, t ? t[i] : now);
  }
}

void Field::Append(std::string_view value) {
  if (!valid_ || !SysAccepts(run_, sys_, path_, SysWrite::kOther) ||
      !StringAccepted(run_, path_, value)) {
    return;
  }
  run_->LogRecord(RecordType::kStringPoint, 0,
                  client::EncodeStringPoint(path_, value, 0, NowMicros()));
}
void Field::Append(std::string_view value, double step) {
  if (!valid_ || !SysAccepts(run_, sys_, path_, SysWrite::kOther) ||
      !StepIsFinite(run_, path_, step) || !StringAccepted(run_, path_, value)) {
    return;
  }
  run_->LogRecord(RecordType::kStringPoint, client::kFlagHasStep,
                  client::EncodeStringPoint(path_, value, step, NowMicros()));
}
void Field::Extend(std::span<const std::string> values) {
  for (const std::string& v : values) Append(std::string_view(v));
}

void Field::Append(const File& file) {
  client::FileRefData ref;
  if (valid_ && SysAccepts(run_, sys_, path_, SysWrite::kOther) &&
      FileNameAccepted(run_, path_, file) && run_->StoreFile(file, &ref)) {
    run_->LogRecord(RecordType::kFilePoint, 0, client::EncodeFilePoint(path_, ref, 0, NowMicros()));
  }
}
void Field::Append(const File& file, double step) {
  client::FileRefData ref;
  if (valid_ && SysAccepts(run_, sys_, path_, SysWrite::kOther) &&
      StepIsFinite(run_, path_, step) && FileNameAccepted(run_, path_, file) &&
      run_->StoreFile(file, &ref)) {
    run_->LogRecord(RecordType::kFilePoint, client::kFlagHasStep,
                    client::EncodeFilePoint(path_, ref, step, NowMicros()));
  }
}

// A string-set change: every member checked, then one record (or nothing).
static bool SetChangeAccepted(client::RunImpl* run, bool sys, const std::string& path,
                              std::span<const std::string_view> values) {
  if (!SysAccepts(run, sys, path, SysWrite::kStringSetChange)) return false;
  for (std::string_view v : values) {
    if (!StringAccepted(run, path, v)) return false;
  }
  return true;
}

void Field::Add(std::initializer_list<std::string_view> values) {
  std::span<const std::string_view> v(values.begin(), values.size());
  if (valid_ && SetChangeAccepted(run_, sys_, path_, v)) {
    run_->LogRecord(RecordType::kAddStrings, 0, client::EncodeStrings(path_, values));
  }
}
void Field::Add(const std::vector<std::string>& values) {
  std::vector<std::string_view> v(values.begin(), values.end());
  if (valid_ && SetChangeAccepted(run_, sys_, path_, v)) {
    run_->LogRecord(RecordType::kAddStrings, 0, client::EncodeStrings(path_, v));
  }
}
void Field::Remove(std::initializer_list<std::string_view> values) {
  std::span<const std::string_view> v(values.begin(), values.size());
  if (valid_ && SetChangeAccepted(run_, sys_, path_, v)) {
    run_->LogRecord(RecordType::kRemoveStrings, 0, client::EncodeStrings(path_, values));
  }
}
void Field::Remove(const std::vector<std::string>& values) {
  std::vector<std::string_view> v(values.begin(), values.end());
  if (valid_ && SetChangeAccepted(run_, sys_, path_, v)) {
    run_->LogRecord(RecordType::kRemoveStrings, 0, client::EncodeStrings(path_, v));
  }
}

}  // namespace nereid
