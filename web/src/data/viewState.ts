// The runs table's view lives in the URL query so that a link reproduces it exactly:
//   ?filter=<expression>&sort=<field>&order=asc|desc&cols=<field>,<field>&trash=1
// (trash=1: the project's trash instead of its runs table)
// Defaults are left out so that the plain project URL stays short.

export interface RunsView {
  filter: string;
  sort: string;
  order: "asc" | "desc";
  columns: string[];
  trash: boolean;
}

export const DEFAULT_VIEW: RunsView = { filter: "", sort: "sys/creation_time", order: "desc", columns: [], trash: false };

export function parseView(search: string): RunsView {
  const p = new URLSearchParams(search);
  const order = p.get("order");
  const cols = p.get("cols");
  return {
    filter: p.get("filter") ?? DEFAULT_VIEW.filter,
    sort: p.get("sort") || DEFAULT_VIEW.sort,
    order: order === "asc" || order === "desc" ? order : DEFAULT_VIEW.order,
    columns: cols ? [...new Set(cols.split(",").filter((c) => c.length > 0))] : [],
    trash: p.get("trash") === "1",
  };
}

export function viewToSearch(v: RunsView): string {
  const p = new URLSearchParams();
  if (v.filter.trim()) p.set("filter", v.filter);
  if (v.sort !== DEFAULT_VIEW.sort) p.set("sort", v.sort);
  if (v.order !== DEFAULT_VIEW.order) p.set("order", v.order);
  // A path containing ',' cannot be a column (the API splits on it); drop it rather than corrupt.
  const cols = v.columns.filter((c) => !c.includes(","));
  if (cols.length) p.set("cols", cols.join(","));
  if (v.trash) p.set("trash", "1");
  const s = p.toString();
  return s ? "?" + s : "";
}

/** Clicking a column header: a new column sorts descending, the same one flips its order. */
export function toggleSort(v: RunsView, field: string): RunsView {
  if (v.sort === field) return { ...v, order: v.order === "desc" ? "asc" : "desc" };
  return { ...v, sort: field, order: "desc" };
}

/** Compare view: ?runs=A,B,C (at most 50) and the optional series path shown first. */
export function parseCompare(search: string): { runs: string[]; path: string | null } {
  const p = new URLSearchParams(search);
  const runs = (p.get("runs") ?? "").split(",").filter(Boolean);
  return { runs: [...new Set(runs)].slice(0, MAX_COMPARE), path: p.get("path") };
}

export function compareToSearch(runs: readonly string[], path?: string | null): string {
  const p = new URLSearchParams();
  p.set("runs", runs.slice(0, MAX_COMPARE).join(","));
  if (path) p.set("path", path);
  return "?" + p.toString();
}

export const MAX_COMPARE = 50;

/** Chart options in the URL (run and compare pages): ?x=wall|relative&log=1&ema=0.9 */
export interface ChartView {
  xMode: "step" | "wall" | "relative";
  logY: boolean;
  smoothing: number;
}

export function parseChartView(search: string): ChartView {
  const p = new URLSearchParams(search);
  const x = p.get("x");
  const e = Number(p.get("ema") ?? "0");
  return {
    xMode: x === "wall" || x === "relative" ? x : "step",
    logY: p.get("log") === "1",
    smoothing: Number.isFinite(e) && e > 0 && e < 1 ? e : 0,
  };
}

/** Writes the chart options into `search`, keeping its other parameters. */
export function chartViewToSearch(search: string, c: ChartView): string {
  const p = new URLSearchParams(search);
  if (c.xMode === "step") p.delete("x");
  else p.set("x", c.xMode);
  if (c.logY) p.set("log", "1");
  else p.delete("log");
  if (c.smoothing > 0) p.set("ema", String(c.smoothing));
  else p.delete("ema");
  const s = p.toString();
  return s ? "?" + s : "";
}
