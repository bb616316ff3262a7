// RunOptions: everything that configures a nereid::Run, each with its default.
//
// A plain value type: copy it, fill the fields you need, pass it to Run::Create. Fields left
// empty (strings) or unset (optionals) take their value from the environment when the run is
// created: NEREID_URL, NEREID_API_TOKEN, NEREID_PROJECT, NEREID_MODE, NEREID_HOME.
//
// Thread-safety: a value; distinct objects may be used from distinct threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nereid/status.h"

namespace nereid {

enum class Mode {
  kAsync,     // log calls write to the disk spool; a background thread uploads (the default)
  kSync,      // every log call waits until the server acknowledged it (for debugging)
  kOffline,   // spool only, no network at all; upload later with `nereid sync`
  kReadOnly,  // fetch fields and series of an existing run; log calls are refused
  kDebug,     // nothing is stored or sent; log calls are validated and then dropped
};

// "async", "sync", "offline", "read-only", "debug" (case-sensitive). InvalidArgument otherwise.
Result<Mode> ParseMode(std::string_view text);
std::string_view ModeName(Mode mode);

// Called for problems that retrying cannot fix (bad token, unknown project, type conflict, disk
// cap reached, invalid path in a log call) and, once per episode, for delays the user should know
// about (rate limiting). Called from the logging thread (for invalid log calls) or from the
// run's background thread; it must not block for long and must not call back into the Run.
using ErrorCallback = std::function<void(const Status&)>;

struct RunOptions {
  // Server base URL. Default: $NEREID_URL, else "http://127.0.0.1:4870".
  std::string url;
  // API token sent as "Authorization: Bearer". Default: $NEREID_API_TOKEN. Never written to disk.
  std::string api_token;
  // "workspace/project". Default: $NEREID_PROJECT, else "default/sandbox".
  std::string project;
  // Default: $NEREID_MODE, else kAsync.
  std::optional<Mode> mode;
  // Joins (or creates) the run with this custom id; several processes that give the same one log
  // into one run, each as its own writer. Default: a random id ("nrd-<hex>"), so that creating
  // the run on the server is idempotent even when a response is lost.
  std::string custom_run_id;
  // Resumes the existing run with this server id ("SAND-7") instead of creating one.
  std::string run_id;
  std::string name;               // sys/name of a new run. Default: empty.
  std::string description;        // sys/description of a new run. Default: empty.
  std::vector<std::string> tags;  // sys/tags of a new run. Default: none.
  // How the sender batches (docs/client.md, "Sending"): while records keep coming it sends one
  // batch per flush period (at once when a batch reached max_batch_bytes), so a busy run makes
  // at most one request per period; a record logged into an idle run (nothing sent for a flush
  // period) goes after a 5 ms linger instead of waiting for the period. Default: 1 s.
  std::chrono::milliseconds flush_period{1000};
  // Root of the on-disk spool. Default: $NEREID_HOME, else ".nereid" in the working directory.
  std::string spool_dir;
  // Most bytes of spool segments this run keeps on disk. Past it new records are dropped and
  // counted (reported through on_error). Default: 10 GiB.
  uint64_t disk_cap_bytes = uint64_t{10} << 30;
  // Size of one spool segment file. Default: 8 MiB. Memory use grows with it (docs/client.md).
  uint64_t segment_bytes = uint64_t{8} << 20;
  // Uncompressed size at which a batch is sent without waiting for the flush period.
  // Default: 4 MiB.
  uint64_t max_batch_bytes = uint64_t{4} << 20;
  // How long Stop() and the destructor wait for the upload to finish. Default: 60 s.
  std::chrono::milliseconds stop_timeout{60000};
  // See ErrorCallback. Default: print the message to stderr.
  ErrorCallback on_error;
  // Record the git repository around git_path in source_code/git/* and source_code/diff
  // (nereid/git.h) when the run is created, in every mode that logs. No repository: nothing is
  // recorded. Costs Create at most about half a second on a huge tree (GitCaptureOptions::budget).
  // Default: true.
  bool capture_git = true;
  // Where to look for the repository. Default: the working directory.
  std::string git_path;
};

// Fills every empty or unset field of `options` from the environment and then from the built-in
// defaults. Run::Create calls it; it is public so a program can show what a run will use.
RunOptions ResolveOptions(RunOptions options);

}  // namespace nereid
