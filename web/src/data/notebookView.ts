// The notebook pages' view lives in the URL so that a checkpoint or a diff can be shared:
//   /p/{ws}/{project}/notebooks                               every notebook of the project
//   /p/{ws}/{project}/notebooks/checkpoints?path=NAME         one notebook's checkpoints
//   /p/{ws}/{project}/notebooks/view?path=NAME[&id=SHA256]    a checkpoint (default: the latest)
//   /p/{ws}/{project}/notebooks/diff?path=NAME&from=ID&to=ID[&layout=split]
//                                                             two checkpoints, cell by cell
//                                                             (unified, or side by side)

export const NOTEBOOK_PAGES = ["list", "checkpoints", "view", "diff"] as const;
export type NotebookPage = (typeof NOTEBOOK_PAGES)[number];

export interface NotebookQuery {
  path: string;
  id: string;
  from: string;
  to: string;
  layout: DiffLayout;
}

export type DiffLayout = "unified" | "split";

/** The notebook page named by the path segments after /p/{ws}/{project}/notebooks, or null. */
export function notebookPageOf(rest: string[]): NotebookPage | null {
  if (rest.length === 0) return "list";
  if (rest.length === 1 && rest[0] !== "list" && (NOTEBOOK_PAGES as readonly string[]).includes(rest[0]!)) {
    return rest[0] as NotebookPage;
  }
  return null;
}

export function parseNotebookQuery(search: string): NotebookQuery {
  const p = new URLSearchParams(search);
  return {
    path: p.get("path") ?? "",
    id: p.get("id") ?? "",
    from: p.get("from") ?? "",
    to: p.get("to") ?? "",
    layout: p.get("layout") === "split" ? "split" : "unified",
  };
}

function query(params: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? "?" + s : "";
}

const base = (ws: string, project: string) => `/p/${encodeURIComponent(ws)}/${encodeURIComponent(project)}/notebooks`;

export const notebookPaths = {
  list: base,
  checkpoints: (ws: string, project: string, path: string) => `${base(ws, project)}/checkpoints${query({ path })}`,
  view: (ws: string, project: string, path: string, id?: string) => `${base(ws, project)}/view${query({ path, id })}`,
  diff: (ws: string, project: string, path: string, from: string, to: string, layout: DiffLayout = "unified") =>
    `${base(ws, project)}/diff${query({ path, from, to, layout: layout === "split" ? "split" : undefined })}`,
};
