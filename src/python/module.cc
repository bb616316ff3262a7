// nereid._core: the pybind11 module over the C++ client (include/nereid/run.h).
//
// There is no second spool or sender here: every call goes straight into nereid::Run. The pure-
// Python package (python/nereid/) adds the Neptune-shaped API on top. Log calls release the GIL
// while they are inside the core, so a training loop's other threads (DataLoader, hardware
// monitor) keep running.
//
// Errors: the C++ client reports an invalid log call through RunOptions::on_error on the calling
// thread and otherwise returns nothing. To raise in the caller's frame, each log call installs a
// thread-local slot; the callback fills it when it runs on that thread during that call, and the
// call raises after the core returns. Errors from the background sender (which never holds the
// GIL) are printed to stderr and kept for Run.errors().
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nereid/git.h"
#include "nereid/run.h"
#include "python/errors.h"

namespace nereid::python {
namespace {

namespace py = pybind11;

thread_local Status* t_call_error = nullptr;

// Captures what the core reports synchronously during one log call on this thread.
class CallScope {
 public:
  CallScope() : prev_(t_call_error) { t_call_error = &error_; }
  ~CallScope() { t_call_error = prev_; }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;
  // Raises the captured error, if any. Needs the GIL.
  void Check() const {
    if (!error_.ok()) ThrowStatus(error_);
  }

 private:
  Status error_;
  Status* prev_;
};

// Owns the nereid::Run and the errors the background thread reported. Shared by every Field
// handle made from it, so a handle never outlives the run it points into.
struct RunHolder {
  std::mutex mu;
  std::vector<std::string> async_errors;  // guarded by mu
  pid_t owner_pid = getpid();
  std::optional<Run> run;  // declared last: destroyed (stopped) before the members it reports into
};

void OnError(RunHolder* holder, const Status& status) {
  // A forked child (a DataLoader worker) must not raise out of its parent's run: the core already
  // drops its calls, so this is only a note.
  if (t_call_error != nullptr && t_call_error->ok() && getpid() == holder->owner_pid) {
    *t_call_error = status;
    return;
  }
  std::fprintf(stderr, "nereid: %s\n", status.message().c_str());
  std::lock_guard lk(holder->mu);
  if (holder->async_errors.size() < 1000) holder->async_errors.push_back(status.message());
}

// Seconds since the epoch as a TimePoint. Raises NereidValueError for NaN, ±Inf or a time the
// clock cannot hold (about 1678..2262), whose conversion would be undefined. Needs the GIL.
TimePoint ToTime(double seconds, const char* what) {
  constexpr double kLimit = 9.2e9;  // system_clock counts int64 nanoseconds: ±9.22e9 s
  if (!(std::abs(seconds) < kLimit)) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", seconds);
    ThrowStatus(InvalidArgument(std::string(what) + " must be a finite time between the years " +
                                "1678 and 2262 (seconds since the epoch), not " + shown));
  }
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::duration<double>(seconds)));
}

std::chrono::milliseconds ToMillis(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(seconds, 1e9) * 1000.0));
}

// A handle on one path of a run (nereid::Field) plus what keeps the run alive.
class PyField {
 public:
  PyField(std::shared_ptr<RunHolder> holder, const std::string& path) : holder_(std::move(holder)) {
    CallScope scope;
    field_.emplace((*holder_->run)[path]);
    scope.Check();
  }

  const std::string& path() const { return field_->path(); }

  // Runs `fn` on the field without the GIL and raises what the core reported.
  template <typename Fn>
  void Call(Fn&& fn) {
    CallScope scope;
    {
      py::gil_scoped_release release;
      fn(*field_);
    }
    scope.Check();
  }

  // The training loop's hot call: one double, no optional arguments to convert.
  void AppendValue(double value) {
    Call([&](Field& f) { f.Append(value); });
  }

  void AppendFloat(double value, std::optional<double> step, std::optional<double> time_s) {
    const TimePoint time = time_s ? ToTime(*time_s, "append: the timestamp") : TimePoint();
    Call([&](Field& f) {
      if (time_s && step) {
        f.Append(value, *step, time);
      } else if (step) {
        f.Append(value, *step);
      } else {
        f.Append(value);
      }
    });
  }

  using F64Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

