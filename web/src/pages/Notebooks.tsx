// The notebooks of a project and the checkpoints of one notebook; the checkpoint and diff views
// are in NotebookView.tsx and NotebookDiff.tsx. Which page and notebook is in the URL
// (data/notebookView.ts).
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { notebooksApi } from "../api/notebooks";
import { Link } from "../components/Link";
import { fmtBytes, fmtTime } from "../data/format";
import { useAsync } from "../data/useAsync";
import { notebookPaths, parseNotebookQuery, type NotebookPage } from "../data/notebookView";
import { navigate, paths } from "../router";
import { NotebookDiffPage } from "./NotebookDiff";
import { NotebookViewPage } from "./NotebookView";

export interface NotebookPageProps {
  workspace: string;
  project: string;
  search: string;
}

/** "ws / project / notebooks / path" with links back up. */
export function NotebookCrumbs(props: { workspace: string; project: string; path?: string; children?: ComponentChildren }) {
  const { workspace: ws, project: p } = props;
  return (
    <h1 class="crumbs">
      <Link href={paths.runs(ws, p)}>{ws} / {p}</Link> / <Link href={notebookPaths.list(ws, p)}>notebooks</Link>
      {props.path && (
        <>
          {" / "}
          <Link href={notebookPaths.checkpoints(ws, p, props.path)}>{props.path}</Link>
        </>
      )}
      {props.children}
    </h1>
  );
}

export function shortId(id: string): string {
  return id.slice(0, 10);
}

export function NotebooksPage(props: NotebookPageProps & { sub: NotebookPage }) {
  if (props.sub === "view") return <NotebookViewPage {...props} />;
  if (props.sub === "diff") return <NotebookDiffPage {...props} />;
  if (props.sub === "checkpoints") return <CheckpointsPage {...props} />;
  return <NotebookListPage {...props} />;
}

function NotebookListPage(props: NotebookPageProps) {
  const { workspace: ws, project: p } = props;
  const list = useAsync((signal) => notebooksApi.list(ws, p, signal), [ws, p]);
  return (
    <div class="page">
      <NotebookCrumbs workspace={ws} project={p} />
      {list.error && <p class="error">{list.error.message}</p>}
      {list.data && list.data.notebooks.length === 0 && (
        <p class="muted">
          No notebooks yet. A Python run started in a notebook uploads it; so does{" "}
          <code>nereid notebook upload FILE --project {ws}/{p}</code>.
        </p>
      )}
      {list.data && list.data.notebooks.length > 0 && (
        <table class="plain" data-testid="notebooks">
          <thead>
            <tr><th>Notebook</th><th>Checkpoints</th><th>Last checkpoint</th><th>First</th></tr>
          </thead>
          <tbody>
            {list.data.notebooks.map((n) => (
              <tr key={n.path} data-path={n.path}>
                <td><Link href={notebookPaths.view(ws, p, n.path)}>{n.path}</Link></td>
                <td class="num"><Link href={notebookPaths.checkpoints(ws, p, n.path)}>{n.checkpoints}</Link></td>
                <td>{fmtTime(n.last_checkpoint_time)}</td>
                <td>{fmtTime(n.creation_time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function CheckpointsPage(props: NotebookPageProps) {
  const { workspace: ws, project: p } = props;
  const { path } = parseNotebookQuery(props.search);
  const list = useAsync((signal) => notebooksApi.checkpoints(ws, p, path, signal), [ws, p, path]);
  const cps = list.data?.checkpoints ?? [];
  // Default pair: the last two checkpoints.
  const [from, setFrom] = useState<string | null>(null);
  const [to, setTo] = useState<string | null>(null);
  const fromId = from ?? cps[cps.length - 2]?.id ?? "";
  const toId = to ?? cps[cps.length - 1]?.id ?? "";
  if (!path) return <p class="error page">No notebook named: the URL needs ?path=.</p>;
  return (
    <div class="page">
      <NotebookCrumbs workspace={ws} project={p} path={path} />
      {list.error && <p class="error">{list.error.message}</p>}
      {list.data && (
        <>
          <p>
            <button class="primary" data-testid="diff-selected" disabled={!fromId || !toId || fromId === toId}
              onClick={() => navigate(notebookPaths.diff(ws, p, path, fromId, toId))}>
              Diff selected
            </button>{" "}
            <span class="muted small">pick an older (from) and a newer (to) checkpoint</span>
          </p>
          <table class="plain" data-testid="checkpoints">
            <thead>
              <tr><th>#</th><th>from</th><th>to</th><th>Created</th><th>By</th><th>Size</th><th>Id</th><th></th></tr>
            </thead>
            <tbody>
              {[...cps].reverse().map((c) => {
                const prev = cps[cps.indexOf(c) - 1];
                return (
                  <tr key={c.id} data-number={c.number}>
                    <td class="num"><Link href={notebookPaths.view(ws, p, path, c.id)}>#{c.number}</Link></td>
                    <td><input type="radio" name="from" aria-label={`from #${c.number}`} checked={c.id === fromId} onChange={() => setFrom(c.id)} /></td>
                    <td><input type="radio" name="to" aria-label={`to #${c.number}`} checked={c.id === toId} onChange={() => setTo(c.id)} /></td>
                    <td>{fmtTime(c.creation_time)}</td>
                    <td>{c.created_by}</td>
                    <td class="num">{fmtBytes(c.size)}</td>
                    <td class="mono" title={c.id}>{shortId(c.id)}</td>
                    <td>{prev && <Link href={notebookPaths.diff(ws, p, path, prev.id, c.id)}>diff with #{prev.number}</Link>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
