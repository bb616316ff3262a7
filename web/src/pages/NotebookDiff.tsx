// Two checkpoints of a notebook compared cell by cell (the server aligns the cells; see
// data/notebookDiff.ts): unchanged runs folded, each added / removed / modified cell with a
// line diff of its source and text outputs, unified or side by side. The pair and the layout are
// in the URL (?from=&to=&layout=split).
import { notebooksApi } from "../api/notebooks";
import { Link } from "../components/Link";
import { diffRows, splitRows, type DiffLine, type DiffRow } from "../data/notebookDiff";
import { notebookPaths, parseNotebookQuery, type DiffLayout } from "../data/notebookView";
import { fmtTime } from "../data/format";
import { useAsync } from "../data/useAsync";
import { navigate } from "../router";
import { NotebookCrumbs, type NotebookPageProps } from "./Notebooks";

function Lines(props: { title: string; lines: DiffLine[]; layout: DiffLayout }) {
  if (props.layout === "split") {
    return (
      <div class="nb-diff-block">
        <div class="muted small">{props.title}</div>
        {props.lines.length === 0 && <pre class="nb-diff-lines muted">(empty)</pre>}
        <table class="nb-diff-split" data-testid="diff-split">
          <tbody>
            {splitRows(props.lines).map((r, i) => (
              <tr key={i}>
                <td class={r.left === null ? "none" : r.changed ? "del" : ""}>{r.left ?? ""}</td>
                <td class={r.right === null ? "none" : r.changed ? "ins" : ""}>{r.right ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <div class="nb-diff-block">
      <div class="muted small">{props.title}</div>
      <pre class="nb-diff-lines">
        {props.lines.length === 0 && <span class="muted">(empty)</span>}
        {props.lines.map((l, i) => (
          <div key={i} class={l.op === "+" ? "ins" : l.op === "-" ? "del" : ""}>
            {l.op} {l.text}
          </div>
        ))}
      </pre>
    </div>
  );
}

const cellNo = (i: number | null) => (i === null ? "" : `#${i + 1}`);

function Row(props: { row: DiffRow; layout: DiffLayout }) {
  const r = props.row;
  if (r.kind === "unchanged") {
    return (
      <div class="nb-diff-same muted small" data-testid="diff-unchanged">
        {r.count} unchanged cell{r.count === 1 ? "" : "s"}
      </div>
    );
  }
  const where =
    r.status === "added" ? `new cell ${cellNo(r.toIndex)}` : r.status === "removed" ? `cell ${cellNo(r.fromIndex)}` : `cell ${cellNo(r.fromIndex)} → ${cellNo(r.toIndex)}`;
  return (
    <div class={`nb-diff-cell ${r.status}`} data-testid="diff-cell" data-status={r.status}>
      <div class="nb-diff-head">
        <span class={`badge ${r.status}`}>{r.status}</span> {r.cellType} {where}
      </div>
      {r.source && <Lines title="source" lines={r.source} layout={props.layout} />}
      {r.outputs && <Lines title="outputs (text)" lines={r.outputs} layout={props.layout} />}
    </div>
  );
}

export function NotebookDiffPage(props: NotebookPageProps) {
  const { workspace: ws, project: p } = props;
  const { path, from, to, layout } = parseNotebookQuery(props.search);
  const cps = useAsync((signal) => notebooksApi.checkpoints(ws, p, path, signal), [ws, p, path]);
  const diff = useAsync(
    async (signal) => {
      const d = await notebooksApi.diff(ws, p, path, from, to, signal);
      return { summary: d.summary, rows: diffRows(d) };
    },
    [ws, p, path, from, to],
  );
  if (!path || !from || !to) return <p class="error page">The URL needs ?path=, from= and to= (checkpoint ids).</p>;
  const list = cps.data?.checkpoints ?? [];
  const pick = (which: "from" | "to", id: string) =>
    navigate(notebookPaths.diff(ws, p, path, which === "from" ? id : from, which === "to" ? id : to, layout));
  const select = (which: "from" | "to", value: string) => (
    <select name={which} value={value} onChange={(e) => pick(which, (e.target as HTMLSelectElement).value)}>
      {!list.some((c) => c.id === value) && <option value={value}>{value.slice(0, 10)}</option>}
      {list.map((c) => (
        <option key={c.id} value={c.id}>
          #{c.number} · {fmtTime(c.creation_time)}
        </option>
      ))}
    </select>
  );
  const s = diff.data?.summary;
  return (
    <div class="page notebook-page">
      <NotebookCrumbs workspace={ws} project={p} path={path}>
        <span class="muted"> · diff</span>
      </NotebookCrumbs>
      <p class="toolbar">
        from {select("from", from)} to {select("to", to)}
        <label class="inline">
          <input type="checkbox" name="split" checked={layout === "split"}
            onChange={(e) => navigate(notebookPaths.diff(ws, p, path, from, to, (e.target as HTMLInputElement).checked ? "split" : "unified"), true)} />
          side by side
        </label>
        <Link href={notebookPaths.view(ws, p, path, from)}>view from</Link>
        <Link href={notebookPaths.view(ws, p, path, to)}>view to</Link>
      </p>
      {(cps.error || diff.error) && <p class="error">{(diff.error ?? cps.error)!.message}</p>}
      {s && (
        <p data-testid="diff-summary">
          {s.modified} modified, {s.added} added, {s.removed} removed, {s.unchanged} unchanged
        </p>
      )}
      {diff.data && (
        <div class="nb-diff">
          {diff.data.rows.map((r, i) => (
            <Row key={i} row={r} layout={layout} />
          ))}
        </div>
      )}
    </div>
  );
}
