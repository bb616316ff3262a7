import { describe, expect, it } from "vitest";
import type { Field, FileRef } from "../api/types";
import { classifyDiff, commitUrl, diffStats, displayRemote, sourceInfoOf } from "./sourceInfo";

const file = (name: string): FileRef => ({ sha256: name.padEnd(64, "0"), name, content_type: "text/plain", size: 10 });
const f = (path: string, type: Field["type"], value: unknown): Field => ({ path, type, value });

describe("source info of a run", () => {
  it("gathers the git fields, the diff, requirements and source files", () => {
    const info = sourceInfoOf([
      f("params/lr", "float", 0.1),
      f("source_code/git/commit", "string", "0123456789abcdef0123456789abcdef01234567"),
      f("source_code/git/branch", "string", "main"),
      f("source_code/git/detached", "bool", false),
      f("source_code/git/dirty", "bool", true),
      f("source_code/git/message", "string", "Tune lr\n\nlonger body"),
      f("source_code/git/author", "string", "Ada"),
      f("source_code/git/author_email", "string", "ada@example.org"),
      f("source_code/git/commit_time", "datetime", "2026-12-01T10:00:00Z"),
      f("source_code/git/remote_url", "string", "git@github.com:acme/vision.git"),
      f("source_code/git/remotes/origin", "string", "git@github.com:acme/vision.git"),
      f("source_code/diff", "file", file("diff.patch")),
      f("source_code/requirements", "file", file("requirements.txt")),
      f("source_code/files/train_py", "file", file("train.py")),
      f("source_code/files/data_py", "file", file("data.py")),
    ]);
    expect(info).toMatchObject({
      commit: "0123456789abcdef0123456789abcdef01234567",
      branch: "main",
      detached: false,
      dirty: true,
      message: "Tune lr\n\nlonger body",
      author: "Ada",
      authorEmail: "ada@example.org",
      commitTime: "2026-12-01T10:00:00Z",
      remoteUrl: "git@github.com:acme/vision.git",
    });
    expect(info?.diff?.name).toBe("diff.patch");
    expect(info?.requirements?.name).toBe("requirements.txt");
    expect(info?.files.map((x) => x.file.name)).toEqual(["data.py", "train.py"]);
  });

  it("is null for a run without source fields, and keeps an unknown dirty state unknown", () => {
    expect(sourceInfoOf([f("params/lr", "float", 0.1), f("source_code/notebook/path", "string", "a.ipynb")])).toBeNull();
    const info = sourceInfoOf([f("source_code/git/note", "string", "too many files to check")]);
    expect(info).toEqual({ note: "too many files to check", detached: false, files: [] });
    expect(info?.dirty).toBeUndefined();
  });
});

describe("remote addresses", () => {
  const sha = "0123456789abcdef0123456789abcdef01234567";
  it("links a commit on the known hosts, from https, ssh and scp-like addresses", () => {
    expect(commitUrl("https://github.com/acme/vision.git", sha)).toBe(`https://github.com/acme/vision/commit/${sha}`);
    expect(commitUrl("git@github.com:acme/vision.git", sha)).toBe(`https://github.com/acme/vision/commit/${sha}`);
    expect(commitUrl("ssh://git@gitlab.com:2222/group/sub/proj.git", sha)).toBe(`https://gitlab.com/group/sub/proj/-/commit/${sha}`);
    expect(commitUrl("https://bitbucket.org/team/repo", sha)).toBe(`https://bitbucket.org/team/repo/commits/${sha}`);
    expect(commitUrl("https://GitHub.com/acme/vision/", sha)).toBe(`https://github.com/acme/vision/commit/${sha}`);
  });

  it("gives no link for other hosts, local paths or a commit that is not a hash", () => {
    expect(commitUrl("https://git.internal.example/acme/vision.git", sha)).toBeNull();
    expect(commitUrl("/srv/git/vision.git", sha)).toBeNull();
    expect(commitUrl("file:///srv/git/vision.git", sha)).toBeNull();
    expect(commitUrl("https://github.com/acme/vision.git", "main")).toBeNull();
    expect(commitUrl("https://github.com/acme/vision.git", "<script>")).toBeNull();
    expect(commitUrl("https://github.com/acme/../../evil", sha)).toBeNull();
  });

  it("never shows credentials of an address", () => {
    expect(displayRemote("https://ghp_secret@github.com/acme/vision.git")).toBe("https://github.com/acme/vision.git");
    expect(displayRemote("https://user:pass@host/x.git")).toBe("https://host/x.git");
    expect(displayRemote("ssh://git:pw@host/x.git")).toBe("ssh://git@host/x.git");
    expect(displayRemote("git@github.com:acme/vision.git")).toBe("git@github.com:acme/vision.git");
  });
});

describe("unified diffs", () => {
  const patch = [
    "diff --git a/train.py b/train.py",
    "index 83db48f..bf269f4 100644",
    "--- a/train.py",
    "+++ b/train.py",
    "@@ -1,3 +1,3 @@",
    " import torch",
    "-lr = 0.1",
    "--- a comment line that was removed",
    "+lr = 0.01",
    "+++ an added line starting with pluses",
    "diff --git a/data.py b/data.py",
    "--- a/data.py",
    "+++ b/data.py",
    "@@ -10 +10 @@",
    "-x",
    "+y",
  ];
  it("classifies lines by hunk, so content lines like headers stay content", () => {
    expect(classifyDiff(patch)).toEqual([
      "file", "file", "file", "file", "hunk", "context", "del", "del", "add", "add",
      "file", "file", "file", "hunk", "del", "add",
    ]);
  });
  it("counts files and changed lines", () => {
    expect(diffStats(patch)).toEqual({ files: 2, added: 3, removed: 3 });
    expect(diffStats([])).toEqual({ files: 0, added: 0, removed: 0 });
  });
});