  // The numpy buffers go to the core as they are (a float64 C-contiguous array is not copied);
  // timestamps are seconds since the epoch, converted here, not per element in Python.
  void ExtendFloats(F64Array values, std::optional<F64Array> steps,
                    std::optional<F64Array> timestamps) {
    if (values.ndim() != 1) throw py::value_error("extend: values must be one-dimensional");
    std::span<const double> v(values.data(), static_cast<size_t>(values.size()));
    if (timestamps && !steps) throw py::value_error("extend: timestamps need steps as well");
    std::span<const double> s;
    if (steps) {
      if (steps->ndim() != 1 || steps->size() != values.size())
        throw py::value_error("extend: steps must be one-dimensional and as long as values");
      s = std::span<const double>(steps->data(), static_cast<size_t>(steps->size()));
    }
    std::vector<TimePoint> times;
    if (timestamps) {
      if (timestamps->ndim() != 1 || timestamps->size() != values.size())
        throw py::value_error("extend: timestamps must be one-dimensional and as long as values");
      const double* t = timestamps->data();
      times.reserve(static_cast<size_t>(timestamps->size()));
      for (py::ssize_t i = 0; i < timestamps->size(); ++i) {
        times.push_back(ToTime(t[i], "extend: every timestamp"));
      }
    }
    if (steps) {
      Call([&](Field& f) { f.Extend(v, s, times); });
    } else {
      Call([&](Field& f) { f.Extend(v); });
    }
  }

  void AppendString(const std::string& value, std::optional<double> step) {
    Call([&](Field& f) {
      if (step) {
        f.Append(std::string_view(value), *step);
      } else {
        f.Append(std::string_view(value));
      }
    });
  }

  void ExtendStrings(const std::vector<std::string>& values) {
    Call([&](Field& f) { f.Extend(std::span<const std::string>(values)); });
  }

  void AppendFile(py::bytes data, const std::string& name, const std::string& content_type,
                  std::optional<double> step) {
    File file = File::FromBytes(std::string(data), name, content_type);
    Call([&](Field& f) {
      if (step) {
        f.Append(file, *step);
      } else {
        f.Append(file);
      }
    });
  }

  void AssignFileBytes(py::bytes data, const std::string& name, const std::string& content_type) {
    File file = File::FromBytes(std::string(data), name, content_type);
    Call([&](Field& f) { f = file; });
  }

  void AssignFilePath(const std::string& local_path, const std::string& name) {
    Call([&](Field& f) { f = File::FromPath(local_path, name); });
  }

  void Upload(const std::string& local_path) {
    Call([&](Field& f) { f.Upload(local_path); });
  }

  void AssignFloat(double v) {
    Call([&](Field& f) { f = v; });
  }
  void AssignInt(long long v) {
    Call([&](Field& f) { f = v; });
  }
  void AssignBool(bool v) {
    Call([&](Field& f) { f = v; });
  }
  void AssignString(const std::string& v) {
    Call([&](Field& f) { f = v; });
  }
  void AssignDatetime(double seconds) {
    const TimePoint time = ToTime(seconds, "a datetime");
    Call([&](Field& f) { f = time; });
  }
  void Add(const std::vector<std::string>& values) {
    Call([&](Field& f) { f.Add(values); });
  }
  void Remove(const std::vector<std::string>& values) {
    Call([&](Field& f) { f.Remove(values); });
  }

 private:
  std::shared_ptr<RunHolder> holder_;
  std::optional<Field> field_;
};

std::optional<Mode> ModeOrNull(const std::string& mode) {
  if (mode.empty()) return std::nullopt;
  Result<Mode> m = ParseMode(mode);
  if (!m.ok()) ThrowStatus(m.status());
  return *m;
}

RunOptions MakeOptions(const py::dict& kw) {
  RunOptions o;
  auto str = [&](const char* key, std::string* out) {
    if (kw.contains(key) && !kw[key].is_none()) *out = py::cast<std::string>(kw[key]);
  };
  str("url", &o.url);
  str("api_token", &o.api_token);
  str("project", &o.project);
  str("custom_run_id", &o.custom_run_id);
  str("run_id", &o.run_id);
  str("name", &o.name);
  str("description", &o.description);
  str("spool_dir", &o.spool_dir);
  std::string mode;
  str("mode", &mode);
  o.mode = ModeOrNull(mode);
  if (kw.contains("tags") && !kw["tags"].is_none())
    o.tags = py::cast<std::vector<std::string>>(kw["tags"]);
  if (kw.contains("flush_period") && !kw["flush_period"].is_none())
    o.flush_period = ToMillis(py::cast<double>(kw["flush_period"]));
  if (kw.contains("stop_timeout") && !kw["stop_timeout"].is_none())
    o.stop_timeout = ToMillis(py::cast<double>(kw["stop_timeout"]));
  if (kw.contains("capture_git") && !kw["capture_git"].is_none())
    o.capture_git = py::cast<bool>(kw["capture_git"]);
  str("git_path", &o.git_path);
  return o;
}

