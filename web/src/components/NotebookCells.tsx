// Draws a parsed notebook (data/notebook.ts). Markdown cells and HTML outputs come from whoever
// uploaded the notebook, so they are rendered with marked and then always sanitised with
// DOMPurify before they reach the DOM; everything else is drawn as text, images only from the
// base64 data URLs the parser built.
import DOMPurify from "dompurify";
import { marked } from "marked";
import { useMemo } from "preact/hooks";
import "./notebook.css";
import type { CellOutput, NotebookCell, NotebookModel } from "../data/notebook";

let hooked = false;
function sanitize(html: string): string {
  if (!hooked) {
    // Links in a notebook lead away from the UI: open them in a new tab, without an opener.
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A" && node.getAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    });
    hooked = true;
  }
  return DOMPurify.sanitize(html);
}

export function renderMarkdown(src: string): string {
  return sanitize(marked.parse(src, { async: false, gfm: true }) as string);
}

function Output(props: { o: CellOutput }) {
  const o = props.o;
  switch (o.kind) {
    case "stream":
      return <pre class={`nb-out nb-stream${o.name === "stderr" ? " stderr" : ""}`}>{o.text}</pre>;
    case "text":
      return <pre class="nb-out">{o.text}</pre>;
    case "image":
      return <img class="nb-out nb-image" data-testid="nb-image" src={o.src} alt={`${o.mime} output`} />;
    case "html":
      return <div class="nb-out nb-html" dangerouslySetInnerHTML={{ __html: sanitize(o.html) }} />;
    case "error":
      return (
        // The traceback ends with "ename: evalue" already; without one, that line is all there is.
        <pre class="nb-out nb-error" data-testid="nb-error">
          {o.traceback || `${o.ename}: ${o.evalue}`}
        </pre>
      );
    case "unsupported":
      return <p class="nb-out muted small">(an output this page does not draw: {o.what})</p>;
  }
}

function Cell(props: { cell: NotebookCell }) {
  const c = props.cell;
  const html = useMemo(() => (c.type === "markdown" ? renderMarkdown(c.source) : ""), [c.type, c.source]);
  if (c.type === "markdown") {
    return <div class="nb-cell nb-markdown" data-testid="nb-markdown" data-index={c.index} dangerouslySetInnerHTML={{ __html: html }} />;
  }
  if (c.type === "raw") return <pre class="nb-cell nb-raw" data-index={c.index}>{c.source}</pre>;
  return (
    <div class="nb-cell nb-code" data-testid="nb-code" data-index={c.index}>
      <div class="nb-prompt mono">[{c.executionCount ?? " "}]</div>
      <div class="nb-body">
        <pre class="nb-source" data-testid="nb-source">{c.source}</pre>
        {c.outputs.map((o, i) => (
          <Output key={i} o={o} />
        ))}
      </div>
    </div>
  );
}

export function NotebookCells(props: { model: NotebookModel }) {
  return (
    <div class="notebook" data-testid="notebook">
      {props.model.cells.length === 0 && <p class="muted">This checkpoint has no cells.</p>}
      {props.model.cells.map((c) => (
        <Cell key={c.index} cell={c} />
      ))}
    </div>
  );
}
