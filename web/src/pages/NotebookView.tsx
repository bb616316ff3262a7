// One checkpoint of a notebook, rendered: markdown (sanitised), code with its outputs. Without
// ?id= the latest checkpoint is shown, so a notebook's link always opens its current state.
import { notebooksApi } from "../api/notebooks";
import { Link } from "../components/Link";
import { NotebookCells } from "../components/NotebookCells";
import { fmtBytes, fmtTime } from "../data/format";
import { parseNotebook } from "../data/notebook";
import { notebookPaths, parseNotebookQuery } from "../data/notebookView";
import { useAsync } from "../data/useAsync";
import { NotebookCrumbs, shortId, type NotebookPageProps } from "./Notebooks";

export function NotebookViewPage(props: NotebookPageProps) {
  const { workspace: ws, project: p } = props;
  const { path, id } = parseNotebookQuery(props.search);
  const loaded = useAsync(
    async (signal) => {
      const { checkpoints } = await notebooksApi.checkpoints(ws, p, path, signal);
      const at = id ? checkpoints.findIndex((c) => c.id === id) : checkpoints.length - 1;
      if (at < 0) throw new Error(`notebook '${path}' has no checkpoint ${id}`);
      const cp = checkpoints[at]!;
      const model = parseNotebook(await notebooksApi.checkpoint(ws, p, path, cp.id, signal));
      return { cp, prev: checkpoints[at - 1], next: checkpoints[at + 1], total: checkpoints.length, model };
    },
    [ws, p, path, id],
  );
  if (!path) return <p class="error page">No notebook named: the URL needs ?path=.</p>;
  const d = loaded.data;
  return (
    <div class="page notebook-page">
      <NotebookCrumbs workspace={ws} project={p} path={path}>
        {d && <span class="muted"> · checkpoint #{d.cp.number} of {d.total}</span>}
      </NotebookCrumbs>
      {loaded.error && <p class="error">{loaded.error.message}</p>}
      {d && (
        <>
          <p class="muted small" data-testid="checkpoint-info">
            created {fmtTime(d.cp.creation_time)} by {d.cp.created_by} · {fmtBytes(d.cp.size)} · {d.model.language} ·{" "}
            <span class="mono" title={d.cp.id}>{shortId(d.cp.id)}</span>
          </p>
          <p class="nb-nav">
            {d.prev && <Link href={notebookPaths.view(ws, p, path, d.prev.id)}>← #{d.prev.number}</Link>}
            {d.next && <Link href={notebookPaths.view(ws, p, path, d.next.id)}>#{d.next.number} →</Link>}
            {d.prev && <Link href={notebookPaths.diff(ws, p, path, d.prev.id, d.cp.id)}>diff with #{d.prev.number}</Link>}
            <Link href={notebookPaths.checkpoints(ws, p, path)}>all checkpoints</Link>
          </p>
          <NotebookCells model={d.model} />
        </>
      )}
    </div>
  );
}