class PyRun {
 public:
  explicit PyRun(const py::dict& kw) : holder_(std::make_shared<RunHolder>()) {
    RunOptions o = MakeOptions(kw);
    RunHolder* h = holder_.get();
    o.on_error = [h](const Status& s) { OnError(h, s); };
    Result<Run> run = [&] {
      py::gil_scoped_release release;
      return Run::Create(std::move(o));
    }();
    if (!run.ok()) ThrowStatus(run.status());
    holder_->run.emplace(std::move(*run));
  }

  PyField Field(const std::string& path) { return PyField(holder_, path); }

  void Wait(double timeout_s) {
    Status s;
    {
      py::gil_scoped_release release;
      s = holder_->run->Wait(ToMillis(timeout_s));
    }
    if (!s.ok()) ThrowStatus(s);
  }

  // Returns the stop status message ("" when everything reached the server) rather than raising:
  // a stop that leaves data in the spool is not an error of the caller's program.
  // timeout_s: at most this long instead of the run's stop_timeout (None: stop_timeout).
  std::string Stop(const std::string& state, std::optional<double> timeout_s) {
    RunState st = RunState::kSucceeded;
    if (state == "failed") {
      st = RunState::kFailed;
    } else if (state == "aborted") {
      st = RunState::kAborted;
    } else if (state != "succeeded") {
      throw py::value_error("stop: state must be succeeded, failed or aborted, not " + state);
    }
    Status s;
    {
      py::gil_scoped_release release;
      s = timeout_s ? holder_->run->Stop(st, ToMillis(*timeout_s)) : holder_->run->Stop(st);
    }
    return s.ok() ? std::string() : s.message();
  }

  std::string Id() const { return holder_->run->id(); }
  std::string CustomRunId() const { return holder_->run->custom_run_id(); }
  std::string SpoolPath() const { return holder_->run->spool_path(); }

  py::dict Stats() const {
    RunStats s = holder_->run->stats();
    py::dict d;
    d["records_logged"] = s.records_logged;
    d["records_dropped"] = s.records_dropped;
    d["bytes_pending"] = s.bytes_pending;
    d["batches_acked"] = s.batches_acked;
    d["records_acked"] = s.records_acked;
    d["records_refused"] = s.records_refused;
    d["batch_requests"] = s.batch_requests;
    d["batch_requests_rate_limited"] = s.batch_requests_rate_limited;
    d["batch_requests_failed"] = s.batch_requests_failed;
    d["ack_latency_max_us"] = s.ack_latency_max_us;
    return d;
  }

  std::vector<std::string> Errors() const {
    std::lock_guard lk(holder_->mu);
    return holder_->async_errors;
  }

  // Reads the repository around `path` and records it (nereid/git.h) without the GIL, so the
  // package can do it on a thread while the program runs. Returns why nothing was recorded ("" when
  // it was): a missing repository is normal, not an error of the caller's program.
  std::string RecordGit(const std::string& path, const std::vector<std::string>& ignore_dirs,
                        double budget_s) {
    py::gil_scoped_release release;
    GitCaptureOptions o;
    o.ignore_dirs = ignore_dirs;
    o.budget = ToMillis(budget_s);
    Result<GitInfo> info = ReadGitInfo(path, o);
    if (!info.ok()) return info.status().message();
    RecordGitInfo(*holder_->run, *info);
    return "";
  }

  std::string FetchFieldsJson(const std::string& prefix) const {
    Result<std::string> r = [&] {
      py::gil_scoped_release release;
      return holder_->run->FetchFieldsJson(prefix);
    }();
    if (!r.ok()) ThrowStatus(r.status());
    return *r;
  }

 private:
  std::shared_ptr<RunHolder> holder_;
};

