// On a run page: the code the run came from. The commit (linked to its page on a known host),
// branch, message, author and time; whether the working tree had uncommitted changes, and the
// patch of those changes, shown inline on request; the requirements and source files uploaded
// with the run.
import { useState } from "preact/hooks";
import { api, getBlob } from "../api/client";
import type { Field } from "../api/types";
import { fmtTime } from "../data/format";
import { classifyDiff, commitUrl, diffStats, displayRemote, sourceInfoOf } from "../data/sourceInfo";
import { FileLink } from "./Files";

// A patch longer than this shows its head; the whole is a download away.
const MAX_DIFF_LINES = 5000;

function DiffView(props: { lines: string[] }) {
  const shown = props.lines.slice(0, MAX_DIFF_LINES);
  const kinds = classifyDiff(shown);
  return (
    <>
      <pre class="diff" data-testid="source-diff">
        {shown.map((line, i) => (
          <div key={i} class={`diff-${kinds[i]}`}>
            {line || " "}
          </div>
        ))}
      </pre>
      {props.lines.length > shown.length && (
        <p class="muted small">
          Showing the first {shown.length.toLocaleString()} of {props.lines.length.toLocaleString()} lines; download the patch for the rest.
        </p>
      )}
    </>
  );
}

export function SourceInfo(props: { runId: string; fields: Field[] }) {
  const info = sourceInfoOf(props.fields);
  const [diff, setDiff] = useState<string[] | null>(null);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!info) return null;

  const toggleDiff = () => {
    setOpen(!open);
    if (diff || open) return;
    getBlob(api.fileUrl(props.runId, "source_code/diff"))
      .then((b) => b.text())
      .then((text) => setDiff(text.replace(/\n$/, "").split("\n")))
      .catch((e: Error) => setError(e.message));
  };
  const link = info.remoteUrl && info.commit ? commitUrl(info.remoteUrl, info.commit) : null;
  const [subject, ...body] = (info.message ?? "").split("\n");
  const stats = diff ? diffStats(diff) : null;

  return (
    <section data-testid="run-source">
      <h2>Source</h2>
      <dl class="source-info">
        {info.commit && (
          <>
            <dt>commit</dt>
            <dd>
              {link ? (
                <a class="mono" href={link} target="_blank" rel="noopener noreferrer" title={info.commit} data-testid="source-commit">
                  {info.commit.slice(0, 12)}
                </a>
              ) : (
                <span class="mono" title={info.commit} data-testid="source-commit">
                  {info.commit.slice(0, 12)}
                </span>
              )}{" "}
              {info.detached ? <span class="badge">detached HEAD</span> : info.branch && <span class="badge">{info.branch}</span>}{" "}
              {info.dirty === true && (
                <span class="badge stale" data-testid="source-dirty">
                  uncommitted changes
                </span>
              )}
              {info.dirty === false && <span class="badge succeeded">clean</span>}
            </dd>
          </>
        )}
        {info.message && (
          <>
            <dt>message</dt>
            <dd title={body.join("\n").trim() || undefined}>{subject}</dd>
          </>
        )}
        {(info.author || info.commitTime) && (
          <>
            <dt>author</dt>
            <dd>
              {info.author}
              {info.authorEmail && <span class="muted"> &lt;{info.authorEmail}&gt;</span>}
              {info.commitTime && <span class="muted"> · {fmtTime(info.commitTime)}</span>}
            </dd>
          </>
        )}
        {info.remoteUrl && (
          <>
            <dt>remote</dt>
            <dd class="mono">{displayRemote(info.remoteUrl)}</dd>
          </>
        )}
        {info.root && (
          <>
            <dt>working tree</dt>
            <dd class="mono">{info.root}</dd>
          </>
        )}
        {info.note && (
          <>
            <dt>note</dt>
            <dd class="muted">{info.note}</dd>
          </>
        )}
        {info.requirements && (
          <>
            <dt>requirements</dt>
            <dd>
              <FileLink runId={props.runId} path="source_code/requirements" file={info.requirements} />
            </dd>
          </>
        )}
        {info.files.length > 0 && (
          <>
            <dt>source files</dt>
            <dd>
              {info.files.map((x) => (
                <span key={x.path}>
                  <FileLink runId={props.runId} path={x.path} file={x.file} />{" "}
                </span>
              ))}
            </dd>
          </>
        )}
      </dl>
      {info.diff && (
        <div>
          <button class="link" onClick={toggleDiff} aria-expanded={open} data-testid="source-diff-toggle">
            {open ? "Hide" : "Show"} the uncommitted changes
          </button>
          <span class="muted small"> · download </span>
          <FileLink runId={props.runId} path="source_code/diff" file={info.diff} />
          {stats && (
            <span class="muted small" data-testid="source-diff-stats">
              {" "}
              {stats.files} {stats.files === 1 ? "file" : "files"}, +{stats.added} −{stats.removed}
            </span>
          )}
          {error && <p class="error">{error}</p>}
          {open && diff && <DiffView lines={diff} />}
        </div>
      )}
    </section>
  );
}
