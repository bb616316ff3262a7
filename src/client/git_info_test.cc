// ReadGitInfo against real repositories made by the git command in a temporary folder.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "client/fake_server_test_util.h"
#include "client/writer_dir.h"
#include "nereid/git.h"
#include "nereid/nereid.h"

namespace nereid {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class GitInfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = fs::temp_directory_path() / ("nereid-git-" + client::NewWriterId());
    fs::create_directories(tmp_);
    dir_ = (tmp_ / "repo").string();
  }
  void TearDown() override { fs::remove_all(tmp_); }

  // Runs git in `where`; the identity is given here so the test needs no global git config.
  void Git(const std::string& args, const std::string& where = "") {
    std::string cmd =
        "git -c user.name='Ada Lovelace' -c user.email=ada@example.com "
        "-c init.defaultBranch=main -C '" +
        (where.empty() ? dir_ : where) + "' " + args + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  void Write(const std::string& rel, const std::string& text) {
    fs::path p = fs::path(dir_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  // A repository with one commit of a.txt on main.
  void MakeRepo() {
    fs::create_directories(dir_);
    Git("init -q");
    Write("a.txt", "one\n");
    Git("add a.txt");
    Git("commit -q -m 'first line' -m 'the body'");
  }
  GitInfo Read(const std::string& path, const GitCaptureOptions& o = {}) {
    Result<GitInfo> r = ReadGitInfo(path, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : GitInfo{};
  }

  fs::path tmp_;
  std::string dir_;
};

TEST_F(GitInfoTest, NotARepositoryIsNotFound) {
  Result<GitInfo> r = ReadGitInfo(tmp_.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  EXPECT_FALSE(ReadGitInfo((tmp_ / "missing").string()).ok());
}

TEST_F(GitInfoTest, CleanRepository) {
  MakeRepo();
  GitInfo g = Read(dir_ + "/");
  EXPECT_EQ(g.root, fs::canonical(dir_).string());
  EXPECT_EQ(g.commit.size(), 40u);
  EXPECT_EQ(g.commit.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(g.message, "first line");
  EXPECT_EQ(g.author_name, "Ada Lovelace");
  EXPECT_EQ(g.author_email, "ada@example.com");
  ASSERT_TRUE(g.commit_time.has_value());
  EXPECT_LT(std::chrono::abs(std::chrono::system_clock::now() - *g.commit_time), 10min);
  EXPECT_EQ(g.branch, "main");
  EXPECT_FALSE(g.detached);
  EXPECT_FALSE(g.bare);
  EXPECT_EQ(g.dirty, std::optional<bool>(false)) << g.note;
  EXPECT_EQ(g.note, "");
  EXPECT_EQ(g.diff, "");
  EXPECT_TRUE(g.remotes.empty());
}

TEST_F(GitInfoTest, FoundFromASubfolder) {
  MakeRepo();
  Write("sub/deeper/b.txt", "x\n");
  Git("add sub");
  Git("commit -q -m second");
  GitInfo g = Read(dir_ + "/sub/deeper");
  EXPECT_EQ(g.root, fs::canonical(dir_).string());
  EXPECT_EQ(g.message, "second");
}

TEST_F(GitInfoTest, ModifiedFileIsDirtyWithItsDiff) {
  MakeRepo();
  Write("a.txt", "one\ntwo\n");
  GitInfo g = Read(dir_);
  EXPECT_EQ(g.dirty, std::optional<bool>(true));
  EXPECT_NE(g.diff.find("diff --git a/a.txt b/a.txt"), std::string::npos) << g.diff;
  EXPECT_NE(g.diff.find("\n one\n+two\n"), std::string::npos) << g.diff;
  EXPECT_FALSE(g.diff_truncated);
}

TEST_F(GitInfoTest, StagedChangeIsDirty) {
  MakeRepo();
  Write("new.txt", "n\n");
  Git("add new.txt");
  GitInfo g = Read(dir_);
  EXPECT_EQ(g.dirty, std::optional<bool>(true));
  EXPECT_NE(g.diff.find("+n\n"), std::string::npos) << g.diff;
}

TEST_F(GitInfoTest, UntrackedFileIsDirtyButNotInTheDiff) {
  MakeRepo();
  Write("untracked.txt", "u\n");
  GitInfo g = Read(dir_);
  EXPECT_EQ(g.dirty, std::optional<bool>(true));
  EXPECT_EQ(g.diff, "");  // as `git diff HEAD`
}

TEST_F(GitInfoTest, IgnoredFilesAreClean) {
  MakeRepo();
  Write(".gitignore", "*.log\n");
  Git("add .gitignore");
  Git("commit -q -m ignore");
  Write("train.log", "x\n");
  EXPECT_EQ(Read(dir_).dirty, std::optional<bool>(false));
}

TEST_F(GitInfoTest, SpoolFoldersDoNotMakeItDirty) {
  MakeRepo();
  Write(".nereid/default/sandbox/seg", "spool");
  Write("scripts/.nereid/x/seg", "spool");
  Write("myspool/seg", "spool");
  GitCaptureOptions o;
  o.ignore_dirs = {dir_ + "/myspool"};
  GitInfo g = Read(dir_, o);
  EXPECT_EQ(g.dirty, std::optional<bool>(false)) << g.note;
  // The same files outside the ignored folders do count.
  Write("myspool2/seg", "x");
  EXPECT_EQ(Read(dir_, o).dirty, std::optional<bool>(true));
}

TEST_F(GitInfoTest, DetachedHead) {
  MakeRepo();
  const std::string first = Read(dir_).commit;
  Write("a.txt", "changed\n");
  Git("commit -q -am second");
  Git("checkout -q --detach " + first);
  GitInfo g = Read(dir_);
  EXPECT_TRUE(g.detached);
  EXPECT_EQ(g.branch, "");
  EXPECT_EQ(g.commit, first);
  EXPECT_EQ(g.dirty, std::optional<bool>(false));
}

TEST_F(GitInfoTest, NoCommitsYet) {
  fs::create_directories(dir_);
  Git("init -q -b trunk");
  GitInfo g = Read(dir_);
  EXPECT_EQ(g.commit, "");
  EXPECT_EQ(g.message, "");
  EXPECT_FALSE(g.commit_time.has_value());
  EXPECT_EQ(g.branch, "trunk");
  EXPECT_EQ(g.dirty, std::optional<bool>(false)) << g.note;
  Write("a.txt", "x\n");
  EXPECT_EQ(Read(dir_).dirty, std::optional<bool>(true));
  Git("add a.txt");
  GitInfo staged = Read(dir_);
  EXPECT_EQ(staged.dirty, std::optional<bool>(true));
  EXPECT_NE(staged.diff.find("+x\n"), std::string::npos) << staged.diff;
}

TEST_F(GitInfoTest, RemotesWithoutCredentials) {
  MakeRepo();
  Git("remote add backup git@github.com:acme/repo.git");
  Git("remote add origin https://user:s3cret@example.com/acme/repo.git");
  Git("remote add mirror https://ghp_token@example.org/acme/repo");
  GitInfo g = Read(dir_);
  ASSERT_EQ(g.remotes.size(), 3u);
  std::string all;
  for (const GitRemote& r : g.remotes) all += r.name + "=" + r.url + " ";
  EXPECT_EQ(all.find("s3cret"), std::string::npos) << all;
  EXPECT_EQ(all.find("ghp_token"), std::string::npos) << all;
  EXPECT_NE(all.find("origin=https://example.com/acme/repo.git "), std::string::npos) << all;
  EXPECT_NE(all.find("backup=git@github.com:acme/repo.git "), std::string::npos) << all;
  EXPECT_NE(all.find("mirror=https://example.org/acme/repo "), std::string::npos) << all;
}

TEST(StripUrlCredentialsTest, Forms) {
  EXPECT_EQ(StripUrlCredentials("https://user:token@host/x"), "https://host/x");
  EXPECT_EQ(StripUrlCredentials("HTTPS://token@host:8443/x"), "HTTPS://host:8443/x");
  EXPECT_EQ(StripUrlCredentials("http://u:p@host"), "http://host");
  EXPECT_EQ(StripUrlCredentials("https://host/path@v1"), "https://host/path@v1");
  EXPECT_EQ(StripUrlCredentials("git@host:x.git"), "git@host:x.git");
  EXPECT_EQ(StripUrlCredentials("ssh://git@host/x"), "ssh://git@host/x");
  EXPECT_EQ(StripUrlCredentials("ssh://git:pw@host/x"), "ssh://git@host/x");
  EXPECT_EQ(StripUrlCredentials("/srv/git/x.git"), "/srv/git/x.git");
  EXPECT_EQ(StripUrlCredentials("https://a:b@c@host/x"), "https://host/x");
}

TEST_F(GitInfoTest, LargeDiffIsTruncatedWithANote) {
  MakeRepo();
  Write("a.txt", std::string(5000, 'x') + "\n" + std::string(5000, 'y') + "\n");
  GitCaptureOptions o;
  o.max_diff_bytes = 1000;
  GitInfo g = Read(dir_, o);
  EXPECT_TRUE(g.diff_truncated);
  EXPECT_LE(g.diff.size(), 1100u);
  EXPECT_NE(g.diff.find("[nereid: diff truncated at 1000 bytes]"), std::string::npos) << g.diff;
  o.max_diff_bytes = 0;
  GitInfo none = Read(dir_, o);
  EXPECT_EQ(none.dirty, std::optional<bool>(true));
  EXPECT_EQ(none.diff, "");
}

TEST_F(GitInfoTest, OverBudgetLeavesDirtyUnsetWithANote) {
  MakeRepo();
  for (int i = 0; i < 50; ++i) Write("f" + std::to_string(i) + ".txt", "x\n");
  GitCaptureOptions o;
  o.budget = 0ms;
  GitInfo g = Read(dir_, o);
  EXPECT_FALSE(g.dirty.has_value());
  EXPECT_NE(g.note.find("dirty check skipped"), std::string::npos) << g.note;
  EXPECT_EQ(g.commit.size(), 40u);  // the cheap parts are still there
}

TEST_F(GitInfoTest, BareRepository) {
  MakeRepo();
  Git("clone -q --bare '" + dir_ + "' '" + (tmp_ / "bare.git").string() + "'", tmp_.string());
  GitInfo g = Read((tmp_ / "bare.git").string());
  EXPECT_TRUE(g.bare);
  EXPECT_EQ(g.commit.size(), 40u);
  EXPECT_FALSE(g.dirty.has_value());
  EXPECT_NE(g.note.find("bare"), std::string::npos);
}

TEST_F(GitInfoTest, LinkedWorktree) {
  MakeRepo();
  const std::string wt = (tmp_ / "wt").string();
  Git("worktree add -q -b feature '" + wt + "'");
  std::ofstream(fs::path(wt) / "a.txt") << "edited in the worktree\n";
  GitInfo g = Read(wt);
  EXPECT_EQ(g.root, fs::canonical(wt).string());
  EXPECT_EQ(g.branch, "feature");
  EXPECT_EQ(g.dirty, std::optional<bool>(true));
  EXPECT_EQ(Read(dir_).dirty, std::optional<bool>(false));  // the main tree is untouched
}

// Run::Create records the repository by itself, and not when told not to.
TEST_F(GitInfoTest, RunRecordsItUnlessCaptureGitIsOff) {
  MakeRepo();
  Git("remote add origin https://user:s3cret@example.com/acme/repo.git");
  const std::string commit = Read(dir_).commit;
  for (bool capture : {true, false}) {
    client::FakeServer server;
    RunOptions o;
    o.url = server.url();
    o.api_token = "t";
    o.mode = Mode::kAsync;
    o.spool_dir = (tmp_ / "spool").string();
    o.flush_period = 50ms;
    o.git_path = dir_;
    o.capture_git = capture;
    Result<nereid::Run> run = nereid::Run::Create(o);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    (*run)["done"] = "yes";
    ASSERT_TRUE(run->Wait(20s).ok());
    std::map<std::string, std::string> got = server.strings();
    EXPECT_EQ(got["done"], "yes");
    if (capture) {
      EXPECT_EQ(got["source_code/git/commit"], commit);
      EXPECT_EQ(got["source_code/git/branch"], "main");
      EXPECT_EQ(got["source_code/git/message"], "first line");
      EXPECT_EQ(got["source_code/git/remote_url"], "https://example.com/acme/repo.git");
      EXPECT_EQ(got["source_code/git/remotes/origin"], "https://example.com/acme/repo.git");
    } else {
      EXPECT_EQ(got.count("source_code/git/commit"), 0u);
    }
  }
}

}  // namespace
}  // namespace nereid
