// The app's routes as pure functions of the URL (no Preact): shared by the router and by the
// early request script inlined into index.html (src/early/main.ts), which must not pull in the app.
import { notebookPageOf, notebookPaths, type NotebookPage } from "./data/notebookView";

export type Route =
  | { page: "projects" }
  | { page: "runs"; workspace: string; project: string }
  | { page: "run"; runId: string }
  | { page: "compare"; workspace: string; project: string }
  | { page: "notebooks"; workspace: string; project: string; sub: NotebookPage }
  | { page: "usage" }
  | { page: "notfound" };

export function parseRoute(pathname: string): Route {
  const seg = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (seg.length === 0) return { page: "projects" };
  if (seg[0] === "p" && seg.length === 3) return { page: "runs", workspace: seg[1]!, project: seg[2]! };
  if (seg[0] === "p" && seg.length === 4 && seg[3] === "compare")
    return { page: "compare", workspace: seg[1]!, project: seg[2]! };
  if (seg[0] === "p" && seg.length >= 4 && seg[3] === "notebooks") {
    const sub = notebookPageOf(seg.slice(4));
    if (sub) return { page: "notebooks", workspace: seg[1]!, project: seg[2]!, sub };
  }
  if (seg[0] === "runs" && seg.length === 2) return { page: "run", runId: seg[1]! };
  if (seg[0] === "usage" && seg.length === 1) return { page: "usage" };
  return { page: "notfound" };
}

export const paths = {
  projects: () => "/",
  runs: (ws: string, p: string) => `/p/${encodeURIComponent(ws)}/${encodeURIComponent(p)}`,
  compare: (ws: string, p: string) => `/p/${encodeURIComponent(ws)}/${encodeURIComponent(p)}/compare`,
  run: (id: string) => `/runs/${encodeURIComponent(id)}`,
  notebooks: notebookPaths.list,
  usage: () => "/usage",
};
