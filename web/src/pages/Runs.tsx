// The runs table: server-side filter, sort and columns; rows fetched page by page as the user
// scrolls (by cursor next to loaded rows, by offset after a jump far away: data/rowWindow.ts);
// only the visible rows are in the DOM (@tanstack/virtual-core), so 100k runs
// scroll like 100. Scrolling re-renders only the grid body (RunsBody), never the toolbar, filter
// box or header, and rows already on screen skip re-rendering. The first page is small so the
// first rows come back quickly (the server's cost per page grows with its rows and columns);
// later pages are larger and requested well before the user reaches their end (docs/performance.md
// "Web UI in the browser"). With ?trash=1 the same table lists the project's trash, with Restore and
// Delete forever for the checked runs; the runs table moves checked runs to the trash.
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from "@tanstack/virtual-core";
import { Component } from "preact";
import type { RefObject } from "preact";
import { useCallback, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import { ApiError, api } from "../api/client";
import type { Run } from "../api/types";
import { FilterBox } from "../components/FilterBox";
import { Link } from "../components/Link";
import { StateBadge } from "../components/StateBadge";
import { Tags } from "../components/Tags";
import type { KnownField } from "../data/completion";
import { columnChoices, projectFields, SYS_FIELDS } from "../data/fields";
import { rowsToDraw } from "../data/drawRange";
import { emptyWindow, mergePage, planFetch, totalAfter, type RowFetch, type RowWindow } from "../data/rowWindow";
import { fmtNum, fmtTime } from "../data/format";
import { runsPageUrl } from "../data/runsQuery";
import { compareToSearch, MAX_COMPARE, parseView, toggleSort, viewToSearch, type RunsView } from "../data/viewState";
import { navigate, paths } from "../router";

const ROW_HEIGHT = 32;
/** Rows the virtualizer is told of before a new total (see RunsBody): a screen and then some. */
const FIRST_COUNT = 200;
const PAGE = 500;
/** Rows drawn beyond the visible ones either side while the table is still (see RunsBody). */
const OVERSCAN = 8;
/**
 * Rows drawn beyond the visible ones in the direction of a scroll, and behind it. A wheel scroll
 * is moved by the compositor thread while the main thread draws the rows coming in; on a busy
 * machine the main thread's rows can be a few frames behind (docs/performance.md, "wheel
 * gesture"), and the rows drawn ahead are what the compositor shows meanwhile: 24 rows are
 * 768 px, about four frames of a fast flick (200 px a frame).
 */
const AHEAD = 24;
const BEHIND = 4;
/** Rows beyond the rendered ones loaded before the user reaches them (FetchSizes.prefetch). */
const PREFETCH_ROWS = 300;

interface Column {
  key: string;
  label: string;
  sort?: string;
  width: number;
  cell: (r: Run) => unknown;
  /** The cell's class: a value goes straight into the cell, not into an element of its own. */
  cls?: string;
}

const BASE_COLUMNS: Column[] = [
  { key: "id", label: "Id", sort: "sys/id", width: 110, cell: (r) => <Link href={paths.run(r.id)}>{r.id}</Link> },
  { key: "name", label: "Name", sort: "sys/name", width: 180, cell: (r) => r.name },
  { key: "state", label: "State", sort: "sys/state", width: 100, cell: (r) => <StateBadge run={r} /> },
  { key: "created", label: "Created", sort: "sys/creation_time", width: 160, cell: (r) => fmtTime(r.creation_time) },
];

interface Rows {
  window: RowWindow<Run>;
  /** From the first page: later pages do not count the matches again. */
  total: number;
  loading: boolean;
  error: string | null;
  generation: number;
}

export function RunsPage(props: { workspace: string; project: string; search: string }) {
  const view = useMemo(() => parseView(props.search), [props.search]);
  const base = paths.runs(props.workspace, props.project);
  const setView = (v: RunsView) => navigate(base + viewToSearch(v), true);
  const [rows, setRows] = useState<Rows>({ window: emptyWindow(), total: 0, loading: true, error: null, generation: 0 });
  const [fields, setFields] = useState<KnownField[]>(SYS_FIELDS);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reloads, reload] = useReducer((x: number) => x + 1, 0);
  const [actionError, setActionError] = useState<string | null>(null);
  const gen = useRef(0);
  const columnsParam = view.columns.join(",");

  const shown = useRef<[number, number]>([0, 0]); // the first and last row the grid body renders
  // null: the first page (which also counts the matches).
  const loadPage = async (generation: number, fetch: RowFetch | null) => {
    setRows((r) => ({ ...r, loading: true }));
    try {
      const page = await api.runsAt(runsPageUrl(props.workspace, props.project, view, fetch));
      if (generation !== gen.current) return;
      setRows((r) => ({
        window: mergePage(fetch ? r.window : emptyWindow<Run>(), fetch ? fetch.start : 0, page.runs, page.next_cursor),
        total: page.total ?? (fetch ? totalAfter(r.total, fetch, page.runs.length, page.next_cursor) : r.total),
        loading: false,
        error: null,
        generation,
      }));
      // The project's whole field list (cheap on the server): refreshed with each first page, so
      // paths logged since show up.
      if (!fetch) projectFields(props.workspace, props.project).then((r) => setFields(r.fields), () => undefined);
    } catch (e) {
      if (generation !== gen.current) return;
      const msg = e instanceof ApiError ? e.message : String(e);
      setRows({ window: emptyWindow(), total: 0, loading: false, error: msg, generation });
    }
  };

  // A layout effect, not an effect: the request starts before the first paint instead of a frame
  // after it (a frame is long on a busy machine).
  useLayoutEffect(() => {
    gen.current++;
    void loadPage(gen.current, null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.workspace, props.project, view.filter, view.sort, view.order, columnsParam, view.trash, reloads]);

  // Kept across renders while the column list is the same, so rows can compare it by identity.
  const columns: Column[] = useMemo(() => [
    ...BASE_COLUMNS,
    ...view.columns.map((c) => ({ key: c, label: c, sort: c, width: 140, cls: "cell num", cell: (r: Run) => fmtNum(r.columns?.[c]) })),
    {
      key: "tags",
      label: "Tags",
      width: 260,
      cell: (r: Run) => (
        <Tags
          runId={r.id}
          tags={r.tags}
          onChange={(tags) =>
            setRows((s) => ({ ...s, window: { ...s.window, rows: s.window.rows.map((x) => (x?.id === r.id ? { ...x, tags } : x)) } }))
          }
        />
      ),
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
  ], [columnsParam]);
  // Each cell's width, by its place in the row: rows and cells carry no inline style of their own,
  // so Blink computes one row's style and shares it with the others.
  const widths = [36, ...columns.map((c) => c.width)].map((w, i) => `.grid-row > :nth-child(${i + 1}) { width: ${w}px; }`).join("\n");
  // Rows are as wide as their columns (or the table, when wider): a narrower row would draw its
  // border and its selected background short of its last cells.
  const rowWidth = 36 + columns.reduce((w, c) => w + c.width, 0);

  // The grid body reports the last row it renders; the next page is requested from here (with the
  // newest state, through refs: the callback is made once so the body need not re-render).
  const scrollRef = useRef<HTMLDivElement>(null);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const loadRef = useRef(loadPage);
  loadRef.current = loadPage;
  const needRows = useMemo(
    () => () => {
      const r = rowsRef.current;
      if (r.loading || r.error) return;
      const fetch = planFetch(r.window, r.total, shown.current[0], shown.current[1], { page: PAGE, prefetch: PREFETCH_ROWS });
      if (fetch) void loadRef.current(gen.current, fetch);
    },
    [],
  );
  const onRange = useMemo(
    () => (firstIndex: number, lastIndex: number) => {
      shown.current = [firstIndex, lastIndex];
      needRows();
    },
    [needRows],
  );
  useEffect(needRows, [rows, needRows]);

  const toggle = useCallback(
    (id: string) =>
      setSelected((s) => {
        const n = new Set(s);
        if (n.has(id)) n.delete(id);
        else if (n.size < MAX_COMPARE) n.add(id);
        return n;
      }),
    [],
  );
  // Trash, restore or delete the checked runs; the table is reloaded from the server after it.
  const change = async (action: "trash" | "restore" | "delete") => {
    const ids = [...selected];
    if (action === "delete" && !window.confirm(`Delete ${ids.length} run(s) forever? Their data and files cannot be restored.`)) return;
    try {
      await api.changeRuns(props.workspace, props.project, action, ids);
      setActionError(null);
      setSelected(new Set());
      reload(0);
    } catch (e) {
      setActionError(e instanceof ApiError ? e.message : String(e));
    }
  };
  const openTrash = (trash: boolean) => {
    setSelected(new Set());
    setActionError(null);
    setView({ ...view, trash });
  };
  const choices = useMemo(() => columnChoices(fields).filter((c) => !view.columns.includes(c)), [fields, view.columns]);
  const [newCol, setNewCol] = useState("");

  return (
    <div class="runs-page">
      <div class="toolbar">
        <h1>
          <Link href={paths.projects()}>{props.workspace}</Link> / {props.project}
          {view.trash && " / Trash"}
        </h1>
        <span class="muted" data-testid="total">
          {rows.error ? "" : `${rows.total.toLocaleString()} ${view.trash ? "runs in the trash" : "runs"}`}
        </span>
        <Link href={paths.notebooks(props.workspace, props.project)}>Notebooks</Link>
        {!view.trash && (
          <button
            class="primary"
            disabled={selected.size < 1}
            onClick={() => navigate(paths.compare(props.workspace, props.project) + compareToSearch([...selected]))}
          >
            Compare {selected.size || ""}
          </button>
        )}
        {!view.trash && selected.size > 0 && <button onClick={() => void change("trash")}>Move to trash</button>}
        {view.trash && (
          <button class="primary" disabled={selected.size < 1} onClick={() => void change("restore")}>
            Restore {selected.size || ""}
          </button>
        )}
        {view.trash && (
          <button class="danger" disabled={selected.size < 1} onClick={() => void change("delete")}>
            Delete forever {selected.size || ""}
          </button>
        )}
        {selected.size > 0 && <button onClick={() => setSelected(new Set())}>Clear selection</button>}
        <button class="link" data-testid="trash-toggle" onClick={() => openTrash(!view.trash)}>
          {view.trash ? "Back to runs" : "Trash"}
        </button>
        <form
          class="add-column"
          onSubmit={(e) => {
            e.preventDefault();
            const c = newCol.trim();
            if (c && !view.columns.includes(c)) setView({ ...view, columns: [...view.columns, c] });
            setNewCol("");
          }}
        >
          <input list="column-choices" name="column" placeholder="add column: params/lr, train/loss:last" value={newCol} onInput={(e) => setNewCol((e.target as HTMLInputElement).value)} />
          <datalist id="column-choices">
            {choices.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </form>
      </div>
      {actionError && (
        <p class="error" role="alert">
          {actionError}
        </p>
      )}
      <FilterBox value={view.filter} fields={fields} error={rows.error} onApply={(filter) => setView({ ...view, filter })} />
      <style>{widths}</style>
      {/* A table to assistive technology: the DOM holds the drawn rows in slot order, not in the
          table's order (see RunsBody), so each row says its place (aria-rowindex; the header is
          row 1) and the table its length. */}
      <div
        class="grid-scroll"
        ref={scrollRef}
        data-testid="runs-scroll"
        role="table"
        aria-label={view.trash ? "runs in the trash" : "runs"}
        aria-rowcount={rows.total + 1}
        style={{ "--row-min": rowWidth + "px" }}
      >
        <div class="grid-row grid-head" role="row" aria-rowindex={1}>
          <span role="columnheader" aria-label="select" />
          {columns.map((c) => (
            <span
              key={c.key}
              role="columnheader"
              aria-sort={c.sort && c.sort === view.sort ? (view.order === "desc" ? "descending" : "ascending") : undefined}
              class={"head" + (c.sort ? " sortable" : "") + (c.sort === view.sort ? " sorted" : "")}
              data-sort={c.sort}
              title={c.sort ? `sort by ${c.sort}` : undefined}
              onClick={() => c.sort && setView(toggleSort(view, c.sort))}
            >
              <span class="label">
                {c.label}
                {c.sort === view.sort ? (view.order === "desc" ? " ▼" : " ▲") : ""}
              </span>
              {view.columns.includes(c.key) && (
                <button
                  class="link col-x"
                  title="remove column"
                  onClick={(e) => {
                    e.stopPropagation();
                    setView({ ...view, columns: view.columns.filter((x) => x !== c.key) });
                  }}
                >
                  ×
                </button>
              )}
            </span>
          ))}
        </div>
        <RunsBody
          scrollRef={scrollRef}
          runs={rows.window.rows}
          total={rows.total}
          columns={columns}
          selected={selected}
          onToggle={toggle}
          onRange={onRange}
        />
        {!rows.loading && !rows.error && rows.total === 0 && <p class="muted pad">{view.trash ? "The trash is empty." : "No runs match."}</p>}
      </div>
    </div>
  );
}

interface BodyProps {
  scrollRef: RefObject<HTMLDivElement>;
  runs: (Run | undefined)[];
  total: number;
  columns: Column[];
  selected: Set<string>;
  onToggle: (id: string) => void;
  onRange: (firstIndex: number, lastIndex: number) => void;
}

// The virtualised rows. The virtualizer's scroll updates re-render this component only.
function RunsBody(props: BodyProps) {
  const [, rerender] = useReducer((x: number) => x + 1, 0);
  const virt = useMemo(() => {
    // The virtualizer, for its own range extractor (which needs the scroll's direction).
    const self: { v?: Virtualizer<HTMLDivElement, HTMLDivElement> } = {};
    self.v = new Virtualizer<HTMLDivElement, HTMLDivElement>({
        count: 0,
        getScrollElement: () => props.scrollRef.current,
        estimateSize: () => ROW_HEIGHT,
        overscan: OVERSCAN,
        // More rows ahead of a scroll than behind it (AHEAD). A row scrolling in takes the element
        // of one that scrolled out, so each frame still draws only the rows coming in.
        rangeExtractor: (range) =>
          rowsToDraw(range.startIndex, range.endIndex, range.count, self.v?.scrollDirection ?? null, { still: OVERSCAN, ahead: AHEAD, behind: BEHIND }),
        scrollToFn: elementScroll,
        observeElementRect,
        observeElementOffset,
        onChange: () => rerender(0),
      });
    return self.v;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  // The virtualizer measures every row whenever its count changes (an object per row: ~20 ms of
  // script and as much again in garbage collection for 100k runs, in the first rows' critical
  // path). A new total is therefore given to it in two steps: first only as many rows as a
  // screen and a first page hold, so the first rows are drawn at once, then the whole count right
  // after that frame is painted. The body is sized from the total throughout, so the scrollbar
  // never jumps.
  const [fullTotal, setFullTotal] = useState(props.total);
  const count = fullTotal === props.total ? props.total : Math.min(props.total, FIRST_COUNT);
  useEffect(() => setFullTotal(props.total), [props.total]);
  if (virt.options.count !== count) virt.setOptions({ ...virt.options, count });
  // Before paint, so that the scroll element's size is known to the rows' first render.
  useLayoutEffect(() => virt._didMount(), [virt]);
  useLayoutEffect(() => virt._willUpdate());
  const items = virt.getVirtualItems();
  const firstIndex = items.length ? items[0]!.index : 0;
  const lastIndex = items.length ? items[items.length - 1]!.index : 0;
  useEffect(() => props.onRange(firstIndex, lastIndex), [firstIndex, lastIndex, props.onRange]);
  const { runs, selected } = props;
  const slots = useRef(new Map<number, number>());
  // Each row keeps its own fixed place (a transform by its index) for as long as it is drawn, so
  // scrolling leaves the rows on screen untouched: nothing about them changes, so Blink neither
  // repaints nor re-rasters them and only the rows scrolling in are new. (Rows in flow inside one
  // moved block were tried: every move of the block re-rastered all of its rows; so were rows in
  // flow after a spacer: twice the paint.) A row scrolling in takes the element of one that
  // scrolled out (its slot): Blink then restyles nothing and lays out only the changed text,
  // where new elements cost style, layout objects and more paint. The DOM holds the rows in slot
  // order, not index order; they are placed by their transforms.
  return (
    <div class="grid-body" role="rowgroup" style={{ height: props.total * ROW_HEIGHT + "px" }}>
      {slotted(items, slots.current).map((it, slot) =>
        it ? (
          <Row
            key={slot}
            index={it.index}
            run={runs[it.index]}
            columns={props.columns}
            selected={!!runs[it.index] && selected.has(runs[it.index]!.id)}
            onToggle={props.onToggle}
          />
        ) : null,
      )}
    </div>
  );
}

/**
 * `items` placed in slots: a row keeps its slot while it is drawn and a row scrolling in takes a
 * slot that one scrolling out left. `slotOf` (index → slot) is updated to the new placement.
 */
function slotted<T extends { index: number }>(items: T[], slotOf: Map<number, number>): (T | null)[] {
  const out: (T | null)[] = [];
  const placed = new Map<number, number>();
  for (const it of items) {
    const s = slotOf.get(it.index);
    if (s !== undefined) {
      placed.set(it.index, s);
      out[s] = it;
    }
  }
  let free = 0;
  for (const it of items) {
    if (placed.has(it.index)) continue;
    while (out[free]) free++;
    placed.set(it.index, free);
    out[free] = it;
  }
  slotOf.clear();
  for (const [i, s] of placed) slotOf.set(i, s);
  for (let s = 0; s < out.length; s++) if (!out[s]) out[s] = null;
  return out;
}

interface RowProps {
  index: number;
  run: Run | undefined;
  columns: Column[];
  selected: boolean;
  onToggle: (id: string) => void;
}

// While scrolling, rows already on screen keep their props; skipping their re-render leaves each
// frame only the rows that scrolled in.
class Row extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    const p = this.props;
    return (
      next.run !== p.run ||
      next.index !== p.index ||
      next.selected !== p.selected ||
      next.columns !== p.columns ||
      next.onToggle !== p.onToggle
    );
  }

  override render() {
    const { index, run: r, columns, selected } = this.props;
    return (
      <div
        class={"grid-row" + (selected ? " selected" : "")}
        data-testid="run-row"
        data-run-id={r?.id}
        data-index={index}
        role="row"
        aria-rowindex={index + 2}
        style={{ transform: `translateY(${index * ROW_HEIGHT}px)` }}
      >
        {r ? (
          <>
            <span role="cell">
              <input type="checkbox" aria-label={`select ${r.id}`} checked={selected} onChange={() => this.props.onToggle(r.id)} />
            </span>
            {columns.map((c) => (
              <span key={c.key} role="cell" class={c.cls ?? "cell"}>
                {c.cell(r) as never}
              </span>
            ))}
          </>
        ) : (
          <span class="muted" role="cell" aria-busy="true">
            …
          </span>
        )}
      </div>
    );
  }
}
