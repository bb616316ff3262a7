// ReadGitInfo through libgit2. The dirty check and the diff are the only parts whose cost grows
// with the tree; both run as libgit2 diffs whose callbacks check a deadline, and the dirty check
// stops at the first change it finds, so a clean 10k-file tree costs one index-vs-stat pass.
#include <git2.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string_view>

#include "nereid/git.h"

namespace nereid {
namespace {

using Clock = std::chrono::steady_clock;

// libgit2's global state is reference counted: one init/shutdown pair per capture keeps nothing
// alive between runs (and nothing for leak checkers to report).
struct Libgit2 {
  Libgit2() { git_libgit2_init(); }
  ~Libgit2() { git_libgit2_shutdown(); }
  Libgit2(const Libgit2&) = delete;
  Libgit2& operator=(const Libgit2&) = delete;
};

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

using RepoPtr = Owned<git_repository, git_repository_free>;
using RefPtr = Owned<git_reference, git_reference_free>;
using CommitPtr = Owned<git_commit, git_commit_free>;
using TreePtr = Owned<git_tree, git_tree_free>;
using DiffPtr = Owned<git_diff, git_diff_free>;
using ConfigPtr = Owned<git_config, git_config_free>;
using ConfigIterPtr = Owned<git_config_iterator, git_config_iterator_free>;

Status Git2Error(std::string_view what) {
  const git_error* e = git_error_last();
  return Internal("git: " + std::string(what) + ": " +
                  (e != nullptr && e->message != nullptr ? e->message : "unknown libgit2 error"));
}

// Codes our callbacks return to stop a diff; libgit2 hands them back as the call's result.
constexpr int kFoundChange = -7001;
constexpr int kOutOfTime = -7002;
constexpr int kDiffFull = -7003;

struct DiffState {
  Clock::time_point deadline;
  std::chrono::milliseconds budget{0};
  std::vector<std::string> ignored;  // repository-relative folder prefixes, ending in '/'
  std::string* text = nullptr;       // the patch being printed, if any
  uint64_t max_bytes = 0;
};

bool Ignored(const DiffState& st, std::string_view path) {
  // A ".nereid" folder anywhere: a script run from a subfolder spools there.
  if (path.starts_with(".nereid/") || path == ".nereid" ||
      path.find("/.nereid/") != std::string_view::npos || path.ends_with("/.nereid")) {
    return true;
  }
  for (const std::string& prefix : st.ignored) {
    if (path.starts_with(prefix) || std::string(path) + "/" == prefix) return true;
  }
  return false;
}

int OnProgress(const git_diff*, const char*, const char*, void* payload) {
  return Clock::now() > static_cast<DiffState*>(payload)->deadline ? kOutOfTime : 0;
}

// Called before a change is added to the diff: >0 leaves it out.
int SkipIgnored(const git_diff*, const git_diff_delta* delta, const char*, void* payload) {
  const char* p = delta->new_file.path != nullptr ? delta->new_file.path : delta->old_file.path;
  return p != nullptr && Ignored(*static_cast<DiffState*>(payload), p) ? 1 : 0;
}

int StopAtFirstChange(const git_diff* diff, const git_diff_delta* delta, const char* spec,
                      void* payload) {
  return SkipIgnored(diff, delta, spec, payload) > 0 ? 1 : kFoundChange;
}

int PrintLine(const git_diff_delta*, const git_diff_hunk*, const git_diff_line* line,
              void* payload) {
  auto* st = static_cast<DiffState*>(payload);
  std::string& out = *st->text;
  const char o = line->origin;
  size_t need = line->content_len + 1;
  if (out.size() + need > st->max_bytes) return kDiffFull;
  if (o == GIT_DIFF_LINE_CONTEXT || o == GIT_DIFF_LINE_ADDITION || o == GIT_DIFF_LINE_DELETION) {
    out.push_back(o);
  }
  out.append(line->content, line->content_len);
  return Clock::now() > st->deadline ? kOutOfTime : 0;
}

git_diff_options BaseDiffOptions(DiffState* st) {
  git_diff_options o;
  git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
  // Submodules are left out: their status means opening each one, the cost the budget guards.
  o.flags = GIT_DIFF_IGNORE_SUBMODULES;
  o.ignore_submodules = GIT_SUBMODULE_IGNORE_ALL;
  o.progress_cb = OnProgress;
  o.payload = st;
  return o;
}

// True when HEAD (or, with no commits, the empty tree) differs from the index or the index from
// the files, untracked files included. Sets *note and returns nullopt when out of time.
std::optional<bool> CheckDirty(git_repository* repo, git_tree* head, DiffState* st,
                               std::string* note) {
  git_diff_options o = BaseDiffOptions(st);
  o.notify_cb = StopAtFirstChange;
  git_diff* raw = nullptr;
  int rc = git_diff_tree_to_index(&raw, repo, head, nullptr, &o);
  DiffPtr staged(raw);
  if (rc == 0) {
    // Recursing lets a spool folder below an untracked folder be told apart from real files.
    o.flags |= GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
    raw = nullptr;
    rc = git_diff_index_to_workdir(&raw, repo, nullptr, &o);
    DiffPtr unstaged(raw);
  }
  if (rc == 0) return false;
  if (rc == kFoundChange) return true;
  *note = rc == kOutOfTime ? "dirty check skipped: the working tree took longer than " +
                                 std::to_string(st->budget.count()) + " ms to check"
                           : Git2Error("status").message();
  return std::nullopt;
}

void ReadDiff(git_repository* repo, git_tree* head, DiffState* st, GitInfo* info) {
  git_diff_options o = BaseDiffOptions(st);
  o.notify_cb = SkipIgnored;
  git_diff* raw = nullptr;
  int rc = git_diff_tree_to_workdir_with_index(&raw, repo, head, &o);
  DiffPtr diff(raw);
  if (rc == 0) {
    st->text = &info->diff;
    rc = git_diff_print(diff.get(), GIT_DIFF_FORMAT_PATCH, PrintLine, st);
  }
  if (rc == kDiffFull) {
    info->diff_truncated = true;
    info->diff += "\n[nereid: diff truncated at " + std::to_string(st->max_bytes) + " bytes]\n";
  } else if (rc != 0) {
    info->diff.clear();
    std::string why = rc == kOutOfTime
                          ? "took longer than " + std::to_string(st->budget.count()) + " ms"
                          : Git2Error("diff").message();
    info->note += (info->note.empty() ? "" : "; ") + std::string("diff left out: ") + why;
  }
}

// Remotes from the config's remote.<name>.url entries, in config order. Read by a plain iteration
// rather than git_remote_list/git_remote_lookup: those match config names with PCRE2 regexes, and
// Debian's libgit2 1.5 leaks the match data of every entry that does not match (fixed upstream
// in libgit2 PR #6382), which a long-lived process creating many runs would accumulate.
void ReadRemotes(git_repository* repo, std::vector<GitRemote>* out) {
  git_config* raw = nullptr;
  if (git_repository_config_snapshot(&raw, repo) != 0) return;
  ConfigPtr config(raw);
  git_config_iterator* raw_it = nullptr;
  if (git_config_iterator_new(&raw_it, config.get()) != 0) return;
  ConfigIterPtr it(raw_it);
  git_config_entry* entry = nullptr;
  while (git_config_next(&entry, it.get()) == 0) {
    std::string_view name = entry->name;  // lower-cased section and key, the subsection as is
    if (!name.starts_with("remote.") || !name.ends_with(".url") || entry->value == nullptr)
      continue;
    std::string remote(name.substr(7, name.size() - 7 - 4));
    if (remote.empty()) continue;
    bool seen = false;  // a later value (e.g. a local config over a global one) wins
    for (GitRemote& r : *out) {
      if (r.name == remote) {
        r.url = StripUrlCredentials(entry->value);
        seen = true;
      }
    }
    if (!seen) out->push_back({remote, StripUrlCredentials(entry->value)});
  }
}

// Repository-relative prefixes ("sub/spool/") of the folders inside `root`.
std::vector<std::string> RelativeDirs(const std::string& root,
                                      const std::vector<std::string>& dirs) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  fs::path base = fs::weakly_canonical(root, ec);
  if (ec) return out;
  for (const std::string& d : dirs) {
    fs::path p = fs::weakly_canonical(fs::absolute(d, ec), ec);
    if (ec) continue;
    fs::path rel = p.lexically_relative(base);
    std::string s = rel.generic_string();
    if (s.empty() || s == "." || s.starts_with("..")) continue;
    out.push_back(s + "/");
  }
  return out;
}

}  // namespace