// ReadGitInfo as a dict (None when `path` is in no repository); for tests and curious users.
py::object GitInfoDict(const std::string& path, double budget_s, uint64_t max_diff_bytes) {
  GitCaptureOptions o;
  o.budget = ToMillis(budget_s);
  o.max_diff_bytes = max_diff_bytes;
  Result<GitInfo> r = [&] {
    py::gil_scoped_release release;
    return ReadGitInfo(path, o);
  }();
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) return py::none();
    ThrowStatus(r.status());
  }
  const GitInfo& g = *r;
  py::dict d;
  d["root"] = g.root;
  d["bare"] = g.bare;
  d["commit"] = g.commit;
  d["message"] = g.message;
  d["author_name"] = g.author_name;
  d["author_email"] = g.author_email;
  d["commit_time"] = g.commit_time ? py::cast(std::chrono::duration<double>(
                                                  g.commit_time->time_since_epoch())
                                                  .count())
                                   : py::none();
  d["branch"] = g.branch;
  d["detached"] = g.detached;
  d["dirty"] = g.dirty ? py::cast(*g.dirty) : py::none();
  d["note"] = g.note;
  py::dict remotes;
  for (const GitRemote& rem : g.remotes) remotes[py::str(rem.name)] = rem.url;
  d["remotes"] = remotes;
  d["diff"] = py::bytes(g.diff);
  d["diff_truncated"] = g.diff_truncated;
  return d;
}

py::dict Resolve(const py::dict& kw) {
  RunOptions o = ResolveOptions(MakeOptions(kw));
  py::dict d;
  d["url"] = o.url;
  d["api_token"] = o.api_token;
  d["project"] = o.project;
  d["mode"] = std::string(ModeName(o.mode.value_or(Mode::kAsync)));
  d["spool_dir"] = o.spool_dir;
  return d;
}

}  // namespace
}  // namespace nereid::python

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  using namespace nereid::python;  // NOLINT: the module init only wires the classes above
  m.doc() = "Private native core of the nereid package (the C++ client). Use `nereid` instead.";
  RegisterExceptions(m);

  py::class_<PyField>(m, "Field")
      .def_property_readonly("path", &PyField::path)
      .def("append_value", &PyField::AppendValue, py::arg("value"))
      .def("append_float", &PyField::AppendFloat, py::arg("value"), py::arg("step") = py::none(),
           py::arg("timestamp") = py::none())
      .def("extend_floats", &PyField::ExtendFloats, py::arg("values"), py::arg("steps") = py::none(),
           py::arg("timestamps") = py::none())
      .def("append_string", &PyField::AppendString, py::arg("value"), py::arg("step") = py::none())
      .def("extend_strings", &PyField::ExtendStrings, py::arg("values"))
      .def("append_file", &PyField::AppendFile, py::arg("data"), py::arg("name"),
           py::arg("content_type") = "", py::arg("step") = py::none())
      .def("assign_file_bytes", &PyField::AssignFileBytes, py::arg("data"), py::arg("name"),
           py::arg("content_type") = "")
      .def("assign_file_path", &PyField::AssignFilePath, py::arg("path"), py::arg("name") = "")
      .def("upload", &PyField::Upload, py::arg("path"))
      .def("assign_float", &PyField::AssignFloat, py::arg("value"))
      .def("assign_int", &PyField::AssignInt, py::arg("value"))
      .def("assign_bool", &PyField::AssignBool, py::arg("value"))
      .def("assign_string", &PyField::AssignString, py::arg("value"))
      .def("assign_datetime", &PyField::AssignDatetime, py::arg("seconds"))
      .def("add", &PyField::Add, py::arg("values"))
      .def("remove", &PyField::Remove, py::arg("values"));

  py::class_<PyRun>(m, "Run")
      .def(py::init<const py::dict&>(), py::arg("options"))
      .def("field", &PyRun::Field, py::arg("path"))
      .def("wait", &PyRun::Wait, py::arg("timeout"))
      .def("stop", &PyRun::Stop, py::arg("state") = "succeeded", py::arg("timeout") = py::none())
      .def_property_readonly("id", &PyRun::Id)
      .def_property_readonly("custom_run_id", &PyRun::CustomRunId)
      .def_property_readonly("spool_path", &PyRun::SpoolPath)
      .def("stats", &PyRun::Stats)
      .def("errors", &PyRun::Errors)
      .def("fetch_fields_json", &PyRun::FetchFieldsJson, py::arg("prefix") = "")
      .def("record_git", &PyRun::RecordGit, py::arg("path"),
           py::arg("ignore_dirs") = std::vector<std::string>(), py::arg("budget") = 0.5);

  m.def("git_info", &GitInfoDict, py::arg("path"), py::arg("budget") = 0.5,
        py::arg("max_diff_bytes") = uint64_t{1} << 20,
        "The git repository around path (a dict), or None when there is none.");

  m.def("resolve_options", &Resolve, py::arg("options"),
        "The URL, token, project, mode and spool folder a run with these options would use.");
}
