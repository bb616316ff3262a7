// Where a run's code came from: the fields the clients record under source_code/ (the C++
// client's git capture, src/client/git_info.cc; the Python package's source files and
// requirements), gathered for the run page's Source section.
import type { Field, FileRef } from "../api/types";

export interface SourceInfo {
  commit?: string;
  branch?: string;
  detached: boolean;
  /** Unknown when the client gave up checking (a huge working tree); see `note`. */
  dirty?: boolean;
  message?: string;
  author?: string;
  authorEmail?: string;
  commitTime?: string;
  remoteUrl?: string;
  root?: string;
  note?: string;
  /** The uncommitted changes against the commit, as a patch. */
  diff?: FileRef;
  requirements?: FileRef;
  /** Source files uploaded with the run, by field path. */
  files: { path: string; file: FileRef }[];
}

const GIT = "source_code/git/";
const FILES = "source_code/files/";

function isFileRef(v: unknown): v is FileRef {
  return typeof v === "object" && v !== null && "sha256" in v && "name" in v;
}

/** The run's source info, or null when it recorded none. */
export function sourceInfoOf(fields: Field[]): SourceInfo | null {
  const info: SourceInfo = { detached: false, files: [] };
  let any = false;
  for (const f of fields) {
    if (f.path.startsWith(GIT)) {
      const v = f.value;
      const s = typeof v === "string" ? v : undefined;
      switch (f.path.slice(GIT.length)) {
        case "commit": info.commit = s; break;
        case "branch": info.branch = s; break;
        case "detached": info.detached = v === true; break;
        case "dirty": info.dirty = typeof v === "boolean" ? v : undefined; break;
        case "message": info.message = s; break;
        case "author": info.author = s; break;
        case "author_email": info.authorEmail = s; break;
        case "commit_time": info.commitTime = s; break;
        case "remote_url": info.remoteUrl = s; break;
        case "root": info.root = s; break;
        case "note": info.note = s; break;
        default: continue; // remotes/<name>: remote_url is the one shown
      }
      any = true;
    } else if (f.path === "source_code/diff" && isFileRef(f.value)) {
      info.diff = f.value;
      any = true;
    } else if (f.path === "source_code/requirements" && isFileRef(f.value)) {
      info.requirements = f.value;
      any = true;
    } else if (f.path.startsWith(FILES) && f.type === "file" && isFileRef(f.value)) {
      info.files.push({ path: f.path, file: f.value });
      any = true;
    }
  }
  info.files.sort((a, b) => a.path.localeCompare(b.path));
  return any ? info : null;
}

/** A remote's address without credentials (a user name over http(s) can be a token). */
export function displayRemote(url: string): string {
  return url.replace(/^(https?:\/\/)[^/@]*@/i, "$1").replace(/^(ssh:\/\/[^/:@]+):[^/@]*@/i, "$1@");
}

// Hosts whose commit pages have a known address; others get no link.
const COMMIT_PATHS: Record<string, string> = {
  "github.com": "/commit/",
  "gitlab.com": "/-/commit/",
  "bitbucket.org": "/commits/",
  "codeberg.org": "/commit/",
};

/** The web page of `commit` on the remote's host, for the hosts above; null otherwise. */
export function commitUrl(remote: string, commit: string): string | null {
  if (!/^[0-9a-f]{7,64}$/i.test(commit)) return null;
  // https://host/owner/repo(.git), ssh://git@host(:port)/owner/repo(.git), git@host:owner/repo(.git)
  const m =
    /^(?:https?|ssh|git):\/\/(?:[^@/]*@)?([^/:]+)(?::\d+)?\/(.+?)(?:\.git)?\/?$/i.exec(remote) ??
    /^[^@/\s]+@([^:/]+):(?!\/)(.+?)(?:\.git)?\/?$/.exec(remote);
  const [, hostPart, repoPath] = m ?? [];
  if (!hostPart || !repoPath) return null;
  const host = hostPart.toLowerCase();
  const suffix = COMMIT_PATHS[host];
  const segments = repoPath.split("/");
  const plain = segments.length >= 2 && segments.every((x) => /^[\w.-]+$/.test(x) && x !== "." && x !== "..");
  if (!suffix || !plain) return null;
  return `https://${host}/${repoPath}${suffix}${commit}`;
}

export type DiffLineKind = "file" | "hunk" | "add" | "del" | "context";

/**
 * How each line of a unified diff is shown. Within a hunk a line is what its first character
 * says (so a removed line "-- x" is a removal, not a file header); outside one it is a header.
 */
export function classifyDiff(lines: string[]): DiffLineKind[] {
  let inHunk = false;
  return lines.map((line) => {
    if (line.startsWith("diff ")) {
      inHunk = false;
      return "file";
    }
    if (line.startsWith("@@")) {
      inHunk = true;
      return "hunk";
    }
    if (!inHunk) return "file";
    if (line.startsWith("+")) return "add";
    if (line.startsWith("-")) return "del";
    return "context";
  });
}

/** Files changed and lines added and removed by a unified diff. */
export function diffStats(lines: string[]): { files: number; added: number; removed: number } {
  const kinds = classifyDiff(lines);
  return {
    files: lines.filter((l) => l.startsWith("diff ")).length,
    added: kinds.filter((k) => k === "add").length,
    removed: kinds.filter((k) => k === "del").length,
  };
}