std::string StripUrlCredentials(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;  // scp-like or a local path
  size_t host_start = scheme_end + 3;
  size_t host_end = url.find('/', host_start);
  if (host_end == std::string::npos) host_end = url.size();
  size_t at = url.rfind('@', host_end);
  if (at == std::string::npos || at < host_start) return url;
  std::string scheme = url.substr(0, scheme_end);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Over http(s) a user name alone can be a token (https://<token>@github.com): drop it all. For
  // ssh:// the user is part of the address (git@): keep it, drop only a password.
  if (scheme == "http" || scheme == "https") return url.substr(0, host_start) + url.substr(at + 1);
  size_t colon = url.find(':', host_start);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

Result<GitInfo> ReadGitInfo(const std::string& path, const GitCaptureOptions& options) {
  Libgit2 lib;
  const Clock::time_point deadline = Clock::now() + options.budget;
  git_repository* raw_repo = nullptr;
  int rc = git_repository_open_ext(&raw_repo, path.c_str(), 0, nullptr);
  RepoPtr repo(raw_repo);
  if (rc == GIT_ENOTFOUND) return NotFound("git: " + path + " is not inside a git repository");
  if (rc != 0) return Git2Error("open " + path);

  GitInfo info;
  info.bare = git_repository_is_bare(repo.get()) != 0;
  const char* root =
      info.bare ? git_repository_path(repo.get()) : git_repository_workdir(repo.get());
  info.root = root != nullptr ? root : "";
  while (info.root.size() > 1 && info.root.back() == '/') info.root.pop_back();

  TreePtr head_tree;
  if (git_repository_head_unborn(repo.get()) == 1) {
    // No commits yet: the branch is what HEAD points at.
    git_reference* raw = nullptr;
    if (git_reference_lookup(&raw, repo.get(), "HEAD") == 0) {
      RefPtr head(raw);
      const char* target = git_reference_symbolic_target(head.get());
      std::string_view t = target != nullptr ? target : "";
      if (t.starts_with("refs/heads/")) t.remove_prefix(11);
      info.branch = std::string(t);
    }
  } else {
    git_reference* raw = nullptr;
    if (git_repository_head(&raw, repo.get()) != 0) return Git2Error("read HEAD");
    RefPtr head(raw);
    info.detached = git_repository_head_detached(repo.get()) == 1;
    if (!info.detached && git_reference_is_branch(head.get())) {
      info.branch = git_reference_shorthand(head.get());
    }
    git_object* obj = nullptr;
    if (git_reference_peel(&obj, head.get(), GIT_OBJECT_COMMIT) != 0) return Git2Error("peel HEAD");
    CommitPtr commit(reinterpret_cast<git_commit*>(obj));
    char sha[GIT_OID_HEXSZ + 1];
    git_oid_tostr(sha, sizeof sha, git_commit_id(commit.get()));
    info.commit = sha;
    if (const char* summary = git_commit_summary(commit.get())) info.message = summary;
    if (const git_signature* a = git_commit_author(commit.get())) {
      info.author_name = a->name != nullptr ? a->name : "";
      info.author_email = a->email != nullptr ? a->email : "";
      info.commit_time = TimePoint(std::chrono::seconds(a->when.time));
    }
    git_tree* tree = nullptr;
    if (git_commit_tree(&tree, commit.get()) != 0) return Git2Error("read HEAD's tree");
    head_tree.reset(tree);
  }

  ReadRemotes(repo.get(), &info.remotes);

  if (info.bare) {
    info.note = "bare repository: no working tree to check";
    return info;
  }
  DiffState st;
  st.deadline = deadline;
  st.budget = options.budget;
  st.ignored = RelativeDirs(info.root, options.ignore_dirs);
  st.max_bytes = options.max_diff_bytes;
  info.dirty = CheckDirty(repo.get(), head_tree.get(), &st, &info.note);
  if (info.dirty.value_or(false) && options.max_diff_bytes > 0) {
    ReadDiff(repo.get(), head_tree.get(), &st, &info);
  }
  return info;
}

void RecordGitInfo(Run& run, const GitInfo& info) {
  auto put = [&](const char* path, const std::string& value) {
    if (!value.empty()) run[path] = value;
  };
  put("source_code/git/root", info.root);
  put("source_code/git/commit", info.commit);
  put("source_code/git/message", info.message);
  put("source_code/git/author", info.author_name);
  put("source_code/git/author_email", info.author_email);
  if (info.commit_time) run["source_code/git/commit_time"] = *info.commit_time;
  put("source_code/git/branch", info.branch);
  run["source_code/git/detached"] = info.detached;
  if (info.dirty) run["source_code/git/dirty"] = *info.dirty;
  put("source_code/git/note", info.note);
  const GitRemote* main = nullptr;
  for (const GitRemote& r : info.remotes) {
    if (main == nullptr || r.name == "origin") main = &r;
    // Remote names may hold characters a field path refuses; the name is only a label here.
    std::string label = r.name;
    for (char& c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
    }
    run["source_code/git/remotes/" + label] = r.url;
  }
  if (main != nullptr) run["source_code/git/remote_url"] = main->url;
  if (!info.diff.empty()) {
    run["source_code/diff"] = File::FromBytes(info.diff, "diff.patch", "text/x-diff");
  }
}

}  // namespace nereid
