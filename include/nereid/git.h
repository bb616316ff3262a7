// GitInfo: what a run records about the git repository its code came from (source_code/git/*).
//
// Run::Create records it by itself unless RunOptions::capture_git is false; ReadGitInfo and
// RecordGitInfo are public for programs that want to look at it or record another repository.
// Read through libgit2, not the git command: no subprocess, no dependence on PATH.
//
// Thread-safety: free functions without shared state; call them from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nereid/run.h"
#include "nereid/status.h"

namespace nereid {

struct GitRemote {
  std::string name;  // "origin"
  std::string url;   // credentials removed (StripUrlCredentials)
};

struct GitInfo {
  std::string root;  // the working tree (the git folder for a bare repository), without a
                     // trailing slash
  bool bare = false;
  std::string commit;   // HEAD's commit sha (40 hex digits); empty when there are no commits yet
  std::string message;  // first line of the commit message
  std::string author_name;
  std::string author_email;
  std::optional<TimePoint> commit_time;  // the author time
  std::string branch;                    // "main"; empty when HEAD is detached
  bool detached = false;
  // Modified, staged, deleted or untracked files (the spool folders ignored). Unset when it was
  // not checked: a bare repository, or a tree too big for the time budget (see note).
  std::optional<bool> dirty;
  std::string note;                // why dirty is unset or the diff is missing; empty otherwise
  std::vector<GitRemote> remotes;  // in the order git lists them
  // `git diff HEAD` as a unified patch (tracked files only), at most max_diff_bytes; empty when
  // clean. diff_truncated: it was cut there (the text then ends with a line saying so).
  std::string diff;
  bool diff_truncated = false;
};

struct GitCaptureOptions {
  // Time allowed for the dirty check and the diff together; past it they are given up and `note`
  // says so, so that a huge tree cannot hold up Run::Create. Default: 500 ms.
  std::chrono::milliseconds budget{500};
  // Largest diff kept. 0: no diff. Default: 1 MiB.
  uint64_t max_diff_bytes = uint64_t{1} << 20;
  // Folders whose files never make the tree dirty (the run's spool), as paths absolute or
  // relative to the working directory. Any folder named ".nereid" is always ignored.
  std::vector<std::string> ignore_dirs;
};

// Reads the repository that contains `path` (a file or folder; git's discovery walks up).
// NotFound when `path` is in no repository; Internal with libgit2's message for other failures.
// Never throws.
Result<GitInfo> ReadGitInfo(const std::string& path, const GitCaptureOptions& options = {});

// Logs `info` into the run: source_code/git/{root, commit, message, author, author_email,
// commit_time, branch, detached, dirty, note, remote_url, remotes/<name>} (empty values left
// out) and the diff as the file source_code/diff. remote_url is origin's, else the first remote's.
void RecordGitInfo(Run& run, const GitInfo& info);

// "https://user:token@host/x" -> "https://host/x" (any scheme with "://"); scp-like
// "git@host:x" and URLs without credentials are returned unchanged.
std::string StripUrlCredentials(const std::string& url);

}  // namespace nereid
